// A line diff (longest common subsequence) between two texts, and a stable text form of a
// workflow definition to diff: keys sorted, two-space indentation, one value per line.

export type DiffOp = 'same' | 'add' | 'del';

export interface DiffLine {
  op: DiffOp;
  text: string;
  /** line number in the old text (same, del) */
  a?: number;
  /** line number in the new text (same, add) */
  b?: number;
}

/** The lines of `after` against `before`: kept, added and removed, in order (removals before additions). */
export function lineDiff(before: string, after: string): DiffLine[] {
  const a = before === '' ? [] : before.split('\n');
  const b = after === '' ? [] : after.split('\n');
  // common prefix and suffix first: a definition's versions differ in a few lines
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const n = endA - start;
  const m = endB - start;
  // lcs[i][j]: length of the longest common subsequence of a[start+i..endA) and b[start+j..endB)
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    const row = lcs[i]!;
    const next = lcs[i + 1]!;
    for (let j = m - 1; j >= 0; j--) row[j] = a[start + i] === b[start + j] ? next[j + 1]! + 1 : Math.max(next[j]!, row[j + 1]!);
  }
  const out: DiffLine[] = [];
  for (let k = 0; k < start; k++) out.push({ op: 'same', text: a[k]!, a: k + 1, b: k + 1 });
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[start + i] === b[start + j]) {
      out.push({ op: 'same', text: a[start + i]!, a: start + i + 1, b: start + j + 1 });
      i++;
      j++;
    } else if (j >= m || (i < n && lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      out.push({ op: 'del', text: a[start + i]!, a: start + i + 1 });
      i++;
    } else {
      out.push({ op: 'add', text: b[start + j]!, b: start + j + 1 });
      j++;
    }
  }
  for (let k = 0; k < a.length - endA; k++) out.push({ op: 'same', text: a[endA + k]!, a: endA + k + 1, b: endB + k + 1 });
  return out;
}

function scalar(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return /^[\w./:@+-]+$/.test(v) && !/^(true|false|null|\d[\d.]*)$/.test(v) ? v : JSON.stringify(v);
  return String(v);
}

/** A YAML-like rendering with sorted keys, so that two versions differ only where they really do. */
export function definitionText(value: unknown, indent = ''): string {
  const lines: string[] = [];
  const walk = (v: unknown, pad: string, lead: string): void => {
    if (Array.isArray(v)) {
      if (!v.length) {
        lines.push(`${lead}[]`);
        return;
      }
      if (lead.trim()) lines.push(lead.trimEnd());
      for (const item of v) {
        if (item && typeof item === 'object' && !Array.isArray(item) && Object.keys(item).length) {
          const keys = Object.keys(item).sort();
          keys.forEach((k, n) => walk((item as Record<string, unknown>)[k], `${pad}  `, `${pad}${n === 0 ? '- ' : '  '}${k}: `));
        } else walk(item, `${pad}  `, `${pad}- `);
      }
      return;
    }
    if (v && typeof v === 'object') {
      const keys = Object.keys(v).sort();
      if (!keys.length) {
        lines.push(`${lead}{}`);
        return;
      }
      if (lead.trim()) lines.push(lead.trimEnd());
      for (const k of keys) walk((v as Record<string, unknown>)[k], `${pad}  `, `${pad}${k}: `);
      return;
    }
    if (typeof v === 'string' && v.includes('\n')) {
      lines.push(`${lead}|`);
      for (const l of v.split('\n')) lines.push(`${pad}${l}`);
      return;
    }
    lines.push(`${lead}${scalar(v)}`);
  };
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const k of Object.keys(value).sort()) walk((value as Record<string, unknown>)[k], `${indent}  `, `${indent}${k}: `);
  } else walk(value, indent, indent);
  return lines.join('\n');
}

export interface Skipped {
  op: 'skip';
  count: number;
}

/** The diff with runs of unchanged lines farther than `context` from a change folded into one "skip" entry. */
export function folded(diff: DiffLine[], context = 3): (DiffLine | Skipped)[] {
  const near = new Array<boolean>(diff.length).fill(false);
  diff.forEach((l, i) => {
    if (l.op === 'same') return;
    for (let k = Math.max(0, i - context); k <= Math.min(diff.length - 1, i + context); k++) near[k] = true;
  });
  const out: (DiffLine | Skipped)[] = [];
  let skipped = 0;
  diff.forEach((l, i) => {
    if (near[i]) {
      if (skipped) out.push({ op: 'skip', count: skipped });
      skipped = 0;
      out.push(l);
    } else skipped++;
  });
  if (skipped) out.push({ op: 'skip', count: skipped });
  return out;
}
