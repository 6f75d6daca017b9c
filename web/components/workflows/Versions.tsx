'use client';

import { useEffect, useMemo, useState } from 'react';
import { ErrorBox, Loading, when } from '@/components/ui';
import { apiMore, type Workflow, type WorkflowVersionInfo } from '@/lib/api';
import { definitionText, folded, lineDiff } from '@/lib/linediff';

/** A workflow's versions, and the line diff of the definitions of any two of them. */
export function Versions({ workflow, onClose }: { workflow: Workflow; onClose: () => void }) {
  const [versions, setVersions] = useState<WorkflowVersionInfo[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [from, setFrom] = useState(Math.max(1, workflow.version - 1));
  const [to, setTo] = useState(workflow.version);
  const [defs, setDefs] = useState<Record<number, Workflow>>({});
  const [defError, setDefError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const [whole, setWhole] = useState(false);

  useEffect(() => {
    let live = true;
    setError(null);
    apiMore
      .workflowVersions(workflow.id)
      .then((v) => live && setVersions(v))
      .catch((err) => live && setError(err));
    return () => {
      live = false;
    };
  }, [workflow.id, attempt]);

  useEffect(() => {
    let live = true;
    setDefError(null);
    for (const v of [from, to]) {
      if (defs[v]) continue;
      apiMore
        .workflowAt(workflow.id, v)
        .then((w) => live && setDefs((d) => ({ ...d, [v]: w })))
        .catch((err) => live && setDefError(err));
    }
    return () => {
      live = false;
    };
  }, [workflow.id, from, to, attempt]);

  const diff = useMemo(() => {
    const a = defs[from];
    const b = defs[to];
    if (!a || !b) return null;
    return lineDiff(definitionText(a.definition), definitionText(b.definition));
  }, [defs, from, to]);
  const changes = diff ? diff.filter((l) => l.op !== 'same').length : 0;
  const shown = diff ? (whole ? diff : folded(diff, 3)) : [];
  const title = `versions-${workflow.id}`;

  return (
    <section className="versions" aria-labelledby={title}>
      <div className="card-head">
        <h3 id={title}>Versions of {workflow.name}</h3>
        <button type="button" className="link" onClick={onClose}>
          Close
        </button>
      </div>
      {error ? <ErrorBox error={error} title="Cannot list the versions" onRetry={() => setAttempt((n) => n + 1)} /> : null}
      {!versions && !error ? <Loading label="Loading versions…" /> : null}
      {versions ? (
        <>
          <ul className="version-list small" aria-label="Versions, newest first">
            {[...versions].reverse().map((v) => (
              <li key={v.version}>
                v{v.version} · {when(v.created_at)} · <code>{v.content_hash.slice(0, 10)}</code>
              </li>
            ))}
          </ul>
          {versions.length < 2 ? (
            <p className="empty">Only one version so far: saving a change makes the next one.</p>
          ) : (
            <>
              <div className="inline-form">
                <div className="field">
                  <label htmlFor={`${title}-from`}>Compare</label>
                  <select id={`${title}-from`} value={from} onChange={(e) => setFrom(Number(e.target.value))}>
                    {versions.map((v) => (
                      <option key={v.version} value={v.version}>
                        v{v.version}
                      </option>
                    ))}
                  </select>
                </div>
                <div className="field">
                  <label htmlFor={`${title}-to`}>with</label>
                  <select id={`${title}-to`} value={to} onChange={(e) => setTo(Number(e.target.value))}>
                    {versions.map((v) => (
                      <option key={v.version} value={v.version}>
                        v{v.version}
                      </option>
                    ))}
                  </select>
                </div>
              </div>
              {defError ? <ErrorBox error={defError} title="Cannot load a version" onRetry={() => setAttempt((n) => n + 1)} /> : null}
              {!diff && !defError ? <Loading label="Loading the definitions…" /> : null}
              {diff ? (
                <>
                  <p className="small muted diff-summary">
                    <span role="status">
                      {from === to ? 'The same version.' : changes ? `${changes} line${changes === 1 ? '' : 's'} differ between v${from} and v${to}.` : `v${from} and v${to} have the same definition.`}
                    </span>{' '}
                    <button type="button" className="link" onClick={() => setWhole(!whole)} aria-pressed={whole}>
                      {whole ? 'Show only the changes' : 'Show the whole definition'}
                    </button>
                  </p>
                  <pre className="diff" aria-label={`Differences from v${from} to v${to}`} tabIndex={0}>
                    {shown.map((l, n) =>
                      l.op === 'skip' ? (
                        <span key={n} className="diff-skip" data-op="skip">
                          {`⋯ ${l.count} unchanged line${l.count === 1 ? '' : 's'}\n`}
                        </span>
                      ) : (
                      <span key={n} className={`diff-${l.op}`} data-op={l.op}>
                        <span className="diff-sign" aria-hidden="true">
                          {l.op === 'add' ? '+' : l.op === 'del' ? '−' : ' '}
                        </span>
                        <span className="sr-only">{l.op === 'add' ? 'added: ' : l.op === 'del' ? 'removed: ' : ''}</span>
                        {l.text}
                        {'\n'}
                      </span>
                      ),
                    )}
                  </pre>
                </>
              ) : null}
            </>
          )}
        </>
      ) : null}
    </section>
  );
}
