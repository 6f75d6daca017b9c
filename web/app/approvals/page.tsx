'use client';

import Link from 'next/link';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useAuth } from '@/components/auth';
import { ApproveAll } from '@/components/run/ApproveAll';
import { Countdown } from '@/components/run/Countdown';
import { NotifyButton } from '@/components/run/Notify';
import '@/components/run/run.css';
import { ErrorBox, Loading, when } from '@/components/ui';
import { api, tenantEvents, type Approval, type Run } from '@/lib/api';
import { READ_ONLY_KINDS } from '@/lib/events';
import { announce } from '@/lib/notify';

const KIND: Record<string, string> = { plan: 'Plan', sql_read: 'SQL query', sql_write: 'SQL write', clarification: 'Question' };

function summary(a: Approval): string {
  const c = a.content;
  if (a.kind === 'plan' && Array.isArray(c.steps))
    return (c.steps as { agent?: string; purpose?: string }[]).map((s) => `${s.agent ?? ''}: ${s.purpose ?? ''}`).join('; ');
  if (typeof c.sql === 'string') return c.sql;
  return JSON.stringify(c);
}

/** Pending approvals grouped by run, oldest run first, each run's approvals in order. */
function byRun(items: Approval[]): [string, Approval[]][] {
  const groups = new Map<string, Approval[]>();
  for (const a of [...items].sort((x, y) => x.created_at - y.created_at)) groups.set(a.run_id, [...(groups.get(a.run_id) ?? []), a]);
  return [...groups.entries()];
}

const readOnly = (a: Approval) => READ_ONLY_KINDS.has(a.kind);

export default function ApprovalsPage() {
  const { forbidden, markForbidden } = useAuth();
  const canDecide = !forbidden.has('decide');
  const decides = useRef(canDecide);
  decides.current = canDecide;
  const [items, setItems] = useState<Approval[] | null>(null);
  const [runs, setRuns] = useState<Record<string, Run>>({});
  const [error, setError] = useState<unknown>(null);
  const [live, setLive] = useState('connecting');
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  const load = useCallback(async () => {
    try {
      const list = await api.approvals({ status: 'pending' });
      setItems(list);
      setError(null);
      // a viewer is told nothing: the approvals do not wait for them
      if (decides.current) announce(list.map((a) => ({ id: a.id, title: `Approval waiting: ${KIND[a.kind] ?? a.kind}`, body: summary(a).slice(0, 140), url: `/runs/?id=${a.run_id}` })));
      // the question of each run, for context (one page of recent waiting runs covers the usual inbox)
      const page = await api.runs({ status: 'awaiting_approval', limit: 200 });
      setRuns(Object.fromEntries(page.runs.map((r) => [r.id, r])));
    } catch (err) {
      setError(err);
    }
  }, []);

  useEffect(() => {
    void load();
    const stream = tenantEvents({
      onEvent: (e) => {
        if (!/^(approval\.|run\.)/.test(String(e.type))) return;
        if (timer.current) clearTimeout(timer.current);
        timer.current = setTimeout(() => void load(), 250);
      },
      onState: setLive,
    });
    return () => {
      stream.close();
      if (timer.current) clearTimeout(timer.current);
    };
  }, [load]);

  return (
    <>
      <div className="page-head">
        <h1>Approvals</h1>
        <span className={`live live-${live}`} role="status">
          {live === 'connected' ? 'live' : live}
        </span>
      </div>
      <p>
        <NotifyButton />
      </p>
      <p className="muted">Plans and SQL waiting for a decision, across every run. Open one to approve, edit or reject it.</p>
      {error ? <ErrorBox error={error} title="Cannot list approvals" onRetry={() => void load()} /> : null}
      {!items && !error ? <Loading label="Loading approvals…" /> : null}
      {items && items.length === 0 ? <p className="empty">Nothing is waiting for you.</p> : null}
      {items && items.length > 0 && canDecide ? (
        <ApproveAll
          items={items.filter(readOnly).map((a) => ({ id: a.id, contentHash: a.content_hash, label: `${KIND[a.kind] ?? a.kind} of “${runs[a.run_id]?.question ?? a.run_id.slice(0, 8)}”` }))}
          skipped={items.filter((a) => !readOnly(a)).length}
          onForbidden={() => markForbidden('decide')}
          onDone={() => void load()}
        />
      ) : null}
      {items && items.length > 0 ? (
        <ul className="inbox" aria-label="Pending approvals">
          {byRun(items).flatMap(([, group]) => group).map((a) => (
            <li key={a.id} className="card" data-approval={a.id} data-kind={a.kind} data-run={a.run_id}>
              <div className="card-head">
                <h2 className="h3">
                  <Link href={`/runs/?id=${encodeURIComponent(a.run_id)}`}>{KIND[a.kind] ?? a.kind}</Link>
                  {runs[a.run_id] ? <span className="muted"> for “{runs[a.run_id]!.question}”</span> : null}
                </h2>
                <span className="muted small">{when(a.created_at)}</span>
              </div>
              <pre className="sql small clip-lines">
                <code>{summary(a)}</code>
              </pre>
              {a.kind === 'sql_write' && a.content.impact && typeof a.content.impact === 'object' ? (
                <p className="note small">{String((a.content.impact as Record<string, unknown>).summary ?? '')}</p>
              ) : null}
              <Countdown expiresAt={a.expires_at} />
              <Link className="button" href={`/runs/?id=${encodeURIComponent(a.run_id)}`}>
                Review
              </Link>
            </li>
          ))}
        </ul>
      ) : null}
    </>
  );
}
