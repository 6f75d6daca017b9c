import { describe, expect, it } from 'vitest';
import { definitionText, lineDiff } from './linediff';

const ops = (d: ReturnType<typeof lineDiff>) => d.map((l) => `${l.op === 'same' ? ' ' : l.op === 'add' ? '+' : '-'}${l.text}`);

describe('lineDiff', () => {
  it('keeps equal texts whole', () => {
    expect(ops(lineDiff('a\nb', 'a\nb'))).toEqual([' a', ' b']);
  });

  it('shows a changed line as a removal then an addition, with line numbers on both sides', () => {
    const d = lineDiff('a\nb\nc', 'a\nB\nc');
    expect(ops(d)).toEqual([' a', '-b', '+B', ' c']);
    expect(d[1]).toMatchObject({ a: 2 });
    expect(d[2]).toMatchObject({ b: 2 });
    expect(d[3]).toMatchObject({ a: 3, b: 3 });
  });

  it('finds insertions and deletions in the middle and at both ends', () => {
    expect(ops(lineDiff('x\na\nb\nc', 'a\nb\nnew\nc\ny'))).toEqual(['-x', ' a', ' b', '+new', ' c', '+y']);
    expect(ops(lineDiff('', 'a'))).toEqual(['+a']);
    expect(ops(lineDiff('a', ''))).toEqual(['-a']);
  });

  it('keeps the longest common subsequence', () => {
    const d = lineDiff('a\nb\nc\nd\ne', 'a\nc\nb\nd\ne');
    expect(d.filter((l) => l.op === 'same').length).toBe(4);
    // applying the diff gives back the new text
    expect(d.filter((l) => l.op !== 'del').map((l) => l.text)).toEqual(['a', 'c', 'b', 'd', 'e']);
    expect(d.filter((l) => l.op !== 'add').map((l) => l.text)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });
});

describe('definitionText', () => {
  it('sorts keys so the same definition always reads the same', () => {
    expect(definitionText({ b: 1, a: { d: 'x', c: true } })).toBe(definitionText({ a: { c: true, d: 'x' }, b: 1 }));
  });

  it('writes one value per line, lists with dashes, quotes what would read as another type', () => {
    const text = definitionText({
      name: 'fleet',
      steps: ['sql', 'rag'],
      connections: [{ name: 'fleet', engine: 'sqlite', path: '/srv/fleet.db' }],
      row_limit: 200,
      note: 'true',
      knowledge: [],
      instructions: 'line one\nline two',
    });
    expect(text.split('\n')).toEqual([
      'connections:',
      '  - engine: sqlite',
      '    name: fleet',
      '    path: /srv/fleet.db',
      'instructions: |',
      '  line one',
      '  line two',
      'knowledge: []',
      'name: fleet',
      'note: "true"',
      'row_limit: 200',
      'steps:',
      '  - sql',
      '  - rag',
    ]);
  });

  it('makes a one-field change a one-line diff', () => {
    const v1 = { name: 'fleet', approval: { plan: true, sql_read: true }, row_limit: 200 };
    const v2 = { name: 'fleet', approval: { plan: false, sql_read: true }, row_limit: 200 };
    const changed = lineDiff(definitionText(v1), definitionText(v2)).filter((l) => l.op !== 'same');
    expect(ops(changed)).toEqual(['-  plan: true', '+  plan: false']);
  });
});

describe('folded', () => {
  it('keeps the context around each change and folds the rest', async () => {
    const { folded } = await import('./linediff');
    const before = Array.from({ length: 20 }, (_, i) => `l${i}`).join('\n');
    const after = before.replace('l10', 'L10');
    const f = folded(lineDiff(before, after), 2);
    expect(f.map((x) => (x.op === 'skip' ? `…${x.count}` : `${x.op === 'same' ? ' ' : x.op === 'add' ? '+' : '-'}${x.text}`))).toEqual([
      '…8', ' l8', ' l9', '-l10', '+L10', ' l11', ' l12', '…7',
    ]);
    expect(folded(lineDiff('a\nb', 'a\nb'), 2)).toEqual([{ op: 'skip', count: 2 }]);
  });
});
