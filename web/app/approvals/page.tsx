'use client';

import Link from 'next/link';
import { useCallback, useEffect, useRef, useState } from 'react';
import { ErrorBox, Loading, when } from '@/components/ui';
import { api, tenantEvents, type Approval, type Run } from '@/lib/api';

const KIND: Record<string, string> = { plan: 'Plan', sql_read: 'SQL query', sql_write: 'SQL write', clarification: 'Question' };

function summary(a: Approval): string {
  const c = a.content;
  if (a.kind === 'plan' && Array.isArray(c.steps))
    return (c.steps as { agent?: string; purpose?: string }[]).map((s) => `${s.agent ?? ''}: ${s.purpose ?? ''}`).join('; ');
  if (typeof c.sql === 'string') return c.sql;
  return JSON.stringify(c);
}

export default function ApprovalsPage() {
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
      <p className="muted">Plans and SQL waiting for a decision, across every run. Open one to approve, edit or reject it.</p>
      {error ? <ErrorBox error={error} title="Cannot list approvals" onRetry={() => void load()} /> : null}
      {!items && !error ? <Loading label="Loading approvals…" /> : null}
      {items && items.length === 0 ? <p className="empty">Nothing is waiting for you.</p> : null}
      {items && items.length > 0 ? (
        <ul className="inbox" aria-label="Pending approvals">
          {items.map((a) => (
            <li key={a.id} className="card" data-approval={a.id}>
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
              {a.expires_at ? <p className="note small">Expires {when(a.expires_at)}</p> : null}
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
