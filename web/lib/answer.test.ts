import { describe, expect, it } from 'vitest';
import { answerSegments } from './answer';
import { tokenize } from './sqltokens';
import { newlyWaiting } from './notify';

describe('answer segments', () => {
  it('marks each number as verified, unverified or unchecked, and links known citations', () => {
    const text = 'North has 1,200 vehicles and 37 breakdowns (VH-1042 most) in 2026 [1], see [9]; 3 depots.';
    const segs = answerSegments(text, new Set([1]), ['1200', '2026'], ['37']);
    const nums = segs.flatMap((s) => (s.kind === 'number' ? [[s.text, s.status]] : []));
    expect(nums).toEqual([
      ['1,200', 'verified'],
      ['37', 'unverified'],
      ['2026', 'verified'],
      ['9', 'unchecked'], // an unknown citation stays text; its digit is not a claim the server checked
      ['3', 'unchecked'],
    ]);
    expect(segs.filter((s) => s.kind === 'cite')).toEqual([{ kind: 'cite', text: '[1]', ref: 1 }]);
    // VH-1042 is an identifier: its digits are not a number
    expect(nums.map((n) => n[0])).not.toContain('1042');
    expect(segs.map((s) => s.text).join('')).toBe(text);
  });

  it('matches decimals written with trailing zeros', () => {
    const segs = answerSegments('about 2.50 hours', new Set(), ['2.5'], []);
    expect(segs.find((s) => s.kind === 'number')).toEqual({ kind: 'number', text: '2.50', status: 'verified' });
  });
});

describe('SQL tokens', () => {
  it('gives the text back and tells keywords, strings, numbers, functions and comments apart', () => {
    const sql = "SELECT depot, count(*) AS n -- per depot\nFROM vehicles WHERE depot <> 'East''s' AND km > 1.5e3";
    const tokens = tokenize(sql);
    expect(tokens.map((t) => t.text).join('')).toBe(sql);
    const kind = (text: string) => tokens.find((t) => t.text === text)?.kind;
    expect([kind('SELECT'), kind('count'), kind("'East''s'"), kind('1.5e3'), kind('-- per depot'), kind('depot'), kind('<>')]).toEqual([
      'keyword',
      'function',
      'string',
      'number',
      'comment',
      'ident',
      'op',
    ]);
    expect(tokenize("'unterminated").map((t) => t.kind)).toEqual(['string']);
  });
});

describe('notifications', () => {
  it('announces each waiting approval once', () => {
    expect(newlyWaiting(new Set(['a']), ['a', 'b', 'b', 'c'])).toEqual(['b', 'c']);
    expect(newlyWaiting(new Set(), [])).toEqual([]);
  });
});
