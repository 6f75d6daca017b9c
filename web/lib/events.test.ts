import { describe, expect, it } from 'vitest';
import recorded from './__fixtures__/run-events.json';
import { applyEvent, applyEvents, initialState, pendingDrafts, readOnlyPending, type Envelope } from './events';

// A real run's events, recorded from `hil serve` with a scripted model: plan approved, SQL edited,
// documents retrieved, answer written with a citation.
const RUN = recorded as Envelope[];
const RUN_ID = RUN[0]!.run_id!;

function ev(seq: number, type: string, payload: Record<string, unknown> = {}, step: string | null = null): Envelope {
  return { id: `e${seq}`, run_id: RUN_ID, seq, type, ts: `2026-12-03T03:07:${String(seq).padStart(2, '0')}.000Z`, step, agent: step, payload };
}

describe('the run reducer', () => {
  it('keeps what is wrong with a draft that no try could fit to the schema, for the approver', () => {
    const s = applyEvents(initialState(), [
      ev(1, 'sql.drafted', { draft_id: 'd1', kind: 'sql_read', content: { sql: 'SELECT colour FROM vehicles' }, needs_approval: true,
        unresolved: { problems: "no table has a column 'colour'", proposed_repair: ['colour -> color'], message: 'x' } }, 'sql'),
      ev(2, 'sql.drafted', { draft_id: 'd2', kind: 'sql_read', content: { sql: 'SELECT 1' }, needs_approval: true }, 'sql'),
    ]);
    expect(s.drafts[0]?.unresolved).toEqual({ problems: "no table has a column 'colour'", proposedRepair: ['colour -> color'] });
    expect(s.drafts[1]?.unresolved).toBeNull();
  });

  it('folds a whole recorded run', () => {
    const s = applyEvents(initialState(), RUN);
    expect(s.status).toBe('succeeded');
    expect(s.question).toBe('How many vehicles per depot?');
    expect(s.lastSeq).toBe(RUN.length);
    expect(s.plan?.map((p) => p.agent)).toEqual(['sql', 'rag']);
    const [plan, sql] = s.drafts;
    expect(plan?.status).toBe('approved');
    expect(sql?.kind).toBe('sql_read');
    expect(sql?.status).toBe('ran');
    expect(sql?.edited?.sql).toContain('ORDER BY n DESC');
    expect(s.queries).toHaveLength(1);
    expect(s.queries[0]?.columns).toEqual(['depot', 'n']);
    expect(s.queries[0]?.complete).toBe(true);
    expect(s.snippets[0]?.ref).toBe(1);
    expect(s.answer?.final).toBe(true);
    expect(s.answer?.text).toContain('[1]');
    expect(s.answer?.citations[0]?.source).toBe('cooling.md');
    expect(s.steps.map((x) => [x.name, x.status])).toEqual([
      ['planner', 'done'],
      ['sql', 'done'],
      ['rag', 'done'],
      ['reasoner', 'done'],
      ['responder', 'done'],
    ]);
    expect(pendingDrafts(s)).toEqual([]);
    // answer.delta is shown as the answer, not as timeline entries
    expect(s.timeline.map((t) => t.type)).not.toContain('answer.delta');
    expect(new Set(s.timeline.map((t) => t.seq)).size).toBe(s.timeline.length);
  });

  it('keeps unknown event types as generic timeline entries and never crashes on junk', () => {
    let s = applyEvents(initialState(), RUN.slice(0, 3));
    s = applyEvent(s, ev(4, 'quantum.entangled', { spin: 'up' }, 'sql'));
    s = applyEvent(s, ev(5, 'step.started', null as unknown as Record<string, unknown>, 'sql'));
    const before = s;
    for (const junk of [null, undefined, 42, 'x', {}, { seq: 'nine', type: 'run.finished' }, { seq: 0, type: 'x' }, { seq: 7 }]) {
      s = applyEvent(s, junk);
    }
    expect(s).toBe(before);
    const unknown = s.timeline.find((t) => t.seq === 4);
    expect(unknown).toMatchObject({ type: 'quantum.entangled', label: 'quantum.entangled', known: false, step: 'sql' });
    expect(s.status).toBe('running');
  });

  it('ignores events replayed after a reconnect, returning the same state', () => {
    const first = applyEvents(initialState(), RUN.slice(0, 12));
    // the stream dropped and was resumed from an earlier point: 8..end arrive again
    const resumed = applyEvents(first, RUN.slice(7));
    const straight = applyEvents(initialState(), RUN);
    expect(resumed.timeline).toEqual(straight.timeline);
    expect(resumed.drafts).toEqual(straight.drafts);
    expect(resumed.answer).toEqual(straight.answer);
    expect(applyEvent(straight, RUN[4])).toBe(straight);
    expect(applyEvents(straight, RUN)).toBe(straight);
  });

  it('places out-of-order events by seq', () => {
    const shuffled = [...RUN].reverse();
    const s = applyEvents(initialState(), shuffled);
    const straight = applyEvents(initialState(), RUN);
    expect(s.timeline.map((t) => t.seq)).toEqual(straight.timeline.map((t) => t.seq));
    expect(s.status).toBe('succeeded');
    expect(s.drafts).toEqual(straight.drafts);
    expect(s.answer).toEqual(straight.answer);
    // one late event in the middle
    const missing = RUN.filter((e) => e.seq !== 10);
    const late = applyEvent(applyEvents(initialState(), missing), RUN.find((e) => e.seq === 10));
    expect(late.timeline.map((t) => t.seq)).toEqual(straight.timeline.map((t) => t.seq));
    expect(late.drafts.map((d) => d.status)).toEqual(['approved', 'ran']);
  });

  it('streams answer deltas and starts over on a revision', () => {
    let s = applyEvents(initialState(), [ev(1, 'run.created', { question: 'q' }), ev(2, 'step.started', {}, 'responder')]);
    s = applyEvent(s, ev(3, 'answer.delta', { text: 'Depot North ', revision: 0 }, 'responder'));
    s = applyEvent(s, ev(4, 'answer.delta', { text: 'has 9 vehicles.', revision: 0 }, 'responder'));
    expect(s.answer).toMatchObject({ text: 'Depot North has 9 vehicles.', revision: 0, final: false });
    s = applyEvent(s, ev(5, 'step.retried', { reason: 'ungrounded_answer', attempt: 1 }, 'responder'));
    s = applyEvent(s, ev(6, 'answer.delta', { text: 'Depot North has ', revision: 1 }, 'responder'));
    expect(s.answer?.text).toBe('Depot North has ');
    expect(s.answer?.revisions[0]).toBe('Depot North has 9 vehicles.');
    s = applyEvent(s, ev(6, 'answer.delta', { text: 'Depot North has ', revision: 1 }, 'responder')); // duplicate
    s = applyEvent(s, ev(7, 'answer.delta', { text: '2 vehicles [1].', revision: 1 }, 'responder'));
    expect(s.answer?.text).toBe('Depot North has 2 vehicles [1].');
    s = applyEvent(s, ev(8, 'answer.final', { text: 'Depot North has 2 vehicles [1].', revision: 1, citations: [{ ref: 1, title: 'Manual', source: 'm.md' }] }, 'responder'));
    expect(s.answer).toMatchObject({ final: true, revision: 1, text: 'Depot North has 2 vehicles [1].' });
    expect(s.answer?.citations[0]).toMatchObject({ ref: 1, title: 'Manual' });
    expect(s.steps[0]).toMatchObject({ name: 'responder', retries: 1, status: 'working' });
  });

  it('tracks approvals from requested to decided, and a rejected draft is followed by a new one', () => {
    const plan = { steps: [{ agent: 'sql', purpose: 'count' }] };
    let s = applyEvents(initialState(), [
      ev(1, 'run.created', { question: 'q', thread_id: 't1', workflow: 'wf' }),
      ev(2, 'run.started'),
      ev(3, 'step.started', {}, 'planner'),
      ev(4, 'plan.drafted', { draft_id: 'd1', kind: 'plan', content: plan, needs_approval: true, attempt: 1 }, 'planner'),
      ev(5, 'approval.requested', { approval_id: 'a1', draft_id: 'd1', kind: 'plan', content: plan, content_hash: 'h1', decisions: ['approve', 'edit', 'reject'] }, 'planner'),
    ]);
    expect(s.status).toBe('awaiting_approval');
    expect(pendingDrafts(s).map((d) => [d.approvalId, d.contentHash])).toEqual([['a1', 'h1']]);
    expect(s.steps[0]?.status).toBe('waiting');
    s = applyEvents(s, [
      ev(6, 'approval.decided', { approval_id: 'a1', draft_id: 'd1', decision: 'approve', kind: 'plan', user: 'ann' }, 'planner'),
      ev(7, 'run.resumed'),
      ev(8, 'step.finished', { output: plan }, 'planner'),
      ev(9, 'step.started', { purpose: 'count' }, 'sql'),
      ev(10, 'sql.drafted', { draft_id: 'd2', kind: 'sql_read', content: { sql: 'SELECT 1', connection: 'c' }, needs_approval: true, examples: [{ question: 'old q', sql: 'SELECT 0', score: 0.9, source: 'approved' }] }, 'sql'),
      ev(11, 'approval.requested', { approval_id: 'a2', draft_id: 'd2', kind: 'sql_read', content: { sql: 'SELECT 1' }, content_hash: 'h2' }, 'sql'),
      ev(12, 'approval.decided', { approval_id: 'a2', draft_id: 'd2', decision: 'reject', kind: 'sql_read', message: 'only 2024', user: 'ann' }, 'sql'),
      ev(13, 'sql.drafted', { draft_id: 'd3', kind: 'sql_read', content: { sql: 'SELECT 2' }, needs_approval: true, feedback: 'only 2024', attempt: 2 }, 'sql'),
      ev(14, 'approval.requested', { approval_id: 'a3', draft_id: 'd3', kind: 'sql_read', content: { sql: 'SELECT 2' }, content_hash: 'h3' }, 'sql'),
    ]);
    expect(s.drafts.map((d) => [d.draftId, d.status])).toEqual([
      ['d1', 'approved'],
      ['d2', 'rejected'],
      ['d3', 'proposed'],
    ]);
    expect(s.drafts[0]?.decidedBy).toBe('ann');
    expect(s.drafts[1]?.message).toBe('only 2024');
    expect(s.drafts[1]?.examples[0]).toMatchObject({ question: 'old q', sql: 'SELECT 0' });
    expect(s.drafts[2]?.feedback).toBe('only 2024');
    expect(pendingDrafts(s).map((d) => d.approvalId)).toEqual(['a3']);
    s = applyEvents(s, [
      ev(15, 'approval.decided', { approval_id: 'a3', draft_id: 'd3', decision: 'edit', kind: 'sql_read', edited: { sql: 'SELECT 3' } }, 'sql'),
      ev(16, 'run.resumed'),
      ev(17, 'sql.executed', { sql: 'SELECT 3', columns: ['x'], row_count: 1, sample_rows: [[3]] }, 'sql'),
    ]);
    expect(s.drafts[2]).toMatchObject({ status: 'ran', edited: { sql: 'SELECT 3' } });
    expect(s.queries[0]).toMatchObject({ sql: 'SELECT 3', rows: [[3]], complete: false });
    expect(s.status).toBe('running');
    s = applyEvent(s, ev(18, 'run.cancelled', { user: 'ann' }));
    expect(s.status).toBe('cancelled');
    expect(s.steps.find((x) => x.name === 'sql')?.status).toBe('failed');
  });

  it('shows an approval that expired, and a failed run with its error', () => {
    const s = applyEvents(initialState(), [
      ev(1, 'run.created', { question: 'q' }),
      ev(2, 'plan.drafted', { draft_id: 'd1', kind: 'plan', content: { steps: [] }, needs_approval: true }, 'planner'),
      ev(3, 'approval.requested', { approval_id: 'a1', draft_id: 'd1', kind: 'plan', content_hash: 'h' }, 'planner'),
      ev(4, 'approval.expired', { approval_id: 'a1', kind: 'plan' }, 'planner'),
      ev(5, 'run.failed', { error: 'the approval expired', code: 'expired' }),
    ]);
    expect(s.drafts[0]?.status).toBe('expired');
    expect(s.status).toBe('failed');
    expect(s.error).toEqual({ message: 'the approval expired', code: 'expired' });
  });

  it('says a plain draft was passed over rather than that the step retried', () => {
    let s = applyEvent(initialState(), ev(1, 'step.retried', { reason: 'plain_not_taken', source: 'plain', error: 'the query returned no rows' }, 'sql'));
    s = applyEvent(s, ev(2, 'step.retried', { reason: 'invalid_sql', error: 'no such column: colour' }, 'sql'));
    expect(s.timeline.map((t) => [t.label, t.detail])).toEqual([
      ['sql: plain draft not taken', 'the query returned no rows'], ['sql retried', 'no such column: colour']]);
  });

  it('ignores another run\'s events', () => {
    const s = applyEvents(initialState(), RUN.slice(0, 3));
    expect(applyEvent(s, { ...ev(4, 'run.finished'), run_id: 'someone-else' })).toBe(s);
  });
});

describe('the run reducer: what the approval cards and results show', () => {
  const draft = (seq: number, id: string, sql: string, extra: Record<string, unknown> = {}) =>
    ev(seq, 'sql.drafted', { draft_id: id, kind: 'sql_read', content: { sql, connection: 'fleet' }, needs_approval: true, attempt: 1, ...extra }, 'sql');
  const events = [
    ev(1, 'run.created', { question: 'per depot?' }),
    ev(2, 'run.started'),
    ev(3, 'step.started', { purpose: 'count' }, 'sql'),
    draft(4, 'd1', 'SELECT depot FROM v', { adjustments: ["'NORTH' is stored as 'north'"], examples: [{ question: 'q', sql: 'SELECT 1', score: 0.9 }] }),
    ev(5, 'approval.requested', { approval_id: 'a1', draft_id: 'd1', kind: 'sql_read', content_hash: 'h1', expires_at: 1_900_000_000.5, decisions: ['approve', 'edit', 'reject'] }, 'sql'),
    ev(6, 'approval.decided', { approval_id: 'a1', draft_id: 'd1', kind: 'sql_read', decision: 'edit', edited: { sql: 'SELECT depot, count(*) FROM v GROUP BY depot', connection: 'fleet' }, user: 'ada' }, 'sql'),
    ev(7, 'sql.executed', { sql: 'SELECT depot, count(*) FROM v GROUP BY depot', connection: 'fleet', columns: ['depot', 'n'], sample_rows: [['north', 3]], row_count: 1 }, 'sql'),
    ev(8, 'sql.rows_behind_aggregate', { sql: 'x', groups: [{ group: { depot: 'north' }, sql: 'SELECT * FROM v WHERE depot = north', columns: ['id'], rows: [['VH-1']] }] }, 'sql'),
    ev(9, 'step.finished', { output: { sql: 'SELECT depot, count(*) FROM v GROUP BY depot', columns: ['depot', 'n'], rows: [['north', 3]], row_count: 1 } }, 'sql'),
    ev(10, 'answer.final', { text: 'north has 3 of 12', verified_numbers: ['12'], unverified_numbers: ['99'], unverified_identifiers: [] }),
  ];

  it('keeps the other drafts a human may start an edit from', () => {
    const s = applyEvents(initialState(), [
      ev(1, 'run.created', { question: 'per depot?' }),
      draft(2, 'd1', 'SELECT depot FROM v', { alternatives: [{ source: 'schema only', sql: 'SELECT depot, count(*) FROM v GROUP BY depot' }, 'junk'] }),
    ]);
    expect(s.drafts[0]?.alternatives).toEqual([
      { source: 'schema only', sql: 'SELECT depot, count(*) FROM v GROUP BY depot' },
    ]);
  });

  it('says when a draft is the query approved for the same question before', () => {
    const s = applyEvents(initialState(), [
      ev(1, 'run.created', { question: 'per depot?' }),
      draft(2, 'd1', 'SELECT depot FROM v', { reused: true }),
      draft(3, 'd2', 'SELECT depot FROM v', { reused: 'yes' }),
    ]);
    expect(s.drafts.map((d) => d.reused)).toEqual([true, false]);
  });

  it('keeps a draft\'s value alignments, examples, expiry and what ran', () => {
    const s = applyEvents(initialState(), events);
    const [d] = s.drafts;
    expect(d?.adjustments).toEqual(["'NORTH' is stored as 'north'"]);
    expect(d?.alternatives).toEqual([]);
    expect(d?.examples[0]?.sql).toBe('SELECT 1');
    expect(d?.expiresAt).toBe(1_900_000_000.5);
    expect(d?.status).toBe('ran');
    expect(d?.ran?.sql).toBe(d?.edited?.sql);
    expect(d?.decidedBy).toBe('ada');
    expect(s.answer?.verifiedNumbers).toEqual(['12']);
    expect(s.answer?.unverifiedNumbers).toEqual(['99']);
  });

  it('keeps the rows behind aggregates when the full result replaces the sample', () => {
    const s = applyEvents(initialState(), events);
    expect(s.queries).toHaveLength(1);
    expect(s.queries[0]?.complete).toBe(true);
    expect(s.queries[0]?.evidence.map((g) => [g.group, g.rows])).toEqual([['depot = north', [['VH-1']]]]);
  });

  it('folds the same view whatever the order, duplicates and unknown events', () => {
    const straight = applyEvents(initialState(), events);
    const noisy = [...events.slice(5), ev(11, 'future.thing', { x: 1 }), ...events.slice(0, 7), ...events].reverse();
    const s = applyEvents(initialState(), noisy);
    expect(s.drafts).toEqual(straight.drafts);
    expect(s.queries).toEqual(straight.queries);
    expect(s.answer).toEqual(straight.answer);
    expect(s.timeline.find((t) => t.seq === 11)).toMatchObject({ known: false, label: 'future.thing' });
    expect(new Set(s.timeline.map((t) => t.seq)).size).toBe(s.timeline.length);
  });

  it('marks a write as ran with the rows it changed, and counts endorsements', () => {
    const s = applyEvents(initialState(), [
      ...events.slice(0, 3),
      ev(4, 'sql.drafted', { draft_id: 'w1', kind: 'sql_write', content: { sql: 'DELETE FROM v', write: true, impact: { rows: 2 } }, needs_approval: true }, 'sql'),
      ev(5, 'approval.requested', { approval_id: 'a2', draft_id: 'w1', kind: 'sql_write', content_hash: 'h2' }, 'sql'),
      ev(6, 'approval.endorsed', { approval_id: 'a2', draft_id: 'w1', kind: 'sql_write', user: 'bo', approvers: ['bo'], needed: 2 }, 'sql'),
    ]);
    expect(s.drafts[0]?.endorsedBy).toEqual(['bo']);
    expect(s.timeline.at(-1)).toMatchObject({ label: 'Endorsed by bo: sql_write', known: true });
    expect(pendingDrafts(s)).toHaveLength(1);
    expect(readOnlyPending(s.drafts)).toEqual([]); // a write is never approved in bulk
    const done = applyEvents(s, [
      ev(7, 'approval.decided', { approval_id: 'a2', draft_id: 'w1', kind: 'sql_write', decision: 'approve', user: 'cy' }, 'sql'),
      ev(8, 'sql.write_executed', { sql: 'DELETE FROM v', connection: 'fleet', rows_affected: 2 }, 'sql'),
    ]);
    expect(done.drafts[0]).toMatchObject({ status: 'ran', ran: { sql: 'DELETE FROM v', rows_affected: 2 } });
  });

  it('offers plans and reads for "approve all read-only", not questions or decided ones', () => {
    const s = applyEvents(initialState(), [
      ev(1, 'run.created', { question: 'q' }),
      ev(2, 'plan.drafted', { draft_id: 'p', kind: 'plan', content: { steps: [] }, needs_approval: true }, 'planner'),
      ev(3, 'approval.requested', { approval_id: 'ap', draft_id: 'p', kind: 'plan', content_hash: 'hp' }, 'planner'),
      ev(4, 'approval.requested', { approval_id: 'ac', kind: 'clarification', content_hash: 'hc', content: { question: 'which?' } }, 'sql'),
      draft(5, 'd9', 'SELECT 1'),
      ev(6, 'approval.requested', { approval_id: 'a9', draft_id: 'd9', kind: 'sql_read', content_hash: 'h9' }, 'sql'),
    ]);
    expect(readOnlyPending(s.drafts).map((d) => d.approvalId)).toEqual(['ap', 'a9']);
  });

  it('records the plan that ran on the approved plan draft', () => {
    const s = applyEvents(initialState(), [
      ev(1, 'run.created', { question: 'q' }),
      ev(2, 'plan.drafted', { draft_id: 'p', kind: 'plan', content: { steps: [{ agent: 'sql', purpose: 'a' }] }, needs_approval: true }, 'planner'),
      ev(3, 'approval.requested', { approval_id: 'ap', draft_id: 'p', kind: 'plan', content_hash: 'hp' }, 'planner'),
      ev(4, 'approval.decided', { approval_id: 'ap', draft_id: 'p', kind: 'plan', decision: 'edit', edited: { steps: [{ agent: 'sql', purpose: 'b' }] }, user: 'ada' }, 'planner'),
      ev(5, 'step.finished', { output: { steps: [{ agent: 'sql', purpose: 'b' }] } }, 'planner'),
    ]);
    expect(s.drafts[0]).toMatchObject({ status: 'edited', ran: { steps: [{ agent: 'sql', purpose: 'b' }] } });
    expect(s.plan).toEqual([{ agent: 'sql', purpose: 'b' }]);
  });
});

describe('the run reducer: tool calls and policy verdicts', () => {
  it('shows a proposed tool call as a draft with its approval, and the policy verdict in the timeline', () => {
    const s = applyEvents(initialState(), [
      ev(1, 'run.created', { question: 'open a ticket' }),
      ev(2, 'tool.proposed', { draft_id: 't1', kind: 'tool_call', content: { server: 'tickets', tool: 'open', arguments: { title: 'x' } }, summary: 'tickets/open', needs_approval: true, attempt: 1 }, 'tools'),
      ev(3, 'policy.decided', { draft_id: 't1', action: 'tool:tickets/open', needs_approval: true, rule: 'gate:acting-tools', reason: 'acting tools wait' }, 'tools'),
      ev(4, 'approval.requested', { approval_id: 'ta', draft_id: 't1', kind: 'tool_call', content_hash: 'ht' }, 'tools'),
    ]);
    expect(s.drafts).toHaveLength(1);
    expect(s.drafts[0]).toMatchObject({ kind: 'tool_call', step: 'tools', status: 'proposed', approvalId: 'ta' });
    expect(readOnlyPending(s.drafts)).toEqual([]); // an acting tool is never approved in bulk
    expect(s.timeline.map((t) => t.label)).toEqual(['Run created', 'Tool call proposed', 'Policy: waits for a human', 'Approval requested: tool_call']);
    expect(s.timeline[2]!.detail).toBe('gate:acting-tools: acting tools wait');
  });
});
