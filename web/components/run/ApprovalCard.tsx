'use client';

import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { api, ApiError, errorText, type DecisionIn } from '@/lib/api';
import type { DraftView } from '@/lib/events';

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
  return d.kind;
}

function planOf(content: Record<string, unknown>): PlanStep[] {
  const steps = Array.isArray(content.steps) ? content.steps : [];
  return steps.map((s) => {
    const o = (s && typeof s === 'object' ? s : {}) as Record<string, unknown>;
    return { agent: String(o.agent ?? ''), purpose: String(o.purpose ?? '') };
  });
}

function PlanList({ steps }: { steps: PlanStep[] }) {
  if (!steps.length) return <p className="muted">No steps.</p>;
  return (
    <ol className="plan">
      {steps.map((s, i) => (
        <li key={i}>
          <span className="agent">{s.agent}</span> {s.purpose}
        </li>
      ))}
    </ol>
  );
}

export function ApprovalCard({
  draft,
  canDecide,
  onForbidden,
  autoFocus,
}: {
  draft: DraftView;
  canDecide: boolean;
  onForbidden: () => void;
  autoFocus?: boolean;
}) {
  const pending = draft.status === 'proposed' && Boolean(draft.approvalId && draft.contentHash);
  const shown = draft.edited ?? draft.content;
  const [mode, setMode] = useState<Mode>('view');
  const [sql, setSql] = useState(String(draft.content.sql ?? ''));
  const [plan, setPlan] = useState<PlanStep[]>(planOf(draft.content));
  const [message, setMessage] = useState('');
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
      if (err instanceof ApiError && err.status === 409) setConflict(err.message);
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
    else void decide({ decision: 'edit', content: { ...draft.content, sql } });
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

  const isSql = draft.kind.startsWith('sql');
  return (
    <section
      ref={card}
      className={`card approval ${pending ? 'pending' : 'decided'}`}
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
        <span className={`pill pill-${draft.status}`}>
          {draft.status === 'ran' ? (draft.edited ? 'edited' : 'approved') : STATUS_TEXT[draft.status] ?? draft.status}
          {draft.decidedBy ? ` by ${draft.decidedBy}` : ''}
          {draft.status === 'ran' ? ', ran' : ''}
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

      {draft.kind === 'plan' && mode !== 'edit' ? <PlanList steps={planOf(shown)} /> : null}
      {isSql && mode !== 'edit' ? (
        <>
          <pre className="sql" aria-label="SQL">
            <code>{String(shown.sql ?? '')}</code>
          </pre>
          {draft.edited && draft.edited.sql !== draft.content.sql ? (
            <details>
              <summary>Drafted SQL before the edit</summary>
              <pre className="sql">
                <code>{String(draft.content.sql ?? '')}</code>
              </pre>
            </details>
          ) : null}
          {shown.connection ? <p className="muted small">on connection {String(shown.connection)}</p> : null}
          {draft.kind === 'sql_write' && shown.impact ? <p className="note">{String((shown.impact as Record<string, unknown>).summary ?? '')}</p> : null}
        </>
      ) : null}
      {draft.kind === 'clarification' ? <p>{String(shown.question ?? shown.text ?? JSON.stringify(shown))}</p> : null}
      {!['plan', 'clarification'].includes(draft.kind) && !isSql ? <pre className="sql">{JSON.stringify(shown, null, 2)}</pre> : null}

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
                  <pre className="sql small">
                    <code>{ex.sql}</code>
                  </pre>
                </li>
              ))}
            </ul>
          </details>
        ) : (
          <p className="muted small">No earlier examples were similar enough; drafted from the schema.</p>
        )
      ) : null}

      {draft.message && draft.status === 'rejected' ? (
        <p className="note">
          Rejected: <q>{draft.message}</q>
        </p>
      ) : null}
      {draft.error ? <p className="field-error">Failed: {draft.error}</p> : null}

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
        </fieldset>
      ) : null}
      {mode === 'edit' && isSql ? (
        <div className="field">
          <label htmlFor={`${id}-sql`}>Edit the SQL</label>
          <textarea
            id={`${id}-sql`}
            ref={editor}
            className="code"
            rows={Math.min(14, Math.max(4, sql.split('\n').length + 1))}
            value={sql}
            spellCheck={false}
            onChange={(e) => setSql(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape') setMode('view');
            }}
          />
        </div>
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
