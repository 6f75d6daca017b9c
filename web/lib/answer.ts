// The answer text cut into what the page marks: citation markers [n] that link to their passage,
// and numbers marked as checked against the evidence or not. Pure.
//
// The numbers are found as the server's grounding check finds them (hil.agents.grounding): a
// number inside an identifier (VH-1042) is part of the identifier; the server leaves the digits
// 1 to 9 unchecked, and so are they here.

export type Segment =
  | { kind: 'text'; text: string }
  | { kind: 'cite'; text: string; ref: number }
  | { kind: 'number'; text: string; status: 'verified' | 'unverified' | 'unchecked' };

const CITATION = /\[(\d{1,2})\]/g;
const IDENTIFIER = /\b[A-Za-z]{1,6}[-_]?\d{2,}(?:[-_][A-Za-z0-9]+)*\b/g;
const NUMBER = /(?<![\w.])-?\d+(?:[.,]\d+)*(?![\w])/g;

function normal(n: string): string {
  return n.replace(/,/g, '');
}

function numbersIn(text: string, verified: Set<string>, unverified: Set<string>): Segment[] {
  // identifiers are blanked out first (same length), so their digits are not taken for numbers
  const masked = text.replace(IDENTIFIER, (m) => ' '.repeat(m.length));
  const out: Segment[] = [];
  let last = 0;
  for (const m of masked.matchAll(NUMBER)) {
    const at = m.index ?? 0;
    const raw = text.slice(at, at + m[0].length);
    const key = normal(raw);
    const trimmed = key.includes('.') ? key.replace(/0+$/, '').replace(/\.$/, '') : key;
    const status = verified.has(key) || verified.has(trimmed) ? 'verified' : unverified.has(key) || unverified.has(trimmed) ? 'unverified' : 'unchecked';
    if (at > last) out.push({ kind: 'text', text: text.slice(last, at) });
    out.push({ kind: 'number', text: raw, status });
    last = at + raw.length;
  }
  if (last < text.length) out.push({ kind: 'text', text: text.slice(last) });
  return out;
}

/** Segments of `text`: citations whose ref is in `refs` become links; numbers carry their check. */
export function answerSegments(text: string, refs: ReadonlySet<number>, verifiedNumbers: readonly string[], unverifiedNumbers: readonly string[]): Segment[] {
  const verified = new Set(verifiedNumbers.map(normal));
  const unverified = new Set(unverifiedNumbers.map(normal));
  const out: Segment[] = [];
  let last = 0;
  for (const m of text.matchAll(CITATION)) {
    const at = m.index ?? 0;
    const ref = Number(m[1]);
    if (!refs.has(ref)) continue; // not a known passage: left as text (its digits are not a claim either)
    if (at > last) out.push(...numbersIn(text.slice(last, at), verified, unverified));
    out.push({ kind: 'cite', text: m[0], ref });
    last = at + m[0].length;
  }
  if (last < text.length) out.push(...numbersIn(text.slice(last), verified, unverified));
  return out;
}
