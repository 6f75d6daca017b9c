// Line and word diffs, for an edited plan or SQL shown against its draft. Pure; a longest common
// subsequence over tokens (plans and statements are short: a few hundred tokens at most).

export type PartKind = 'same' | 'added' | 'removed';

export interface Part {
  kind: PartKind;
  text: string;
}

/** Above this many token pairs the diff gives up on alignment and shows a removal then an addition. */
const MAX_CELLS = 250_000;

/** The edit script from `a` to `b` as runs of equal, removed and added tokens. */
export function diffTokens(a: readonly string[], b: readonly string[]): Part[] {
  // common prefix and suffix first: an edit usually touches the middle only
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const out: Part[] = [];
  const push = (kind: PartKind, text: string): void => {
    if (!text) return;
    const last = out[out.length - 1];
    if (last && last.kind === kind) last.text += text;
    else out.push({ kind, text });
  };
  for (let i = 0; i < start; i++) push('same', a[i]!);
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  const n = midA.length;
  const m = midB.length;
  if (n * m > MAX_CELLS) {
    midA.forEach((t) => push('removed', t));
    midB.forEach((t) => push('added', t));
  } else {
    // lcs[i][j]: length of the LCS of midA[i..] and midB[j..]
    const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i]![j] = midA[i] === midB[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n && j < m) {
      if (midA[i] === midB[j]) {
        push('same', midA[i]!);
        i++;
        j++;
      } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) push('removed', midA[i++]!);
      else push('added', midB[j++]!);
    }
    while (i < n) push('removed', midA[i++]!);
    while (j < m) push('added', midB[j++]!);
  }
  for (let i = endA; i < a.length; i++) push('same', a[i]!);
  return out;
}

/** Words and the spaces between them, kept as tokens so that joining them gives the text back. */
export function words(text: string): string[] {
  return text.match(/\s+|[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu) ?? [];
}

/** A word diff of two texts. */
export function diffWords(a: string, b: string): Part[] {
  return diffTokens(words(a), words(b));
}

export interface LineDiff {
  kind: 'same' | 'added' | 'removed' | 'changed';
  before: string | null;
  after: string | null;
  /** for a changed line, the word diff between before and after */
  parts: Part[];
}

function splitLines(text: string): string[] {
  return text === '' ? [] : text.replace(/\r\n?/g, '\n').split('\n');
}

/**
 * A line diff; a removed line directly followed by an added one is shown as one changed line
 * with a word diff inside, the way a reviewer reads a small edit.
 */
export function diffLines(a: string | readonly string[], b: string | readonly string[]): LineDiff[] {
  const la = typeof a === 'string' ? splitLines(a) : [...a];
  const lb = typeof b === 'string' ? splitLines(b) : [...b];
  // diff lines as single tokens (with a separator so runs can be split again)
  const parts = diffTokens(
    la.map((l) => `${l}\n`),
    lb.map((l) => `${l}\n`),
  );
  const runs: { kind: PartKind; lines: string[] }[] = parts.map((p) => ({ kind: p.kind, lines: p.text.slice(0, -1).split('\n') }));
  const out: LineDiff[] = [];
  for (let k = 0; k < runs.length; k++) {
    const run = runs[k]!;
    const next = runs[k + 1];
    if (run.kind === 'removed' && next?.kind === 'added') {
      const pairs = Math.min(run.lines.length, next.lines.length);
      for (let i = 0; i < pairs; i++) {
        const before = run.lines[i]!;
        const after = next.lines[i]!;
        const parts = diffWords(before, after);
        if (similar(parts, before, after)) out.push({ kind: 'changed', before, after, parts });
        else {
          // a rewrite rather than an edit: word changes would be noise, show the two lines
          out.push({ kind: 'removed', before, after: null, parts: [] });
          out.push({ kind: 'added', before: null, after, parts: [] });
        }
      }
      run.lines.slice(pairs).forEach((l) => out.push({ kind: 'removed', before: l, after: null, parts: [] }));
      next.lines.slice(pairs).forEach((l) => out.push({ kind: 'added', before: null, after: l, parts: [] }));
      k++;
      continue;
    }
    for (const l of run.lines) {
      out.push(
        run.kind === 'same'
          ? { kind: 'same', before: l, after: l, parts: [] }
          : run.kind === 'removed'
            ? { kind: 'removed', before: l, after: null, parts: [] }
            : { kind: 'added', before: null, after: l, parts: [] },
      );
    }
  }
  return out;
}

/** Whether two lines share enough (half of the longer one, spaces aside) for a word diff to read as an edit. */
function similar(parts: readonly Part[], before: string, after: string): boolean {
  const kept = parts.filter((p) => p.kind === 'same').reduce((n, p) => n + p.text.replace(/\s+/g, '').length, 0);
  const longest = Math.max(before.replace(/\s+/g, '').length, after.replace(/\s+/g, '').length);
  return longest === 0 || kept >= longest / 2;
}

/** Whether a line diff has any change. */
export function changed(d: readonly LineDiff[]): boolean {
  return d.some((l) => l.kind !== 'same');
}

export interface PlanStepText {
  agent: string;
  purpose: string;
}

/** One line per plan step, as the diff compares them. */
export function planLines(steps: readonly PlanStepText[]): string[] {
  return steps.map((s) => `${s.agent}: ${s.purpose}`);
}
