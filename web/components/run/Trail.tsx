'use client';

import type { ReactNode } from 'react';
import { changed, diffLines, planLines, type PlanStepText } from '@/lib/diff';
import type { DraftView } from '@/lib/events';
import { DiffView } from './Diff';
import { SqlCode } from './SqlCode';

export function planOf(content: Record<string, unknown> | null | undefined): PlanStepText[] {
  const steps = content && Array.isArray(content.steps) ? content.steps : [];
  return steps.map((s) => {
    const o = (s && typeof s === 'object' ? s : {}) as Record<string, unknown>;
    return { agent: String(o.agent ?? ''), purpose: String(o.purpose ?? '') };
  });
}

export function PlanList({ steps }: { steps: PlanStepText[] }) {
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

const sqlOf = (c: Record<string, unknown> | null | undefined): string => String(c?.sql ?? '');

function Row({ name, state, children }: { name: string; state: string; children: ReactNode }) {
  return (
    <div className={`trail-row trail-${state}`} data-trail={name.toLowerCase()} data-state={state}>
      <dt>{name}</dt>
      <dd>{children}</dd>
    </div>
  );
}

/**
 * What was proposed, what was approved (as proposed, or the edit with its diff against the
 * draft) and what ran (checked against what was approved), for a plan or a SQL draft.
 */
export function Trail({ draft }: { draft: DraftView }) {
  const isPlan = draft.kind === 'plan';
  const decided = ['approved', 'edited', 'ran'].includes(draft.status);
  const approved = draft.edited ?? draft.content;
  const edited = draft.edited !== null;
  const text = (c: Record<string, unknown> | null | undefined): string => (isPlan ? planLines(planOf(c)).join('\n') : sqlOf(c).trim());
  const editDiff = edited ? diffLines(text(draft.content), text(draft.edited)) : [];
  const ranText = draft.ran ? text(draft.ran) : null;
  const ranMatches = ranText !== null && ranText === text(approved);
  const by = draft.decidedBy ? ` by ${draft.decidedBy}` : '';

  let approval: ReactNode;
  let approvalState = 'waiting';
  if (decided && !draft.needsApproval) {
    approvalState = 'done';
    approval = <span className="muted">No approval needed under the workflow&apos;s policy.</span>;
  } else if (decided && !edited) {
    approvalState = 'done';
    approval = <span>As proposed{by}.</span>;
  } else if (decided) {
    approvalState = 'done';
    approval = (
      <>
        <span>Edited{by}. Changes against the draft:</span>
        {changed(editDiff) ? <DiffView diff={editDiff} label={isPlan ? 'Plan changes' : 'SQL changes'} code={!isPlan} /> : <span className="muted"> none</span>}
      </>
    );
  } else if (draft.status === 'rejected') {
    approvalState = 'refused';
    approval = <span>Rejected{by}{draft.message ? <>: <q>{draft.message}</q></> : null}</span>;
  } else if (draft.status === 'expired') {
    approvalState = 'refused';
    approval = <span>Expired before anyone decided.</span>;
  } else if (draft.status === 'superseded') {
    approvalState = 'refused';
    approval = <span>Replaced by a newer draft.</span>;
  } else if (draft.status === 'failed') {
    approvalState = 'done';
    approval = <span>{edited ? `Edited${by}.` : `As proposed${by}.`}</span>;
  } else {
    approval = <span className="muted">Waiting for a decision.</span>;
  }

  let ran: ReactNode;
  let ranState = 'waiting';
  if (draft.status === 'failed') {
    ranState = 'refused';
    ran = <span className="field-error">Failed: {draft.error}</span>;
  } else if (ranText !== null) {
    ranState = ranMatches ? 'done' : 'mismatch';
    ran = (
      <>
        <span>{ranMatches ? (isPlan ? '✓ The approved plan.' : '✓ The approved SQL, exactly.') : '⚠ Not what was approved:'}</span>
        {isPlan ? (ranMatches ? null : <PlanList steps={planOf(draft.ran)} />) : <SqlCode sql={ranText} label="SQL that ran" small />}
        {typeof draft.ran?.rows_affected === 'number' ? <span className="small"> {draft.ran.rows_affected} rows changed.</span> : null}
      </>
    );
  } else if (['rejected', 'expired', 'superseded'].includes(draft.status)) {
    ranState = 'refused';
    ran = <span className="muted">Did not run.</span>;
  } else {
    ran = <span className="muted">{decided ? 'Running…' : 'Not yet.'}</span>;
  }

  return (
    <dl className="trail" aria-label="Proposed, approved and ran">
      <Row name="Proposed" state="done">
        {isPlan ? <PlanList steps={planOf(draft.content)} /> : <SqlCode sql={sqlOf(draft.content)} label="Proposed SQL" />}
      </Row>
      <Row name="Approved" state={approvalState}>
        {approval}
      </Row>
      <Row name="Ran" state={ranState}>
        {ran}
      </Row>
    </dl>
  );
}
