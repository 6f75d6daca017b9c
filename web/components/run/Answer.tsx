'use client';

import type { ReactNode } from 'react';
import { answerSegments } from '@/lib/answer';
import type { AnswerView, Snippet } from '@/lib/events';
import { passageHref } from '@/components/knowledge/Passage';

const MARK = { verified: '✓', unverified: '?', unchecked: '' } as const;
const MARK_TITLE = {
  verified: 'found in the evidence',
  unverified: 'not found in the evidence',
  unchecked: 'not checked (small counts are not checked)',
} as const;

/** The answer with citation links and each number marked as found in the evidence or not. */
function Marked({ answer, refs }: { answer: AnswerView; refs: Set<number> }) {
  // numbers are only judged once the answer is final (the check runs on the final text)
  const segs = answerSegments(answer.text, refs, answer.final ? answer.verifiedNumbers : [], answer.final ? answer.unverifiedNumbers : []);
  return (
    <>
      {segs.map((s, i) =>
        s.kind === 'cite' ? (
          <a key={i} href={`#cite-${s.ref}`} className="cite" aria-label={`source ${s.ref}`}>
            {s.text}
          </a>
        ) : s.kind === 'number' && answer.final && s.status !== 'unchecked' ? (
          <span key={i} className={`num-mark num-${s.status}`} data-number={s.status} title={MARK_TITLE[s.status]}>
            {s.text}
            <sup aria-hidden="true">{MARK[s.status]}</sup>
            <span className="sr-only"> ({MARK_TITLE[s.status]})</span>
          </span>
        ) : (
          s.text
        ),
      )}
    </>
  );
}

/** The answer text with each [n] turned into a link to its cited passage. */
export function withCitations(text: string, refs: Set<number>): ReactNode[] {
  const out: ReactNode[] = [];
  const re = /\[(\d+)\]/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    const n = Number(m[1]);
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push(
      refs.has(n) ? (
        <a key={`${m.index}`} href={`#cite-${n}`} className="cite" aria-label={`source ${n}`}>
          [{n}]
        </a>
      ) : (
        m[0]
      ),
    );
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

export function Answer({ answer, snippets }: { answer: AnswerView; snippets: Snippet[] }) {
  const refs = new Set<number>([...answer.citations, ...snippets].map((s) => s.ref).filter((r): r is number => r !== null));
  return (
    <section className="card answer" aria-labelledby="answer-title" aria-busy={!answer.final}>
      <header className="card-head">
        <h2 id="answer-title">Answer</h2>
        <span className="muted small">
          {answer.final ? 'final' : 'writing…'}
          {answer.revision > 0 ? ` · revision ${answer.revision}` : ''}
        </span>
      </header>
      <p className="answer-text" aria-live="polite">
        <Marked answer={answer} refs={refs} />
        {!answer.final ? <span className="caret" aria-hidden="true" /> : null}
      </p>
      {answer.final && answer.verifiedNumbers.length + answer.unverifiedNumbers.length ? (
        <p className="muted small num-legend">
          Numbers: <span className="num-mark num-verified">✓</span> found in the evidence ({answer.verifiedNumbers.length}) ·{' '}
          <span className="num-mark num-unverified">?</span> not found ({answer.unverifiedNumbers.length})
        </p>
      ) : null}
      {answer.unverified.length ? (
        <p className="note small">Not found in the evidence: {answer.unverified.join(', ')}</p>
      ) : null}
      {answer.final && answer.citations.length ? (
        <p className="muted small">
          Cites{' '}
          {answer.citations.map((c, i) => (
            <span key={`${c.ref}-${i}`}>
              {i ? ', ' : ''}
              <a href={`#cite-${c.ref}`}>
                [{c.ref}] {c.title || c.source}
              </a>
            </span>
          ))}
        </p>
      ) : null}
    </section>
  );
}

export function Snippets({ snippets, cited }: { snippets: Snippet[]; cited: Set<number> }) {
  return (
    <section className="card" aria-labelledby="snippets-title">
      <h3 id="snippets-title">Passages from the documents</h3>
      <ol className="snippets">
        {snippets.map((s, i) => (
          <li key={`${s.documentId}-${i}`} id={s.ref !== null ? `cite-${s.ref}` : undefined} className={s.ref !== null && cited.has(s.ref) ? 'cited' : undefined}>
            <div className="cite-head">
              {s.ref !== null ? <span className="ref">[{s.ref}]</span> : null} <strong>{s.title || s.source}</strong>
              {s.heading ? <span> › {s.heading}</span> : null}
              <span className="muted small">
                {' '}
                — {s.source}
                {s.page !== null ? `, page ${s.page}` : ''} · {s.collection}
              </span>
            </div>
            <blockquote>{s.text.length > 600 ? `${s.text.slice(0, 600)}…` : s.text}</blockquote>
            {s.documentId && s.start !== null && s.end !== null ? (
              <a className="small" href={passageHref({ collection: s.collection, documentId: s.documentId, start: s.start, end: s.end })}>
                Open the passage in its document
              </a>
            ) : null}
          </li>
        ))}
      </ol>
    </section>
  );
}
