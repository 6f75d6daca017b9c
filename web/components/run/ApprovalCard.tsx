'use client';

import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { api, ApiError, errorText, runApprovals, type DecisionIn } from '@/lib/api';
import { changed, diffLines, planLines } from '@/lib/diff';
import type { DraftView } from '@/lib/events';
import { Countdown } from './Countdown';
import { DiffView } from './Diff';
import { DryRunPanel } from './DryRunPanel';
import { SqlCode, SqlEditor } from './SqlCode';
import { planOf, Trail } from './Trail';
import './run.css';

type Mode = 'view' | 'edit' | 'reject';
type PlanStep = { agent: string; purpose: string };

const STATUS_TEXT: Record<string, string> = {
  proposed: 'waiting for a decision',
  approved: 'approved',
  edited: 'edited and approved',
  rejected: 'rejected',
  expired: 'expired',
  ran: 'ran',
  failed: 'failed to run',
  superseded: 'replaced by a newer draft',
};

function title(d: DraftView): string {
  if (d.kind === 'plan') return 'Plan';
  if (d.kind === 'sql_read') return 'SQL query';
  if (d.kind === 'sql_write') return 'SQL write';
  if (d.kind === 'clarification') return 'Question from the agent';
  if (d.kind === 'tool_call') return `Tool call${d.content.server ? `: ${String(d.content.server)}/${String(d.content.tool ?? '')}` : ''}`;
  return d.kind;
}

/** Who decided an approval that this tab still showed as pending (a 409 on our decision). */
async function decidedElsewhere(approvalId: string, runId: string | undefined, fallback: string): Promise<string> {
  if (!runId) return fallback;
  try {
    const all = await runApprovals(runId);
    const a = all.find((x) => x.id === approvalId);
    if (a && a.status !== 'pending') {
      const what = a.decision === 'edit' ? 'edited and approved' : a.decision === 'reject' ? 'rejected' : a.decision === 'respond' ? 'answered' : a.status;
      return `${what}${a.decided_by ? ` by ${a.decided_by}` : ''}${a.message ? ` (“${a.message}”)` : ''}`;
    }
  } catch {
    // the message of the refusal is still worth showing
  }
  return fallback;
}

export function ApprovalCard({
  draft,
  canDecide,
  onForbidden,
  autoFocus,
  runId,
  canDryRun = true,
  onDryRunForbidden,
}: {
  draft: DraftView;
  canDecide: boolean;
  onForbidden: () => void;
  autoFocus?: boolean;
  runId?: string;
  canDryRun?: boolean;
  onDryRunForbidden?: () => void;
}) {
  const pending = draft.status === 'proposed' && Boolean(draft.approvalId && draft.contentHash);
  const shown = draft.edited ?? draft.content;
  const isSql = draft.kind.startsWith('sql');
  const [mode, setMode] = useState<Mode>('view');
  const [sql, setSql] = useState(String(draft.content.sql ?? ''));
  const [plan, setPlan] = useState<PlanStep[]>(planOf(draft.content));
  const [message, setMessage] = useState('');
  const [raw, setRaw] = useState(() => JSON.stringify(draft.content, null, 2)); // any other kind is edited as JSON
  const [busy, setBusy] = useState(false);
  const [sent, setSent] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [conflict, setConflict] = useState<string | null>(null);
  const card = useRef<HTMLElement>(null);
  const editor = useRef<HTMLTextAreaElement>(null);
  const firstPurpose = useRef<HTMLInputElement>(null);
  const reason = useRef<HTMLTextAreaElement>(null);
  const id = `draft-${draft.draftId}`;

  useEffect(() => {
    // take the focus for the keyboard shortcuts, unless the user is busy elsewhere
    const active = document.activeElement;
    if (autoFocus && pending && (!active || active === document.body)) card.current?.focus({ preventScroll: true });
  }, [autoFocus, pending]);

  useEffect(() => {
    // a replayed run passes through "pending" on its way to decided: let go of the focus it took then
    if (!pending && document.activeElement === card.current) card.current?.blur();
  }, [pending]);

  useEffect(() => {
    if (mode === 'edit') (draft.kind === 'plan' ? firstPurpose.current : editor.current)?.focus();
    if (mode === 'reject') reason.current?.focus();
  }, [mode, draft.kind]);

  const decide = async (body: Omit<DecisionIn, 'content_hash'>) => {
    if (!draft.approvalId || !draft.contentHash) return;
    setBusy(true);
    setError(null);
    try {
      await api.decide(draft.approvalId, { ...body, content_hash: draft.contentHash });
      setSent(body.decision);
      setMode('view');
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) setConflict(await decidedElsewhere(draft.approvalId, runId, err.message));
      else if (err instanceof ApiError && err.status === 403) {
        onForbidden();
        setError(err.message);
      } else setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const approve = () => void decide({ decision: 'approve' });
  const saveEdit = () => {
    if (draft.kind === 'plan') void decide({ decision: 'edit', content: { ...draft.content, steps: plan.filter((s) => s.purpose.trim()) } });
    else if (isSql) void decide({ decision: 'edit', content: { ...draft.content, sql } });
    else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch (err) {
        setError(`The edit is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
        setError('The edit must be a JSON object, like the proposal.');
        return;
      }
      void decide({ decision: 'edit', content: parsed as Record<string, unknown> });
    }
  };
  const reject = () => {
    if (!message.trim()) {
      setError('Say why, so the agent can redraft.');
      reason.current?.focus();
      return;
    }
    void decide({ decision: 'reject', message: message.trim() });
  };
  const respond = () => {
    if (!message.trim()) return;
    void decide({ decision: 'respond', message: message.trim() });
  };

  const actionable = pending && canDecide && !sent && !conflict;
  const allowed = (d: string) => draft.decisions.length === 0 || draft.decisions.includes(d);

  const onKey = (e: KeyboardEvent<HTMLElement>) => {
    if (!actionable || e.target !== e.currentTarget || e.metaKey || e.ctrlKey || e.altKey) return;
    if (e.key === 'a' && allowed('approve')) {
      e.preventDefault();
      approve();
    } else if (e.key === 'e' && allowed('edit') && draft.kind !== 'clarification') {
      e.preventDefault();
      setMode('edit');
    } else if (e.key === 'r' && allowed('reject')) {
      e.preventDefault();
      setMode('reject');
    }
  };

  const planEdit = useMemo(
    () => (mode === 'edit' && draft.kind === 'plan' ? diffLines(planLines(planOf(draft.content)), planLines(plan.filter((s) => s.purpose.trim()))) : []),
    [mode, draft.kind, draft.content, plan],
  );
  const impact = (shown.impact ?? null) as { summary?: string; verb?: string; table?: string | null; rows?: number | null } | null;
  return (
    <section
      ref={card}
      className={`card approval ${pending && !conflict ? 'pending' : 'decided'}`}
      aria-labelledby={`${id}-title`}
      tabIndex={actionable ? 0 : -1}
      onKeyDown={onKey}
      data-kind={draft.kind}
      data-status={draft.status}
    >
      <header className="card-head">
        <h3 id={`${id}-title`}>
          {title(draft)}
          {draft.attempt > 1 ? <span className="muted"> · draft {draft.attempt}</span> : null}
        </h3>
        <span className={`pill pill-${conflict ? 'rejected' : draft.status}`}>
          {conflict ? 'decided elsewhere' : draft.status === 'ran' ? (draft.edited ? 'edited' : 'approved') : STATUS_TEXT[draft.status] ?? draft.status}
          {draft.decidedBy && !conflict ? ` by ${draft.decidedBy}` : ''}
          {draft.status === 'ran' && !conflict ? ', ran' : ''}
        </span>
      </header>

      {draft.feedback ? (
        <p className="note">
          Redrafted after: <q>{draft.feedback}</q>
        </p>
      ) : null}

      {draft.unresolved ? (
        <p className="note" role="alert">
          This draft does not fit the schema: {draft.unresolved.problems}.
          {draft.unresolved.proposedRepair.length
            ? ` Proposed repair: ${draft.unresolved.proposedRepair.join('; ')}.`
            : ''}{' '}
          Edit it, or reject it with a message.
        </p>
      ) : null}

      {pending && !sent && !conflict ? <Countdown expiresAt={draft.expiresAt} /> : null}
      {(draft.kind === 'plan' || isSql) && mode !== 'edit' ? <Trail draft={draft} /> : null}
      {isSql && shown.connection ? <p className="muted small">on connection {String(shown.connection)}</p> : null}
      {draft.kind === 'sql_write' && impact ? (
        <p className="note impact" data-impact-rows={impact.rows ?? ''}>
          <strong>Estimated impact:</strong> {impact.summary ?? ''}
        </p>
      ) : null}
      {isSql && draft.adjustments.length ? (
        <div className="adjustments small">
          <strong>Values aligned with the data:</strong>
          <ul>
            {draft.adjustments.map((a) => (
              <li key={a}>{a}</li>
            ))}
          </ul>
        </div>
      ) : null}
      {isSql && pending && canDecide && draft.alternatives?.length ? (
        <details className="alternatives">
          <summary>
            {draft.alternatives.length} other draft{draft.alternatives.length > 1 ? 's' : ''} of this query
          </summary>
          <ul>
            {draft.alternatives.map((alt) => (
              <li key={alt.sql}>
                <span className="muted small">{alt.source}</span>
                <SqlCode sql={alt.sql} label={`Other draft (${alt.source})`} small />
                <button
                  type="button"
                  onClick={() => {
                    setSql(alt.sql);
                    setMode('edit');
                  }}
                  disabled={busy}
                >
                  Edit from this draft
                </button>
              </li>
            ))}
          </ul>
        </details>
      ) : null}
      {draft.kind === 'clarification' ? <p>{String(shown.question ?? shown.text ?? JSON.stringify(shown))}</p> : null}
      {!['plan', 'clarification'].includes(draft.kind) && !isSql ? <pre className="sql">{JSON.stringify(shown, null, 2)}</pre> : null}

      {isSql && draft.reused ? (
        <p className="muted small">The query approved when this question was asked before, reused as it was.</p>
      ) : null}
      {isSql ? (
        draft.examples.length ? (
          <details className="examples">
            <summary>Based on {draft.examples.length} approved example{draft.examples.length > 1 ? 's' : ''}</summary>
            <ul>
              {draft.examples.map((ex, i) => (
                <li key={ex.id ?? i}>
                  <q>{ex.question}</q>
                  {ex.score !== undefined ? <span className="muted small"> · similarity {ex.score}</span> : null}
                  {ex.source ? <span className="muted small"> · {ex.source}</span> : null}
                  <SqlCode sql={ex.sql} label="Example SQL" small />
                </li>
              ))}
            </ul>
          </details>
        ) : (
          <p className="muted small">No earlier examples were similar enough; drafted from the schema.</p>
        )
      ) : null}


      {mode === 'edit' && draft.kind === 'plan' ? (
        <fieldset className="plan-edit">
          <legend>Edit the plan</legend>
          {plan.map((s, i) => (
            <div className="row" key={i}>
              <label className="sr-only" htmlFor={`${id}-agent-${i}`}>
                Agent of step {i + 1}
              </label>
              <select id={`${id}-agent-${i}`} value={s.agent} onChange={(e) => setPlan(plan.map((p, j) => (j === i ? { ...p, agent: e.target.value } : p)))}>
                {['sql', 'rag', ...(['sql', 'rag'].includes(s.agent) ? [] : [s.agent])].map((a) => (
                  <option key={a} value={a}>
                    {a}
                  </option>
                ))}
              </select>
              <label className="sr-only" htmlFor={`${id}-purpose-${i}`}>
                Purpose of step {i + 1}
              </label>
              <input
                id={`${id}-purpose-${i}`}
                ref={i === 0 ? firstPurpose : undefined}
                value={s.purpose}
                onChange={(e) => setPlan(plan.map((p, j) => (j === i ? { ...p, purpose: e.target.value } : p)))}
              />
              <button type="button" className="link" onClick={() => setPlan(plan.filter((_, j) => j !== i))} aria-label={`Remove step ${i + 1}`}>
                Remove
              </button>
            </div>
          ))}
          <button type="button" className="link" onClick={() => setPlan([...plan, { agent: 'sql', purpose: '' }])}>
            Add a step
          </button>
          {changed(planEdit) ? (
            <div className="edit-preview">
              <p className="small muted">Your changes against the draft:</p>
              <DiffView diff={planEdit} label="Plan changes" />
            </div>
          ) : null}
        </fieldset>
      ) : null}
      {mode === 'edit' && !isSql && draft.kind !== 'plan' ? (
        <div className="field">
          <label htmlFor={`${id}-json`}>Edit the proposal (JSON)</label>
          <textarea
            id={`${id}-json`}
            ref={editor}
            className="code"
            rows={Math.min(16, Math.max(4, raw.split('\n').length + 1))}
            value={raw}
            spellCheck={false}
            onChange={(e) => setRaw(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape') setMode('view');
            }}
          />
        </div>
      ) : null}
      {mode === 'edit' && isSql ? <SqlEditor id={`${id}-sql`} label="Edit the SQL" value={sql} onChange={setSql} onEscape={() => setMode('view')} inputRef={editor} /> : null}
      {isSql && pending && canDryRun && draft.approvalId && !sent && !conflict ? (
        <DryRunPanel approvalId={draft.approvalId} sql={mode === 'edit' ? sql : undefined} onForbidden={() => onDryRunForbidden?.()} />
      ) : null}
      {mode === 'reject' || (draft.kind === 'clarification' && actionable) ? (
        <div className="field">
          <label htmlFor={`${id}-message`}>{draft.kind === 'clarification' ? 'Your answer' : 'Why? The agent redrafts with this'}</label>
          <textarea
            id={`${id}-message`}
            ref={reason}
            rows={2}
            value={message}
            onChange={(e) => setMessage(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape') setMode('view');
            }}
          />
        </div>
      ) : null}

      {error ? (
        <p className="field-error" role="alert">
          {error}
        </p>
      ) : null}
      {conflict ? (
        <p className="note" role="status">
          Already decided: {conflict}
        </p>
      ) : null}
      {sent && pending ? (
        <p className="muted" role="status">
          Sent: {sent}. Waiting for the run to continue…
        </p>
      ) : null}

      {actionable ? (
        <div className="actions">
          {draft.kind === 'clarification' ? (
            <button type="button" className="primary" onClick={respond} disabled={busy || !message.trim()}>
              Send answer
            </button>
          ) : mode === 'edit' ? (
            <>
              <button type="button" className="primary" onClick={saveEdit} disabled={busy}>
                Approve with edits
              </button>
              <button type="button" onClick={() => setMode('view')} disabled={busy}>
                Cancel edit
              </button>
            </>
          ) : mode === 'reject' ? (
            <>
              <button type="button" className="danger" onClick={reject} disabled={busy}>
                Reject
              </button>
              <button type="button" onClick={() => setMode('view')} disabled={busy}>
                Cancel
              </button>
            </>
          ) : (
            <>
              {allowed('approve') ? (
                <button type="button" className="primary" onClick={approve} disabled={busy} aria-keyshortcuts="a">
                  Approve <kbd>a</kbd>
                </button>
              ) : null}
              {allowed('edit') ? (
                <button type="button" onClick={() => setMode('edit')} disabled={busy} aria-keyshortcuts="e">
                  Edit <kbd>e</kbd>
                </button>
              ) : null}
              {allowed('reject') ? (
                <button type="button" onClick={() => setMode('reject')} disabled={busy} aria-keyshortcuts="r">
                  Reject <kbd>r</kbd>
                </button>
              ) : null}
            </>
          )}
        </div>
      ) : pending && !canDecide ? (
        <p className="muted small">Your role may not decide approvals (approver or higher).</p>
      ) : null}
      {actionable && mode === 'view' ? <p className="muted small hint">Focus this card and press a, e or r.</p> : null}
    </section>
  );
}
