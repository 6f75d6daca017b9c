'use client';

import type { LineDiff, Part } from '@/lib/diff';

export function Words({ parts }: { parts: readonly Part[] }) {
  return (
    <>
      {parts.map((p, i) =>
        p.kind === 'added' ? (
          <ins key={i}>{p.text}</ins>
        ) : p.kind === 'removed' ? (
          <del key={i}>{p.text}</del>
        ) : (
          <span key={i}>{p.text}</span>
        ),
      )}
    </>
  );
}

/** A line diff: removed lines struck out, added ones marked, changed ones with their word changes. */
export function DiffView({ diff, label, code }: { diff: readonly LineDiff[]; label: string; code?: boolean }) {
  const sign = { same: ' ', added: '+', removed: '−', changed: '~' } as const;
  const word = { same: 'unchanged', added: 'added', removed: 'removed', changed: 'changed' } as const;
  return (
    <ol className={`diff${code ? ' diff-code' : ''}`} aria-label={label}>
      {diff.map((l, i) => (
        <li key={i} className={`diff-${l.kind}`} data-diff={l.kind}>
          <span className="diff-sign" aria-hidden="true">
            {sign[l.kind]}
          </span>
          <span className="sr-only">{word[l.kind]}: </span>
          <span className="diff-text">{l.kind === 'changed' ? <Words parts={l.parts} /> : l.kind === 'added' ? <ins>{l.after}</ins> : l.kind === 'removed' ? <del>{l.before}</del> : l.before}</span>
        </li>
      ))}
    </ol>
  );
}
