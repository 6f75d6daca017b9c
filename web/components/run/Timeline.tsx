'use client';

import type { StepView, TimelineEntry } from '@/lib/events';
import { duration, timeOf } from '../ui';

export function Timeline({ entries, connection }: { entries: TimelineEntry[]; connection: string }) {
  return (
    <section className="card timeline" aria-labelledby="timeline-title">
      <header className="card-head">
        <h2 id="timeline-title">Timeline</h2>
        <span className={`live live-${connection}`} role="status">
          {connection === 'connected' ? 'live' : connection === 'ended' ? 'complete' : connection}
        </span>
      </header>
      <ol aria-live="polite" aria-relevant="additions">
        {entries.map((t) => (
          <li key={t.seq} data-seq={t.seq} data-type={t.type} className={t.known ? undefined : 'unknown'}>
            <span className="seq" aria-hidden="true">
              {t.seq}
            </span>
            <div>
              <div>{t.label}</div>
              {t.detail ? <div className="muted small clip">{t.detail}</div> : null}
            </div>
            <time className="muted small" dateTime={t.ts ?? undefined}>
              {timeOf(t.ts)}
            </time>
          </li>
        ))}
      </ol>
    </section>
  );
}

const STEP_LABEL: Record<string, string> = {
  planner: 'Planner',
  sql: 'SQL agent',
  rag: 'Documents',
  reasoner: 'Reasoner',
  responder: 'Responder',
};

export function StepList({ steps, now, queued, since }: { steps: StepView[]; now: number; queued: boolean; since?: number }) {
  return (
    <section className="card" aria-labelledby="steps-title">
      <h2 id="steps-title" className="sr-only">
        Steps
      </h2>
      <ol className="steps">
        {queued && steps.length === 0 ? (
          <li className="step working">
            <span className="spinner" aria-hidden="true" /> Waiting for a worker…
            {since !== undefined && !Number.isNaN(since) ? <span className="step-time small">queued · {duration(now - since)}</span> : null}
          </li>
        ) : null}
        {steps.map((s) => {
          const start = s.startedAt ? Date.parse(s.startedAt) : NaN;
          const end = s.finishedAt ? Date.parse(s.finishedAt) : now;
          const took = Number.isNaN(start) ? '' : duration(end - start);
          const what =
            s.status === 'working' ? `working · ${took}` : s.status === 'waiting' ? `waiting for approval · ${took}` : s.status === 'done' ? `done in ${took}` : `failed after ${took}`;
          return (
            <li key={s.name} className={`step ${s.status}`} data-step={s.name}>
              {s.status === 'working' ? <span className="spinner" aria-hidden="true" /> : <span className={`dot dot-${s.status}`} aria-hidden="true" />}
              <span className="step-name">{STEP_LABEL[s.name] ?? s.name}</span>
              {s.purpose ? <span className="muted small clip"> {s.purpose}</span> : null}
              <span className="step-time small" data-elapsed-ms={Number.isNaN(start) ? undefined : Math.max(0, end - start)}>
                {what}
                {s.retries ? ` · ${s.retries} retr${s.retries > 1 ? 'ies' : 'y'}` : ''}
              </span>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
