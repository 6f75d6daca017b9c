// The only module that talks to the hil HTTP API (/api/v1). Every call goes through `request`,
// which sends the API key (kept in sessionStorage, never in a URL) as `Authorization: Bearer`
// and turns every failure into an ApiError with the API's one error shape.

import type { Envelope } from './events';

export const API = '/api/v1';
const KEY_STORAGE = 'hil.apiKey';

// ---------- types of the API's bodies ----------

export interface FieldError {
  loc: string;
  msg: string;
}

export interface ErrorBody {
  code: string;
  message: string;
  details: { hint?: string; errors?: FieldError[]; [k: string]: unknown };
}

export interface Persona {
  name: string;
  tone: string;
  audience: string;
}

export interface SqlConnection {
  name: string;
  engine: 'duckdb' | 'sqlite' | 'postgres';
  /** a connection saved with `hil connections add` (then engine, path and dsn are null) */
  saved?: string | null;
  path?: string | null;
  dsn?: string | null;
  read_only?: boolean;
}

export interface WorkflowDefinition {
  name: string;
  description?: string;
  persona?: Persona;
  instructions?: string;
  knowledge?: { name: string; paths?: string[] }[];
  connections?: SqlConnection[];
  steps?: string[];
  approval?: { plan?: boolean; sql_read?: boolean; [k: string]: unknown };
  model?: { model?: string | null; temperature?: number; max_tokens?: number };
  row_limit?: number;
  [k: string]: unknown;
}

export interface Workflow {
  id: string;
  name: string;
  version: number;
  content_hash: string;
  created_at: number;
  definition: WorkflowDefinition;
}

export interface Connection {
  id: string;
  name: string;
  engine: string;
  location: string;
  created_at: number;
}

export interface ConnectionTest {
  ok: boolean;
  tables?: number | null;
  error?: ErrorBody | null;
}

export interface Collection {
  id: string;
  name: string;
  embedder: string;
  dim: number | null;
  created_at: number;
  documents: Record<string, number>;
  chunks: number;
}

export type DocumentStatus = 'queued' | 'parsing' | 'embedding' | 'indexed' | 'failed' | string;

export interface KnowledgeDocument {
  id: string;
  source: string;
  title: string;
  kind: string;
  size: number;
  status: DocumentStatus;
  reason: string | null;
  chunks: number;
  created_at: number;
  updated_at: number;
}

export interface UploadResult {
  source: string;
  status: string;
  document_id: string | null;
  chunks: number;
  reason: string | null;
}

export interface SearchHit {
  collection: string;
  document_id: string;
  chunk_id: number;
  title: string;
  source: string;
  heading: string | null;
  page: number | null;
  page_end: number | null;
  text: string;
  start: number;
  end: number;
  score: number;
}

export type RunStatus =
  | 'queued'
  | 'running'
  | 'awaiting_approval'
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  | 'expired';

export const RUN_STATUSES: RunStatus[] = [
  'queued',
  'running',
  'awaiting_approval',
  'succeeded',
  'failed',
  'cancelled',
  'expired',
];

export interface Run {
  id: string;
  workflow_id: string;
  workflow_version: number;
  question: string;
  status: RunStatus;
  thread_id: string | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
  last_seq: number;
}

export interface Approval {
  id: string;
  run_id: string;
  step: string;
  kind: string;
  status: string;
  content: Record<string, unknown>;
  content_hash: string;
  created_at: number;
  expires_at: number | null;
  decision: string | null;
  edited: Record<string, unknown> | null;
  message: string | null;
  decided_by: string | null;
  decided_at: number | null;
}

export interface RunDetail extends Run {
  workflow: string;
  pending_approvals: Approval[];
  answer: Record<string, unknown> | null;
  error: Record<string, unknown> | null;
  [k: string]: unknown;
}

export interface RunPage {
  runs: Run[];
  next_cursor: string | null;
}

export interface ThreadTurn {
  run_id: string;
  question: string;
  status: string;
  sql: string | null;
  result: string | null;
  answer: string;
}

export interface Ready {
  status: string;
  auth: boolean;
}

export type Decision = 'approve' | 'edit' | 'reject' | 'respond';

export interface DecisionIn {
  decision: Decision;
  content_hash: string;
  content?: Record<string, unknown>;
  message?: string;
}

export interface RunFilters {
  workflow?: string;
  status?: string;
  user?: string;
  since?: string;
  until?: string;
  text?: string;
  limit?: number;
  cursor?: string;
}

// ---------- errors and the key ----------

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ErrorBody['details'];

  constructor(status: number, body: ErrorBody) {
    super(body.message);
    this.name = 'ApiError';
    this.status = status;
    this.code = body.code;
    this.details = body.details ?? {};
  }

  get fieldErrors(): FieldError[] {
    return Array.isArray(this.details.errors) ? this.details.errors : [];
  }

  get hint(): string | undefined {
    return typeof this.details.hint === 'string' ? this.details.hint : undefined;
  }
}

export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.hint ? `${err.message} (${err.hint})` : err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

type Listener = (status: 401 | 403, err: ApiError) => void;
const listeners = new Set<Listener>();

/** Called with every 401 (the key is missing or revoked) and 403 (the role may not). */
export function onAuthProblem(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function storage(): Storage | null {
  try {
    return typeof window === 'undefined' ? null : window.sessionStorage;
  } catch {
    return null;
  }
}

export function getKey(): string | null {
  return storage()?.getItem(KEY_STORAGE) ?? null;
}

export function setKey(key: string | null): void {
  const s = storage();
  if (!s) return;
  if (key) s.setItem(KEY_STORAGE, key);
  else s.removeItem(KEY_STORAGE);
}

function headers(extra?: Record<string, string>): Record<string, string> {
  const h: Record<string, string> = { Accept: 'application/json', ...extra };
  const key = getKey();
  if (key) h.Authorization = `Bearer ${key}`;
  return h;
}

async function failure(res: Response): Promise<ApiError> {
  let body: ErrorBody = { code: 'http_error', message: `${res.status} ${res.statusText}`, details: {} };
  try {
    const parsed: unknown = await res.json();
    if (parsed && typeof parsed === 'object' && 'error' in parsed) {
      const e = (parsed as { error: Partial<ErrorBody> }).error;
      body = {
        code: typeof e.code === 'string' ? e.code : body.code,
        message: typeof e.message === 'string' ? e.message : body.message,
        details: e.details && typeof e.details === 'object' ? e.details : {},
      };
    }
  } catch {
    // not JSON: keep the status line
  }
  const err = new ApiError(res.status, body);
  if (res.status === 401 || res.status === 403) listeners.forEach((l) => l(res.status as 401 | 403, err));
  return err;
}

function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

const enc = encodeURIComponent;

async function request<T>(method: string, path: string, body?: unknown, init?: RequestInit): Promise<T> {
  const isForm = typeof FormData !== 'undefined' && body instanceof FormData;
  let res: Response;
  try {
    res = await fetch(API + path, {
      method,
      headers: headers(body !== undefined && !isForm ? { 'Content-Type': 'application/json' } : undefined),
      body: body === undefined ? undefined : isForm ? body : JSON.stringify(body),
      cache: 'no-store',
      ...init,
    });
  } catch (err) {
    throw new ApiError(0, {
      code: 'network_error',
      message: 'the server cannot be reached',
      details: { hint: err instanceof Error ? err.message : undefined },
    });
  }
  if (!res.ok) throw await failure(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

// ---------- the routes ----------

export const api = {
  ready: async (): Promise<Ready> => {
    const res = await fetch('/readyz', { cache: 'no-store' });
    if (!res.ok) throw await failure(res);
    return (await res.json()) as Ready;
  },

  // workflows
  workflows: () => request<Workflow[]>('GET', '/workflows'),
  workflow: (id: string) => request<Workflow>('GET', `/workflows/${enc(id)}`),
  createWorkflow: (def: WorkflowDefinition) => request<Workflow>('POST', '/workflows', def),
  updateWorkflow: (id: string, def: WorkflowDefinition) => request<Workflow>('PUT', `/workflows/${enc(id)}`, def),
  archiveWorkflow: (id: string) => request<void>('DELETE', `/workflows/${enc(id)}`),

  // connections
  connections: () => request<Connection[]>('GET', '/connections'),
  createConnection: (c: SqlConnection) => request<Connection>('POST', '/connections', c),
  testConnection: (id: string) => request<ConnectionTest>('POST', `/connections/${enc(id)}/test`),
  deleteConnection: (id: string) => request<void>('DELETE', `/connections/${enc(id)}`),

  // knowledge
  collections: () => request<Collection[]>('GET', '/collections'),
  createCollection: (name: string, embedder?: string) =>
    request<Collection>('POST', '/collections', embedder ? { name, embedder } : { name }),
  deleteCollection: (id: string) => request<void>('DELETE', `/collections/${enc(id)}`),
  documents: (collection: string) => request<KnowledgeDocument[]>('GET', `/collections/${enc(collection)}/documents`),
  upload: (collection: string, files: File[]) => {
    const form = new FormData();
    for (const f of files) form.append('file', f, f.name);
    return request<UploadResult[]>('POST', `/collections/${enc(collection)}/documents`, form);
  },
  deleteDocument: (collection: string, doc: string) =>
    request<void>('DELETE', `/collections/${enc(collection)}/documents/${enc(doc)}`),
  search: (collection: string, q: string, k = 5, mode = 'hybrid') =>
    request<SearchHit[]>('GET', `/collections/${enc(collection)}/search${query({ q, k, mode })}`),

  // runs
  runs: (f: RunFilters = {}) => request<RunPage>('GET', `/runs${query({ ...f })}`),
  createRun: (workflow: string, question: string, threadId?: string | null) =>
    request<RunDetail>('POST', '/runs', threadId ? { workflow, question, thread_id: threadId } : { workflow, question }),
  run: (id: string) => request<RunDetail>('GET', `/runs/${enc(id)}`),
  cancelRun: (id: string) => request<RunDetail>('POST', `/runs/${enc(id)}/cancel`),
  artifacts: (id: string) => request<string[]>('GET', `/runs/${enc(id)}/artifacts`),
  thread: (id: string) => request<{ id: string; turns: ThreadTurn[] }>('GET', `/threads/${enc(id)}`),

  /** An artifact as a Blob (a plain link could not send the key). */
  artifact: async (id: string, name: string): Promise<Blob> => {
    const res = await fetch(`${API}/runs/${enc(id)}/artifacts/${enc(name)}`, { headers: headers(), cache: 'no-store' });
    if (!res.ok) throw await failure(res);
    return res.blob();
  },

  // approvals
  approvals: (f: { status?: string; workflow?: string; run?: string; kind?: string } = {}) =>
    request<Approval[]>('GET', `/approvals${query({ status: 'pending', ...f })}`),
  decide: (approvalId: string, body: DecisionIn) =>
    request<Approval>('POST', `/approvals/${enc(approvalId)}/decision`, body),
};

// ---------- Server-Sent Events ----------

export interface StreamHandlers {
  onEvent: (e: Envelope) => void;
  /** connected: the stream is open; reconnecting: it dropped and will be retried; ended: the server closed it for good */
  onState?: (state: 'connecting' | 'connected' | 'reconnecting' | 'ended') => void;
  onError?: (err: ApiError) => void;
}

export interface Stream {
  close: () => void;
}

const TERMINAL = new Set(['run.finished', 'run.failed', 'run.cancelled', 'run.expired']);

/** The event types of the contract (GET /api/v1/schema/events.json), and the stream's own close frame. */
export const KNOWN_TYPES = [
  'run.created', 'run.started', 'run.resumed', 'plan.drafted', 'plan.revised', 'approval.requested',
  'approval.decided', 'approval.expired', 'approval.endorsed', 'step.started', 'step.finished', 'step.failed', 'step.retried',
  'llm.delta', 'sql.drafted', 'sql.candidates', 'sql.executed', 'sql.rows_behind_aggregate',
  'sql.write_executed', 'retrieval.results', 'tool.proposed', 'tool.called', 'tool.result', 'policy.decided', 'calculation', 'reasoning',
  'answer.delta', 'answer.final', 'run.finished', 'run.failed', 'run.cancelled', 'run.expired',
  'run.feedback', 'heartbeat', 'stream.closed',
];

interface Frame {
  id?: string;
  event?: string;
  data: string;
}

/** Splits an SSE byte stream into frames; comments (heartbeats) are dropped. */
export function sseParser(onFrame: (f: Frame) => void): (chunk: string) => void {
  let buf = '';
  let frame: { id?: string; event?: string; data: string[] } = { data: [] };
  return (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.search(/\r\n|\n|\r/)) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + (buf[nl] === '\r' && buf[nl + 1] === '\n' ? 2 : 1));
      if (line === '') {
        if (frame.data.length) onFrame({ id: frame.id, event: frame.event, data: frame.data.join('\n') });
        frame = { data: [] };
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') frame.data.push(value);
      else if (field === 'id') frame.id = value;
      else if (field === 'event') frame.event = value;
    }
  };
}

function parseEnvelope(data: string): Envelope | null {
  try {
    const v: unknown = JSON.parse(data);
    return v && typeof v === 'object' ? (v as Envelope) : null;
  } catch {
    return null;
  }
}

/**
 * Follows an SSE stream of the API. Without a key it uses the browser's EventSource; with a key
 * (EventSource cannot send headers) it streams with fetch. Either way it resumes with the last id
 * it received (Last-Event-ID), and for a run's stream it stops after the terminal event.
 */
function follow(path: string, h: StreamHandlers, opts: { runStream: boolean; lastEventId?: string }): Stream {
  let closed = false;
  let lastId = opts.lastEventId ?? '';
  let retry = 1000;
  let es: EventSource | null = null;
  let abort: AbortController | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const deliver = (f: Frame): void => {
    if (f.event === 'stream.closed') {
      h.onError?.(new ApiError(401, { code: 'unauthorized', message: 'the event stream was closed', details: {} }));
      stop('ended');
      return;
    }
    if (f.id) lastId = f.id;
    const env = parseEnvelope(f.data);
    if (!env) return;
    h.onEvent(env);
    if (opts.runStream && TERMINAL.has(String(env.type))) stop('ended');
  };

  const stop = (state: 'ended' | null): void => {
    closed = true;
    es?.close();
    abort?.abort();
    if (timer) clearTimeout(timer);
    if (state) h.onState?.(state);
  };

  const again = (): void => {
    if (closed) return;
    h.onState?.('reconnecting');
    timer = setTimeout(connect, retry);
    retry = Math.min(retry * 2, 15000);
  };

  const withResume = (): string => {
    if (!lastId) return API + path;
    // the first connection of a page that already has events resumes by query (EventSource cannot set the header)
    const seq = lastId.split(':').pop() ?? '';
    return API + path + (path.includes('?') ? '&' : '?') + `after=${enc(seq)}`;
  };

  const connect = (): void => {
    if (closed) return;
    h.onState?.('connecting');
    const key = getKey();
    if (!key && typeof EventSource !== 'undefined') {
      const src = new EventSource(opts.runStream ? withResume() : API + path);
      es = src;
      src.onopen = () => {
        retry = 1000;
        h.onState?.('connected');
      };
      src.onmessage = (m) => deliver({ id: m.lastEventId, data: String(m.data) });
      const named = (m: MessageEvent) => deliver({ id: m.lastEventId, event: m.type, data: String(m.data) });
      // EventSource only reports a named event to a listener of that name: listen to every known type
      // (the fetch path below, used whenever a key is set, sees every type, known or not)
      for (const type of KNOWN_TYPES) src.addEventListener(type, named as EventListener);
      src.onerror = () => {
        // EventSource reconnects by itself (with Last-Event-ID) unless the server ended the stream
        if (closed) return;
        if (src.readyState === EventSource.CLOSED) {
          src.close();
          again();
        } else {
          h.onState?.('reconnecting');
        }
      };
      return;
    }
    const ctrl = new AbortController();
    abort = ctrl;
    const hdrs: Record<string, string> = { Accept: 'text/event-stream' };
    if (key) hdrs.Authorization = `Bearer ${key}`;
    if (lastId) hdrs['Last-Event-ID'] = lastId;
    fetch(API + path, { headers: hdrs, signal: ctrl.signal, cache: 'no-store' })
      .then(async (res) => {
        if (!res.ok) {
          const err = await failure(res);
          h.onError?.(err);
          if (res.status >= 400 && res.status < 500) {
            stop('ended');
            return;
          }
          again();
          return;
        }
        retry = 1000;
        h.onState?.('connected');
        const reader = res.body?.getReader();
        if (!reader) return;
        const decoder = new TextDecoder();
        const push = sseParser(deliver);
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          push(decoder.decode(value, { stream: true }));
          if (closed) return;
        }
        // the server ended the stream: a run's stream ends after its terminal event (handled in
        // deliver); otherwise reconnect from the last id
        if (!closed) again();
      })
      .catch(() => {
        if (!closed) again();
      });
  };

  connect();
  return { close: () => stop(null) };
}

/** A run's events, from after `lastSeq` on (replayed from the log, then live). */
export function runEvents(runId: string, h: StreamHandlers, lastSeq = 0): Stream {
  return follow(`/runs/${enc(runId)}/events`, h, { runStream: true, lastEventId: lastSeq ? String(lastSeq) : '' });
}

/** Every run's events in the caller's tenant, live (for the inbox). */
export function tenantEvents(h: StreamHandlers): Stream {
  return follow('/events', h, { runStream: false });
}

// ---------- the caller, workflow versions, connection probes, document text ----------

/** GET /me: who the caller is and what their role may do (read, ask, upload, feedback, cancel, decide, configure). */
export interface Me {
  user: string;
  role: string;
  tenant: string;
  auth: boolean;
  roles: string[];
  may: Record<string, boolean>;
}

export interface WorkflowVersionInfo {
  version: number;
  content_hash: string;
  created_at: number;
}

export interface DocumentText {
  id: string;
  collection: string;
  source: string;
  title: string;
  text: string;
}

/** A connection's test failed: its cause (details.cause) in words a person reads. */
export const CONNECTION_CAUSES: Record<string, string> = {
  file_not_found: 'File not found',
  cannot_open: 'Not a database the engine can open',
  authentication_failed: 'Authentication failed',
  host_unreachable: 'Host unreachable',
  database_missing: 'Database missing',
  permission_denied: 'Permission denied',
  invalid_dsn: 'Invalid DSN',
  connection_failed: 'Connection failed',
};

/** The example questions of a workflow (offered as one-click starts). */
export function questionsOf(def: WorkflowDefinition): string[] {
  const q = def.questions;
  return Array.isArray(q) ? q.filter((x): x is string => typeof x === 'string' && x.trim() !== '') : [];
}

/** An agent a workflow step may name: built-in or an installed plug-in (GET /agents). */
export interface AgentInfo {
  name: string;
  role: string | null;
  description?: string;
  source: 'built-in' | 'plug-in' | 'registered' | 'broken';
  package?: string | null;
  needs?: { what: string; columns: string[] }[];
  error?: string;
}

/** An MCP server as a workflow names it. */
export interface McpServerDef {
  name: string;
  command?: string[] | null;
  url?: string | null;
  env?: Record<string, string>;
  headers?: Record<string, string>;
  [k: string]: unknown;
}

/** A tool a workflow's MCP servers offer it (GET /workflows/{id}/tools). */
export interface ToolInfo {
  server: string;
  name: string;
  description: string;
  input_schema: Record<string, unknown>;
  read_only: boolean;
}

export const apiMore = {
  me: () => request<Me>('GET', '/me'),
  agents: () => request<{ agents: AgentInfo[] }>('GET', '/agents'),
  workflowTools: (id: string, refresh = false) =>
    request<{ tools: ToolInfo[] }>('GET', `/workflows/${enc(id)}/tools${refresh ? '?refresh=true' : ''}`),
  workflowVersions: (id: string) => request<WorkflowVersionInfo[]>('GET', `/workflows/${enc(id)}/versions`),
  workflowAt: (id: string, version: number) => request<Workflow>('GET', `/workflows/${enc(id)}${query({ version })}`),
  /** Tests a connection that is not saved; a path or host the caller may not use is an ApiError naming the field. */
  probeConnection: (c: { engine: SqlConnection['engine']; path?: string | null; dsn?: string | null; name?: string }) =>
    request<ConnectionTest>('POST', '/connections/test', c),
  documentText: (collection: string, doc: string) =>
    request<DocumentText>('GET', `/collections/${enc(collection)}/documents/${enc(doc)}/text`),
};

// ---------- the run page: dry runs and bulk decisions ----------

export interface DryRun {
  approval_id: string;
  kind: string;
  connection: string;
  engine: string;
  sql: string;
  edited: boolean;
  plan: string;
  estimated_rows: number | null;
  /** planner: the engine's own estimate; count: counted read-only; none: unknown */
  estimate: 'planner' | 'count' | 'none';
  elapsed_ms: number;
  impact: { verb: string; table: string | null; rows: number | null; summary: string } | null;
}

/** The engine's EXPLAIN and estimated rows for a SQL approval, or for an edit of its SQL; nothing runs. */
export function dryRun(approvalId: string, sql?: string): Promise<DryRun> {
  return request<DryRun>('POST', `/approvals/${enc(approvalId)}/dry-run`, sql === undefined ? {} : { sql });
}

/** Every approval of a run, decided or not (`status=` with no value asks for all). */
export function runApprovals(runId: string): Promise<Approval[]> {
  return request<Approval[]>('GET', `/approvals?status=&run=${enc(runId)}`);
}

export interface BulkOutcome {
  id: string;
  ok: boolean;
  error: ApiError | null;
}

/** Approves each approval as shown (its content hash), one request each, in order; one refusal does not stop the rest. */
export async function approveEach(items: readonly { id: string; contentHash: string }[]): Promise<BulkOutcome[]> {
  const out: BulkOutcome[] = [];
  for (const it of items) {
    try {
      await api.decide(it.id, { decision: 'approve', content_hash: it.contentHash });
      out.push({ id: it.id, ok: true, error: null });
    } catch (err) {
      out.push({ id: it.id, ok: false, error: err instanceof ApiError ? err : new ApiError(0, { code: 'error', message: errorText(err), details: {} }) });
    }
  }
  return out;
}
