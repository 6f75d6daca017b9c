'use client';

import { useState } from 'react';
import { ApiError, dryRun, errorText, type DryRun } from '@/lib/api';

function estimateText(r: DryRun): string {
  if (r.estimated_rows === null) return 'row count unknown';
  const n = r.estimated_rows.toLocaleString();
  if (r.kind === 'sql_write') return `would touch ${n} row${r.estimated_rows === 1 ? '' : 's'} (counted, nothing written)`;
  return r.estimate === 'planner' ? `about ${n} row${r.estimated_rows === 1 ? '' : 's'} (the ${r.engine} planner's estimate)` : `${n} row${r.estimated_rows === 1 ? '' : 's'} (counted read-only)`;
}

/**
 * "Dry run": the engine's EXPLAIN and an estimated row count for the SQL as drafted, or for the
 * edit in progress (`sql`), before anyone approves. Nothing runs but the EXPLAIN.
 */
export function DryRunPanel({ approvalId, sql, onForbidden }: { approvalId: string; sql?: string; onForbidden: () => void }) {
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<DryRun | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      setResult(await dryRun(approvalId, sql));
    } catch (err) {
      setResult(null);
      if (err instanceof ApiError && err.status === 403) onForbidden();
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const stale = result !== null && sql !== undefined && result.sql !== sql.trim();
  return (
    <div className="dry-run">
      <button type="button" onClick={() => void run()} disabled={busy} aria-describedby={`${approvalId}-dry-help`}>
        {busy ? 'Explaining…' : sql !== undefined ? 'Dry run the edit' : 'Dry run'}
      </button>
      <span id={`${approvalId}-dry-help`} className="muted small">
        {' '}
        the engine&apos;s plan and row estimate, without running the query
      </span>
      {error ? (
        <p className="field-error" role="alert">
          Dry run refused: {error}
        </p>
      ) : null}
      {result ? (
        <div className={`dry-result${stale ? ' stale' : ''}`} role="status" aria-label="Dry run result">
          <p className="small">
            <strong className="dry-estimate">{estimateText(result)}</strong>
            <span className="muted"> · {result.edited ? 'your edit' : 'as drafted'} · {result.elapsed_ms.toFixed(0)} ms</span>
            {stale ? <span className="note"> · the SQL changed since: run it again</span> : null}
          </p>
          {result.impact ? <p className="note small">{result.impact.summary}</p> : null}
          {result.plan ? (
            <details open>
              <summary className="small">{result.kind === 'sql_write' ? 'Plan of the read-only count' : `${result.engine} plan`}</summary>
              <pre className="plan-text small">{result.plan}</pre>
            </details>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
