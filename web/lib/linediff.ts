// A line diff between two texts (numbered, for a definition's versions; the diff itself is
// diff.ts's), and a stable text form of a workflow definition to diff: keys sorted, two-space
// indentation, one value per line.

import { diffTokens } from './diff';

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
  const out: DiffLine[] = [];
  let na = 0;
  let nb = 0;
  // lines as single tokens, each ending in a newline so that a run can be split into lines again
  for (const part of diffTokens(a.map((l) => `${l}\n`), b.map((l) => `${l}\n`))) {
    for (const text of part.text.slice(0, -1).split('\n')) {
      if (part.kind === 'same') out.push({ op: 'same', text, a: ++na, b: ++nb });
      else if (part.kind === 'removed') out.push({ op: 'del', text, a: ++na });
      else out.push({ op: 'add', text, b: ++nb });
    }
  }
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
