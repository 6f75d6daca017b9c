'use client';

import { useMemo, useState } from 'react';
import { api, errorText } from '@/lib/api';
import type { SqlResult } from '@/lib/events';
import { saveBlob } from '../ui';
import { Chart } from './Chart';
import { SqlCode } from './SqlCode';

const PAGE = 10;

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '∅';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function ResultsTable({ result, runId, artifacts }: { result: SqlResult; runId: string; artifacts: string[] }) {
  const [sort, setSort] = useState<{ col: number; dir: 1 | -1 } | null>(null);
  const [page, setPage] = useState(0);
  const [error, setError] = useState<string | null>(null);

  const rows = useMemo(() => {
    if (!sort) return result.rows;
    return [...result.rows].sort((a, b) => sort.dir * compare(a[sort.col], b[sort.col]));
  }, [result.rows, sort]);
  const pages = Math.max(1, Math.ceil(rows.length / PAGE));
  const current = Math.min(page, pages - 1);
  const shown = rows.slice(current * PAGE, current * PAGE + PAGE);

  const toggle = (col: number) => {
    setSort((s) => (s && s.col === col ? (s.dir === 1 ? { col, dir: -1 } : null) : { col, dir: 1 }));
    setPage(0);
  };

  const download = async (name: string) => {
    setError(null);
    try {
      saveBlob(await api.artifact(runId, name), `${runId.slice(0, 8)}-${name}`);
    } catch (err) {
      setError(errorText(err));
    }
  };

  const files = [`${result.step}.csv`, `${result.step}.json`].filter((n) => artifacts.includes(n));
  const captionId = `results-${result.seq}`;
  return (
    <>
    <section className="card results" aria-labelledby={captionId}>
      <header className="card-head">
        <h3 id={captionId}>Results</h3>
        <span className="muted small">
          {result.rowCount} row{result.rowCount === 1 ? '' : 's'}
          {result.truncated ? ' (truncated at the row limit)' : ''}
          {result.elapsedMs !== null ? ` · ${result.elapsedMs.toFixed(0)} ms` : ''}
          {!result.complete ? ' · sample' : ''}
        </span>
      </header>
      <SqlCode sql={result.sql} label="SQL that ran" small />
      <Chart id={`chart-${result.seq}`} columns={result.columns} rows={result.rows} />
      <div className="table-wrap" role="region" aria-label="Result rows" tabIndex={0}>
        <table>
          <thead>
            <tr>
              {result.columns.map((c, i) => (
                <th key={`${c}-${i}`} scope="col" aria-sort={sort?.col === i ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none'}>
                  <button type="button" className="sort" onClick={() => toggle(i)}>
                    {c}
                    <span aria-hidden="true">{sort?.col === i ? (sort.dir === 1 ? ' ▲' : ' ▼') : ''}</span>
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.map((r, i) => (
              <tr key={current * PAGE + i}>
                {result.columns.map((_, j) => (
                  <td key={j} className={typeof r[j] === 'number' ? 'num' : undefined}>
                    {cell(r[j])}
                  </td>
                ))}
              </tr>
            ))}
            {shown.length === 0 ? (
              <tr>
                <td colSpan={Math.max(1, result.columns.length)} className="muted">
                  No rows.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </div>
      <div className="table-foot">
        {pages > 1 ? (
          <nav className="pager" aria-label="Result pages">
            <button type="button" onClick={() => setPage(current - 1)} disabled={current === 0}>
              Previous
            </button>
            <span>
              Page {current + 1} of {pages}
            </span>
            <button type="button" onClick={() => setPage(current + 1)} disabled={current >= pages - 1}>
              Next
            </button>
          </nav>
        ) : (
          <span />
        )}
        <div className="downloads">
          {files.map((n) => (
            <button key={n} type="button" className="link" onClick={() => void download(n)}>
              Download {n.split('.').pop()?.toUpperCase()}
            </button>
          ))}
        </div>
      </div>
      {error ? (
        <p className="field-error" role="alert">
          {error}
        </p>
      ) : null}
    </section>
      {result.evidence.length ? (
        <section className="card evidence" aria-label="Rows behind the aggregates">
        <details>
          <summary>
            Rows behind the top {result.evidence.length} group{result.evidence.length === 1 ? '' : 's'} of the result
          </summary>
          {result.evidence.map((g, i) => (
            <div key={`${g.group}-${i}`} className="evidence-group" data-group={g.group}>
              <h4 className="small">{g.group}</h4>
              {g.error ? (
                <p className="field-error small">Could not fetch them: {g.error}</p>
              ) : (
                <div className="table-wrap" role="region" aria-label={`Rows behind ${g.group}`} tabIndex={0}>
                  <table className="small">
                    <thead>
                      <tr>
                        {g.columns.map((c, j) => (
                          <th key={`${c}-${j}`} scope="col">
                            {c}
                          </th>
                        ))}
                      </tr>
                    </thead>
                    <tbody>
                      {g.rows.map((r, k) => (
                        <tr key={k}>
                          {g.columns.map((_, j) => (
                            <td key={j} className={typeof r[j] === 'number' ? 'num' : undefined}>
                              {cell(r[j])}
                            </td>
                          ))}
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </div>
          ))}
        </details>
        </section>
      ) : null}
    </>
  );
}
