'use client';

import { useEffect, useRef, useState } from 'react';
import { ErrorBox, Loading } from '@/components/ui';
import { apiMore, type DocumentText } from '@/lib/api';

export interface PassageRef {
  collection: string;
  documentId: string;
  start: number;
  end: number;
  label?: string;
}

/** The link that opens a passage in the knowledge page (usable from any page that shows a citation). */
export function passageHref(p: PassageRef): string {
  const q = new URLSearchParams({ c: p.collection, doc: p.documentId, start: String(p.start), end: String(p.end) });
  return `/knowledge/?${q.toString()}`;
}

/** A document's text with the cited passage (characters start..end) highlighted and scrolled into view. */
export function Passage({ passage, onClose }: { passage: PassageRef; onClose: () => void }) {
  const [doc, setDoc] = useState<DocumentText | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const mark = useRef<HTMLElement>(null);
  const box = useRef<HTMLElement>(null);

  useEffect(() => {
    let live = true;
    setDoc(null);
    setError(null);
    apiMore
      .documentText(passage.collection, passage.documentId)
      .then((d) => live && setDoc(d))
      .catch((err) => live && setError(err));
    return () => {
      live = false;
    };
  }, [passage.collection, passage.documentId, attempt]);

  useEffect(() => {
    if (!doc) return;
    box.current?.focus();
    mark.current?.scrollIntoView({ block: 'center' });
  }, [doc, passage.start, passage.end]);

  const start = doc ? Math.max(0, Math.min(passage.start, doc.text.length)) : 0;
  const end = doc ? Math.max(start, Math.min(passage.end, doc.text.length)) : 0;
  return (
    <section className="passage card" aria-labelledby="passage-title" ref={box} tabIndex={-1}>
      <div className="card-head">
        <h3 id="passage-title">{doc ? doc.title || doc.source : (passage.label ?? 'Passage')}</h3>
        <button type="button" className="link" onClick={onClose}>
          Close
        </button>
      </div>
      {error ? <ErrorBox error={error} title="Cannot open the document" onRetry={() => setAttempt((n) => n + 1)} /> : null}
      {!doc && !error ? <Loading label="Opening the document…" /> : null}
      {doc ? (
        <>
          <p className="muted small">
            {doc.source} · characters {start}–{end} of {doc.text.length}
          </p>
          <div className="doc-text">
            {doc.text.slice(0, start)}
            <mark ref={mark} className="cited" data-start={start} data-end={end}>
              {doc.text.slice(start, end)}
            </mark>
            {doc.text.slice(end)}
          </div>
        </>
      ) : null}
    </section>
  );
}
