import { describe, expect, it } from 'vitest';
import { changed, diffLines, diffTokens, diffWords, planLines, words } from './diff';

const join = (parts: { kind: string; text: string }[], keep: string[]) => parts.filter((p) => keep.includes(p.kind)).map((p) => p.text).join('');

describe('diffs', () => {
  it('rebuilds both sides from a word diff', () => {
    const a = "SELECT depot, count(*) FROM vehicles GROUP BY depot";
    const b = "SELECT depot, count(*) AS n FROM vehicles WHERE depot <> 'East' GROUP BY depot ORDER BY n DESC";
    const d = diffWords(a, b);
    expect(join(d, ['same', 'removed'])).toBe(a);
    expect(join(d, ['same', 'added'])).toBe(b);
    expect(d.filter((p) => p.kind === 'removed')).toEqual([]);
    expect(join(d, ['added'])).toContain("WHERE depot <> 'East'");
  });

  it('keeps whitespace and punctuation as tokens', () => {
    expect(words('a  b,c')).toEqual(['a', '  ', 'b', ',', 'c']);
    expect(words('')).toEqual([]);
  });

  it('finds a minimal edit script and merges runs of one kind', () => {
    expect(diffTokens(['a', 'b', 'c'], ['a', 'x', 'c'])).toEqual([
      { kind: 'same', text: 'a' },
      { kind: 'removed', text: 'b' },
      { kind: 'added', text: 'x' },
      { kind: 'same', text: 'c' },
    ]);
    expect(diffTokens([], ['a', 'b'])).toEqual([{ kind: 'added', text: 'ab' }]);
    expect(diffTokens(['a'], [])).toEqual([{ kind: 'removed', text: 'a' }]);
    expect(diffTokens(['a'], ['a'])).toEqual([{ kind: 'same', text: 'a' }]);
  });

  it('diffs a plan by steps: a changed purpose shows its words, a new step is added', () => {
    const draft = planLines([
      { agent: 'sql', purpose: 'count vehicles per depot' },
      { agent: 'rag', purpose: 'what the manual says to check first' },
    ]);
    const edited = planLines([
      { agent: 'sql', purpose: 'count active vehicles per depot' },
      { agent: 'rag', purpose: 'what the manual says to check first' },
      { agent: 'sql', purpose: 'list the oldest vehicle' },
    ]);
    const d = diffLines(draft, edited);
    expect(d.map((l) => l.kind)).toEqual(['changed', 'same', 'added']);
    expect(d[0]!.parts.filter((p) => p.kind === 'added').map((p) => p.text.trim())).toEqual(['active']);
    expect(d[2]!.after).toBe('sql: list the oldest vehicle');
    expect(changed(d)).toBe(true);
    expect(changed(diffLines(draft, draft))).toBe(false);
  });

  it('shows removed steps and multi-line SQL edits', () => {
    const d = diffLines('a\nb\nc', 'a\nc');
    expect(d.map((l) => [l.kind, l.before, l.after])).toEqual([
      ['same', 'a', 'a'],
      ['removed', 'b', null],
      ['same', 'c', 'c'],
    ]);
    const sql = diffLines('SELECT a\nFROM t\nGROUP BY a', 'SELECT a, b\nFROM t\nGROUP BY a, b\nLIMIT 5');
    expect(sql.map((l) => l.kind)).toEqual(['changed', 'same', 'changed', 'added']);
    expect(diffLines('', 'x').map((l) => l.kind)).toEqual(['added']);
  });

  it('shows a rewritten line as removed and added rather than a noisy word diff', () => {
    const d = diffLines('SELECT depot, count(*) AS vehicles FROM vehicles GROUP BY depot', "SELECT date('2026-01-01', '+' || (km / 1000) || ' days') AS day, km FROM vehicles WHERE depot = 'North'");
    expect(d.map((l) => l.kind)).toEqual(['removed', 'added']);
    // a small edit of the same line stays a word diff
    expect(diffLines('SELECT a FROM t', 'SELECT a FROM t WHERE b = 1').map((l) => l.kind)).toEqual(['changed']);
  });

  it('gives up aligning very long inputs but stays correct', () => {
    const a = Array.from({ length: 700 }, (_, i) => `a${i}`);
    const b = Array.from({ length: 700 }, (_, i) => `b${i}`);
    const d = diffTokens(a, b);
    expect(join(d, ['same', 'removed'])).toBe(a.join(''));
    expect(join(d, ['same', 'added'])).toBe(b.join(''));
  });
});
