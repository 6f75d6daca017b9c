'use client';

import Link from 'next/link';
import { useRouter, useSearchParams } from 'next/navigation';
import { Suspense, useEffect, useState, type FormEvent } from 'react';
import { ErrorBox, Loading, StatusBadge, when } from '@/components/ui';
import { api, RUN_STATUSES, type RunFilters, type RunPage, type Workflow } from '@/lib/api';

const FIELDS = ['workflow', 'status', 'user', 'since', 'until', 'text'] as const;
type Field = (typeof FIELDS)[number];
const PAGE_SIZE = 20;

/** datetime-local value (local time) <-> ISO 8601 for the API */
function toIso(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

function History() {
  const params = useSearchParams();
  const router = useRouter();
  const applied = Object.fromEntries(FIELDS.map((f) => [f, params.get(f) ?? ''])) as Record<Field, string>;
  const appliedKey = FIELDS.map((f) => applied[f]).join('\u0000');
  const [form, setForm] = useState<Record<Field, string>>(applied);
  const [workflows, setWorkflows] = useState<Workflow[]>([]);
  const [page, setPage] = useState<RunPage | null>(null);
  const [cursors, setCursors] = useState<string[]>([]); // the cursor of each page before this one
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    api.workflows().then(setWorkflows).catch(() => undefined);
  }, []);

  useEffect(() => {
    setForm(applied);
    setCursor(undefined);
    setCursors([]);
  }, [appliedKey]);

  useEffect(() => {
    let live = true;
    setLoading(true);
    setError(null);
    const f: RunFilters = {
      workflow: applied.workflow || undefined,
      status: applied.status || undefined,
      user: applied.user || undefined,
      since: toIso(applied.since),
      until: toIso(applied.until),
      text: applied.text || undefined,
      limit: PAGE_SIZE,
      cursor,
    };
    api
      .runs(f)
      .then((p) => live && setPage(p))
      .catch((err) => live && setError(err))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [appliedKey, cursor, attempt]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const f of FIELDS) if (form[f]) q.set(f, form[f]);
    const s = q.toString();
    router.push(`/history/${s ? `?${s}` : ''}`);
  };
  const reset = () => router.push('/history/');

  const names = Object.fromEntries(workflows.map((w) => [w.id, w.name]));
  const set = (f: Field) => (e: { target: { value: string } }) => setForm({ ...form, [f]: e.target.value });

  return (
    <>
      <h1>Run history</h1>
      <form className="filters card" onSubmit={submit} aria-label="Filter runs">
        <div className="field">
          <label htmlFor="f-workflow">Workflow</label>
          <select id="f-workflow" value={form.workflow} onChange={set('workflow')}>
            <option value="">any</option>
            {workflows.map((w) => (
              <option key={w.id} value={w.name}>
                {w.name}
              </option>
            ))}
            {form.workflow && !workflows.some((w) => w.name === form.workflow) ? <option value={form.workflow}>{form.workflow}</option> : null}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-status">Status</label>
          <select id="f-status" value={form.status} onChange={set('status')}>
            <option value="">any</option>
            {RUN_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.replace(/_/g, ' ')}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-user">Asked by</label>
          <input id="f-user" value={form.user} onChange={set('user')} />
        </div>
        <div className="field">
          <label htmlFor="f-since">Since</label>
          <input id="f-since" type="datetime-local" value={form.since} onChange={set('since')} />
        </div>
        <div className="field">
          <label htmlFor="f-until">Until</label>
          <input id="f-until" type="datetime-local" value={form.until} onChange={set('until')} />
        </div>
        <div className="field grow">
          <label htmlFor="f-text">Text in the question</label>
          <input id="f-text" type="search" value={form.text} onChange={set('text')} maxLength={200} />
        </div>
        <div className="actions">
          <button type="submit" className="primary">
            Filter
          </button>
          <button type="button" onClick={reset}>
            Clear
          </button>
        </div>
      </form>

      {error ? <ErrorBox error={error} title="Cannot list runs" onRetry={() => setAttempt((n) => n + 1)} /> : null}
      {loading && !page ? <Loading label="Loading runs…" /> : null}
      {page ? (
        <div aria-busy={loading}>
          {page.runs.length === 0 ? (
            <p className="empty">No runs match.</p>
          ) : (
            <div className="table-wrap">
              <table className="runs">
                <caption className="sr-only">Runs, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Question</th>
                    <th scope="col">Workflow</th>
                    <th scope="col">Status</th>
                    <th scope="col">Asked by</th>
                    <th scope="col">Created</th>
                  </tr>
                </thead>
                <tbody>
                  {page.runs.map((r) => (
                    <tr key={r.id}>
                      <td>
                        <Link href={`/runs/?id=${encodeURIComponent(r.id)}`}>{r.question}</Link>
                      </td>
                      <td>{names[r.workflow_id] ?? r.workflow_id.slice(0, 8)}</td>
                      <td>
                        <StatusBadge status={r.status} />
                      </td>
                      <td>{r.created_by ?? ''}</td>
                      <td className="nowrap">{when(r.created_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <nav className="pager" aria-label="Run pages">
            <button
              type="button"
              disabled={cursors.length === 0 || loading}
              onClick={() => {
                const prev = [...cursors];
                const c = prev.pop();
                setCursors(prev);
                setCursor(c || undefined);
              }}
            >
              Newer
            </button>
            <span>Page {cursors.length + 1}</span>
            <button
              type="button"
              disabled={!page.next_cursor || loading}
              onClick={() => {
                setCursors([...cursors, cursor ?? '']);
                setCursor(page.next_cursor ?? undefined);
              }}
            >
              Older
            </button>
          </nav>
        </div>
      ) : null}
    </>
  );
}

export default function Page() {
  return (
    <Suspense fallback={<Loading />}>
      <History />
    </Suspense>
  );
}
