// The run page's view state, folded from event envelopes. Pure: no I/O, no clock.
//
// `applyEvent(state, envelope)` is idempotent by seq: an event whose seq was already applied
// (a replay after a reconnect, a duplicate) returns the same state object; an event that arrives
// before an earlier one is placed by seq and the view is folded again in order. Types this module
// does not know are kept in the timeline as generic entries.

export interface Envelope {
  id?: string;
  run_id?: string;
  seq: number;
  type: string;
  ts?: string;
  step?: string | null;
  agent?: string | null;
  payload?: Record<string, unknown> | null;
}

export type DraftStatus = 'proposed' | 'approved' | 'edited' | 'rejected' | 'expired' | 'ran' | 'failed' | 'superseded';

export interface Example {
  id?: string;
  question: string;
  sql: string;
  source?: string;
  score?: number;
}

export interface DraftView {
  draftId: string;
  step: string;
  kind: string; // plan, sql_read, sql_write, clarification...
  content: Record<string, unknown>;
  attempt: number;
  summary: string;
  feedback: string | null; // the message of the rejection this draft answers
  examples: Example[];
  needsApproval: boolean;
  approvalId: string | null;
  contentHash: string | null;
  decisions: string[];
  expiresAt: number | null; // epoch seconds
  status: DraftStatus;
  decidedBy: string | null;
  edited: Record<string, unknown> | null;
  message: string | null;
  seq: number; // when it was drafted
  error: string | null; // a retry's reason when it failed to run
  adjustments: string[]; // values the agent aligned with their stored spelling
  endorsedBy: string[]; // approvers who said yes to a draft that needs several
  ran: Record<string, unknown> | null; // what was executed: {sql, rows_affected?} or the plan that ran
  // no try fitted the schema: what is wrong with this (best) draft and the repair proposed, for the approver
  unresolved?: { problems: string; proposedRepair: string[] } | null;
  // other valid drafts that differ from this one (reads a human approves), to start an edit from
  alternatives?: { source: string; sql: string }[];
  // the query approved when this very question was asked before, reused without a model call
  reused?: boolean;
}

export interface StepView {
  name: string;
  agent: string | null;
  purpose: string;
  startedAt: string | null;
  finishedAt: string | null;
  status: 'working' | 'waiting' | 'done' | 'failed';
  retries: number;
}

export interface SqlResult {
  seq: number;
  step: string;
  sql: string;
  connection: string;
  columns: string[];
  rows: unknown[][];
  rowCount: number;
  truncated: boolean;
  elapsedMs: number | null;
  complete: boolean; // rows are the full result (step output), not a sample
  evidence: EvidenceGroup[]; // the rows behind the top groups of an aggregate
}

export interface EvidenceGroup {
  group: string;
  sql: string;
  columns: string[];
  rows: unknown[][];
  error: string | null;
}

export interface Snippet {
  ref: number | null;
  title: string;
  source: string;
  heading: string | null;
  page: number | null;
  text: string;
  collection: string;
  documentId: string;
  score: number | null;
  /** the passage's character span in its document's text */
  start: number | null;
  end: number | null;
}

export interface AnswerView {
  revision: number;
  text: string; // the latest revision's text so far
  revisions: Record<number, string>;
  final: boolean;
  citations: Snippet[];
  unverified: string[];
  verifiedNumbers: string[];
  unverifiedNumbers: string[];
}

export interface TimelineEntry {
  seq: number;
  type: string;
  ts: string | null;
  step: string | null;
  agent: string | null;
  label: string;
  detail: string;
  known: boolean;
}

export type ViewStatus = 'queued' | 'running' | 'awaiting_approval' | 'succeeded' | 'failed' | 'cancelled' | 'expired';

export interface RunViewState {
  events: Envelope[]; // applied events, sorted by seq, one per seq
  lastSeq: number; // the highest seq applied
  runId: string | null;
  question: string;
  threadId: string | null;
  workflow: string | null;
  user: string | null;
  status: ViewStatus;
  createdAt: string | null;
  endedAt: string | null;
  timeline: TimelineEntry[];
  steps: StepView[];
  plan: { agent: string; purpose: string }[] | null;
  drafts: DraftView[];
  queries: SqlResult[];
  snippets: Snippet[];
  answer: AnswerView | null;
  error: { message: string; code: string | null } | null;
}

export function initialState(): RunViewState {
  return {
    events: [],
    lastSeq: 0,
    runId: null,
    question: '',
    threadId: null,
    workflow: null,
    user: null,
    status: 'queued',
    createdAt: null,
    endedAt: null,
    timeline: [],
    steps: [],
    plan: null,
    drafts: [],
    queries: [],
    snippets: [],
    answer: null,
    error: null,
  };
}

// ---------- small readers that never throw ----------

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown, d = ''): string => (typeof v === 'string' ? v : v === null || v === undefined ? d : String(v));
const strOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function snippet(v: unknown): Snippet {
  const s = obj(v);
  return {
    ref: num(s.ref),
    title: str(s.title),
    source: str(s.source),
    heading: strOrNull(s.heading),
    page: num(s.page),
    text: str(s.text),
    collection: str(s.collection),
    documentId: str(s.document_id),
    score: num(s.score),
    start: num(s.start),
    end: num(s.end),
  };
}

function example(v: unknown): Example {
  const e = obj(v);
  return { id: strOrNull(e.id) ?? undefined, question: str(e.question), sql: str(e.sql), source: strOrNull(e.source) ?? undefined, score: num(e.score) ?? undefined };
}

function evidenceGroups(v: unknown): EvidenceGroup[] {
  return arr(v).map((g) => {
    const o = obj(g);
    // the group is the key of the result row it explains: {depot: 'North'} -> "depot = North"
    const group =
      o.group && typeof o.group === 'object'
        ? Object.entries(obj(o.group))
            .map(([k, v]) => `${k} = ${str(v)}`)
            .join(', ') || 'all rows'
        : str(o.group);
    return { group, sql: str(o.sql), columns: arr(o.columns).map((c) => str(c)), rows: arr(o.rows).map((r) => arr(r)), error: strOrNull(o.error) };
  });
}

/** The latest draft of `step` that a human (or the policy) let run. */
function lastDecided(drafts: DraftView[], step: string): DraftView | undefined {
  return [...drafts].reverse().find((d) => d.step === step && ['approved', 'edited', 'ran'].includes(d.status));
}

function planSteps(content: unknown): { agent: string; purpose: string }[] {
  return arr(obj(content).steps).map((s) => ({ agent: str(obj(s).agent), purpose: str(obj(s).purpose) }));
}

const TERMINAL: Record<string, ViewStatus> = {
  'run.finished': 'succeeded',
  'run.failed': 'failed',
  'run.cancelled': 'cancelled',
  'run.expired': 'expired',
};

const HIDDEN = new Set(['answer.delta', 'llm.delta', 'heartbeat']); // shown as the streamed answer, not as entries

function short(text: string, n = 140): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > n ? `${t.slice(0, n - 1)}…` : t;
}

function describe(e: Envelope): { label: string; detail: string; known: boolean } {
  const p = obj(e.payload);
  const who = e.step ?? e.agent ?? '';
  switch (e.type) {
    case 'run.created':
      return { label: 'Run created', detail: short(str(p.question)), known: true };
    case 'run.started':
      return { label: p.recovered ? 'Run recovered by a worker' : 'Run started', detail: '', known: true };
    case 'run.resumed':
      return { label: 'Run resumed', detail: '', known: true };
    case 'plan.drafted':
    case 'plan.revised':
      return { label: e.type === 'plan.drafted' ? 'Plan drafted' : 'Plan revised', detail: short(str(p.summary)), known: true };
    case 'sql.drafted':
      return { label: `SQL drafted (attempt ${str(p.attempt, '1')})`, detail: short(str(obj(p.content).sql)), known: true };
    case 'approval.requested':
      return { label: `Approval requested: ${str(p.kind)}`, detail: '', known: true };
    case 'approval.decided': {
      const done: Record<string, string> = { approve: 'Approved', edit: 'Edited', reject: 'Rejected', respond: 'Answered' };
      const by = str(p.user);
      return { label: `${done[str(p.decision)] ?? 'Decided'}${by ? ` by ${by}` : ''}: ${str(p.kind)}`, detail: short(str(p.message)), known: true };
    }
    case 'approval.expired':
      return { label: `Approval expired: ${str(p.kind)}`, detail: '', known: true };
    case 'approval.endorsed':
      return { label: `Endorsed by ${str(p.user)}: ${str(p.kind)}`, detail: `${arr(p.approvers).length} of ${str(p.needed, '?')} approvers`, known: true };
    case 'step.started':
      return { label: `${who} started`, detail: short(str(p.purpose)), known: true };
    case 'step.finished':
      return { label: `${who} finished`, detail: '', known: true };
    case 'step.failed':
      return { label: `${who} failed`, detail: short(str(p.error ?? p.message)), known: true };
    case 'step.retried':
      if (p.reason === 'plain_not_taken') {  // the plain prompt's draft needed something: the full agent drafts
        return { label: `${who}: plain draft not taken`, detail: short(str(p.error)), known: true };
      }
      return { label: `${who} retried`, detail: short(str(p.error ?? p.reason)), known: true };
    case 'sql.executed':
      return { label: `SQL ran: ${str(p.row_count, '?')} rows`, detail: short(str(p.sql)), known: true };
    case 'tool.proposed':
      return { label: `Tool call proposed${p.needs_approval ? '' : ' (runs without approval)'}`, detail: short(str(p.summary)), known: true };
    case 'policy.decided':
      return { label: p.needs_approval ? 'Policy: waits for a human' : 'Policy: no approval needed', detail: short(`${str(p.rule)}${p.reason ? `: ${str(p.reason)}` : ''}`), known: true };
    case 'sql.candidates':
      return { label: 'SQL candidates compared', detail: '', known: true };
    case 'sql.rows_behind_aggregate':
      return { label: 'Rows behind the top groups sampled', detail: '', known: true };
    case 'sql.write_executed':
      return { label: 'Write executed', detail: short(str(p.sql)), known: true };
    case 'retrieval.results':
      return { label: `${arr(p.snippets).length} passages retrieved`, detail: short(str(p.query)), known: true };
    case 'reasoning':
      return { label: 'Evidence gathered', detail: '', known: true };
    case 'calculation':
      return { label: 'Calculation', detail: short(JSON.stringify(p)), known: true };
    case 'tool.called':
    case 'tool.result':
      return { label: e.type === 'tool.called' ? 'Tool called' : 'Tool result', detail: short(str(p.name ?? p.tool)), known: true };
    case 'answer.final':
      return { label: 'Answer written', detail: '', known: true };
    case 'run.finished':
      return { label: 'Run finished', detail: '', known: true };
    case 'run.failed':
      return { label: 'Run failed', detail: short(str(p.error)), known: true };
    case 'run.cancelled':
      return { label: 'Run cancelled', detail: '', known: true };
    case 'run.expired':
      return { label: 'Run expired', detail: '', known: true };
    case 'run.feedback':
      return { label: p.correct ? 'Marked correct' : 'Marked wrong', detail: short(str(p.comment)), known: true };
    default:
      return { label: String(e.type || 'event'), detail: '', known: false };
  }
}

// ---------- the fold ----------

/** Applies one event to a state whose events all have smaller seqs. Returns a new state. */
function fold(s: RunViewState, e: Envelope): RunViewState {
  const p = obj(e.payload);
  const next: RunViewState = { ...s, events: [...s.events, e], lastSeq: e.seq };
  if (!HIDDEN.has(e.type)) {
    next.timeline = [...s.timeline, { seq: e.seq, type: e.type, ts: e.ts ?? null, step: e.step ?? null, agent: e.agent ?? null, ...describe(e) }];
  }
  const setStep = (name: string, patch: Partial<StepView>): void => {
    const i = next.steps.findIndex((x) => x.name === name);
    const base: StepView = i >= 0 ? next.steps[i]! : { name, agent: null, purpose: '', startedAt: null, finishedAt: null, status: 'working', retries: 0 };
    const merged = { ...base, ...patch };
    next.steps = i >= 0 ? next.steps.map((x, j) => (j === i ? merged : x)) : [...next.steps, merged];
  };
  const setDraft = (match: (d: DraftView) => boolean, patch: Partial<DraftView>): void => {
    next.drafts = next.drafts.map((d) => (match(d) ? { ...d, ...patch } : d));
  };
  if (!next.runId && e.run_id) next.runId = e.run_id;

  switch (e.type) {
    case 'run.created':
      next.question = str(p.question);
      next.threadId = strOrNull(p.thread_id);
      next.workflow = strOrNull(p.workflow);
      next.user = strOrNull(p.user);
      next.createdAt = e.ts ?? null;
      break;
    case 'run.started':
    case 'run.resumed':
      next.status = 'running';
      break;
    case 'step.started':
      if (e.step) setStep(e.step, { agent: e.agent ?? null, purpose: str(p.purpose), startedAt: e.ts ?? null, finishedAt: null, status: 'working' });
      break;
    case 'step.finished':
      if (e.step) setStep(e.step, { finishedAt: e.ts ?? null, status: 'done' });
      if (e.step) {
        const out = obj(p.output);
        // the step's full result table replaces the sample of sql.executed
        if (Array.isArray(out.columns) && Array.isArray(out.rows)) {
          const idx = next.queries.map((q) => q.step).lastIndexOf(e.step);
          const full: SqlResult = {
            seq: e.seq,
            step: e.step,
            sql: str(out.sql),
            connection: idx >= 0 ? next.queries[idx]!.connection : '',
            columns: arr(out.columns).map((c) => str(c)),
            rows: arr(out.rows).map((r) => arr(r)),
            rowCount: num(out.row_count) ?? arr(out.rows).length,
            truncated: Boolean(out.truncated),
            elapsedMs: num(out.elapsed_ms),
            complete: true,
            evidence: out.evidence !== undefined ? evidenceGroups(out.evidence) : idx >= 0 ? next.queries[idx]!.evidence : [],
          };
          next.queries = idx >= 0 ? next.queries.map((q, j) => (j === idx ? { ...full, sql: full.sql || q.sql } : q)) : [...next.queries, full];
        }
        // the plan is the planner's output once approved
        if (e.step === 'planner' && out.steps) {
          next.plan = planSteps(out);
          const ran = lastDecided(next.drafts, 'planner');
          if (ran) setDraft((d) => d.draftId === ran.draftId, { ran: { steps: arr(out.steps) } });
        }
      }
      break;
    case 'step.failed':
      if (e.step) setStep(e.step, { finishedAt: e.ts ?? null, status: 'failed' });
      break;
    case 'step.retried':
      if (e.step) {
        const st = next.steps.find((x) => x.name === e.step);
        setStep(e.step, { retries: (st?.retries ?? 0) + 1 });
        const draftId = strOrNull(p.draft_id);
        if (draftId) setDraft((d) => d.draftId === draftId, { status: 'failed', error: str(p.error, 'failed') });
      }
      break;
    case 'plan.drafted':
    case 'plan.revised':
    case 'sql.drafted':
    case 'tool.proposed': {
      const step = e.step ?? (e.type === 'sql.drafted' ? 'sql' : e.type === 'tool.proposed' ? 'tools' : 'planner');
      // an earlier draft of this step that was never decided is replaced
      setDraft((d) => d.step === step && d.status === 'proposed', { status: 'superseded' });
      const draft: DraftView = {
        draftId: str(p.draft_id, `seq-${e.seq}`),
        step,
        kind: str(p.kind, e.type.startsWith('plan') ? 'plan' : e.type === 'tool.proposed' ? 'tool_call' : 'sql_read'),
        content: obj(p.content),
        attempt: num(p.attempt) ?? 1,
        summary: str(p.summary),
        feedback: strOrNull(p.feedback),
        examples: arr(p.examples).map(example),
        unresolved: p.unresolved
          ? {
              problems: str(obj(p.unresolved).problems),
              proposedRepair: arr(obj(p.unresolved).proposed_repair).map((x) => str(x)),
            }
          : null,
        alternatives: arr(p.alternatives)
          .map((a) => ({ source: str(obj(a).source), sql: str(obj(a).sql) }))
          .filter((a) => a.sql),
        reused: p.reused === true,
        needsApproval: Boolean(p.needs_approval),
        approvalId: null,
        contentHash: null,
        decisions: [],
        expiresAt: null,
        status: p.needs_approval ? 'proposed' : 'approved',
        decidedBy: null,
        edited: null,
        message: null,
        seq: e.seq,
        error: null,
        adjustments: arr(p.adjustments).map((x) => str(x)),
        endorsedBy: [],
        ran: null,
      };
      next.drafts = [...next.drafts, draft];
      if (draft.kind === 'plan') next.plan = planSteps(draft.content);
      break;
    }
    case 'approval.requested': {
      const draftId = strOrNull(p.draft_id);
      const patch: Partial<DraftView> = {
        approvalId: strOrNull(p.approval_id),
        contentHash: strOrNull(p.content_hash),
        decisions: arr(p.decisions).map((d) => str(d)),
        expiresAt: num(p.expires_at),
        status: 'proposed',
      };
      if (p.examples !== undefined) patch.examples = arr(p.examples).map(example);
      if (draftId && next.drafts.some((d) => d.draftId === draftId)) setDraft((d) => d.draftId === draftId, patch);
      else {
        // an approval without a draft (e.g. a clarification): shown as its own card
        next.drafts = [
          ...next.drafts,
          {
            draftId: draftId ?? `approval-${str(p.approval_id, String(e.seq))}`,
            step: e.step ?? '',
            kind: str(p.kind),
            content: obj(p.content),
            attempt: 1,
            summary: '',
            feedback: null,
            examples: arr(p.examples).map(example),
            needsApproval: true,
            approvalId: null,
            contentHash: null,
            decisions: [],
            expiresAt: null,
            status: 'proposed',
            decidedBy: null,
            edited: null,
            message: null,
            seq: e.seq,
            error: null,
            adjustments: [],
            endorsedBy: [],
            ran: null,
            ...patch,
          },
        ];
      }
      next.status = 'awaiting_approval';
      if (e.step) setStep(e.step, { status: 'waiting' });
      break;
    }
    case 'approval.decided': {
      const approvalId = strOrNull(p.approval_id);
      const draftId = strOrNull(p.draft_id);
      const decision = str(p.decision);
      const status: DraftStatus = decision === 'approve' ? 'approved' : decision === 'edit' ? 'edited' : decision === 'reject' ? 'rejected' : 'approved';
      const edited = p.edited && typeof p.edited === 'object' ? obj(p.edited) : null;
      setDraft((d) => (approvalId !== null && d.approvalId === approvalId) || (draftId !== null && d.draftId === draftId), {
        status,
        decidedBy: strOrNull(p.user),
        edited,
        message: strOrNull(p.message),
      });
      if (edited && str(p.kind) === 'plan') next.plan = planSteps(edited);
      if (next.status === 'awaiting_approval') next.status = 'queued';
      const st = next.steps.find((x) => x.name === e.step);
      if (e.step && st?.status === 'waiting') setStep(e.step, { status: 'working' });
      break;
    }
    case 'approval.expired': {
      const approvalId = strOrNull(p.approval_id);
      setDraft((d) => d.approvalId === approvalId, { status: 'expired' });
      break;
    }
    case 'approval.endorsed': {
      const approvalId = strOrNull(p.approval_id);
      setDraft((d) => d.approvalId === approvalId, { endorsedBy: arr(p.approvers).map((x) => str(x)) });
      break;
    }
    case 'sql.executed': {
      const sql = str(p.sql);
      next.queries = [
        ...next.queries,
        {
          seq: e.seq,
          step: e.step ?? 'sql',
          sql,
          connection: str(p.connection),
          columns: arr(p.columns).map((c) => str(c)),
          rows: arr(p.sample_rows).map((r) => arr(r)),
          rowCount: num(p.row_count) ?? arr(p.sample_rows).length,
          truncated: Boolean(p.truncated),
          elapsedMs: num(p.elapsed_ms),
          complete: false,
          evidence: [],
        },
      ];
      // the draft that ran: the latest decided one of this step
      const ran = lastDecided(next.drafts, e.step ?? 'sql');
      if (ran) setDraft((d) => d.draftId === ran.draftId, { status: 'ran', ran: { sql, connection: str(p.connection) } });
      break;
    }
    case 'sql.write_executed': {
      const ran = lastDecided(next.drafts, e.step ?? 'sql');
      if (ran) setDraft((d) => d.draftId === ran.draftId, { status: 'ran', ran: { sql: str(p.sql), connection: str(p.connection), rows_affected: num(p.rows_affected) } });
      break;
    }
    case 'sql.rows_behind_aggregate': {
      const idx = next.queries.map((q) => q.step).lastIndexOf(e.step ?? 'sql');
      if (idx >= 0) next.queries = next.queries.map((q, j) => (j === idx ? { ...q, evidence: evidenceGroups(p.groups) } : q));
      break;
    }
    case 'retrieval.results':
      next.snippets = [...next.snippets, ...arr(p.snippets).map(snippet)];
      break;
    case 'answer.delta': {
      const revision = num(p.revision) ?? 0;
      const prev = next.answer;
      const revisions = { ...(prev?.revisions ?? {}) };
      revisions[revision] = (revisions[revision] ?? '') + str(p.text);
      const latest = Math.max(revision, prev?.revision ?? 0);
      next.answer = {
        revision: latest,
        text: revisions[latest] ?? '',
        revisions,
        final: false,
        citations: prev?.citations ?? [],
        unverified: prev?.unverified ?? [],
        verifiedNumbers: prev?.verifiedNumbers ?? [],
        unverifiedNumbers: prev?.unverifiedNumbers ?? [],
      };
      break;
    }
    case 'answer.final': {
      const revision = num(p.revision) ?? next.answer?.revision ?? 0;
      const text = str(p.text);
      next.answer = {
        revision,
        text,
        revisions: { ...(next.answer?.revisions ?? {}), [revision]: text },
        final: true,
        citations: arr(p.citations).map(snippet),
        unverified: [...arr(p.unverified_identifiers), ...arr(p.unverified_numbers)].map((x) => str(x)),
        verifiedNumbers: arr(p.verified_numbers).map((x) => str(x)),
        unverifiedNumbers: arr(p.unverified_numbers).map((x) => str(x)),
      };
      break;
    }
    case 'run.failed':
      next.error = { message: str(p.error, 'the run failed'), code: strOrNull(p.code) };
      break;
    default:
      break;
  }
  const terminal = TERMINAL[e.type];
  if (terminal) {
    next.status = terminal;
    next.endedAt = e.ts ?? null;
    if (e.type === 'run.finished' && !next.answer && p.answer) {
      next.answer = { revision: 0, text: str(p.answer), revisions: { 0: str(p.answer) }, final: true, citations: [], unverified: [], verifiedNumbers: [], unverifiedNumbers: [] };
    }
    // whatever was still waiting or working stops with the run
    next.steps = next.steps.map((st) => (st.status === 'working' || st.status === 'waiting' ? { ...st, status: e.type === 'run.finished' ? 'done' : 'failed', finishedAt: st.finishedAt ?? e.ts ?? null } : st));
    next.drafts = next.drafts.map((d) => (d.status === 'proposed' ? { ...d, status: 'expired' } : d));
  }
  return next;
}

function valid(e: unknown): e is Envelope {
  if (!e || typeof e !== 'object') return false;
  const v = e as Obj;
  return typeof v.seq === 'number' && Number.isInteger(v.seq) && v.seq >= 1 && typeof v.type === 'string';
}

/** The state after `event`. The same state object when the event was already applied or is not an envelope. */
export function applyEvent(state: RunViewState, event: unknown): RunViewState {
  if (!valid(event)) return state;
  if (state.runId && event.run_id && event.run_id !== state.runId) return state; // another run's event
  const e: Envelope = { ...event, payload: obj(event.payload) };
  if (e.seq > state.lastSeq) return fold(state, e);
  if (state.events.some((x) => x.seq === e.seq)) return state; // a replay or a duplicate
  // an earlier event arriving late: fold everything again in seq order
  const events = [...state.events, e].sort((a, b) => a.seq - b.seq);
  return events.reduce(fold, { ...initialState(), runId: state.runId });
}

/** Applies many events (any order, duplicates allowed). */
export function applyEvents(state: RunViewState, events: unknown[]): RunViewState {
  return events.reduce<RunViewState>(applyEvent, state);
}

/** Kinds of approval that change nothing when approved: "approve all read-only" covers only these. */
export const READ_ONLY_KINDS: ReadonlySet<string> = new Set(['plan', 'sql_read']);

/** Pending approvals that "approve all read-only" may approve at once: plans and reads, never writes, DDL or questions. */
export function readOnlyPending(drafts: readonly DraftView[]): DraftView[] {
  return drafts.filter((d) => d.status === 'proposed' && d.approvalId && d.contentHash && READ_ONLY_KINDS.has(d.kind) && (d.decisions.length === 0 || d.decisions.includes('approve')));
}

/** The approvals still waiting for a human, oldest first. */
export function pendingDrafts(s: RunViewState): DraftView[] {
  return s.drafts.filter((d) => d.status === 'proposed' && d.approvalId && d.contentHash);
}
