'use client';

import Link from 'next/link';
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { useAuth } from '@/components/auth';
import { described, Field, groupErrors } from '@/components/fields';
import { ErrorBox, Loading, when } from '@/components/ui';
import { ArchiveWorkflow } from '@/components/workflows/ArchiveWorkflow';
import { useLoadOnFocus } from '@/lib/refresh';
import { ConnectionCheck, TestOutcome, type TestState } from '@/components/workflows/ConnectionCheck';
import { Versions } from '@/components/workflows/Versions';
import { McpServers, rowsOf, serversOf, type McpRow } from '@/components/workflows/McpServers';
import { api, apiMore, ApiError, errorText, questionsOf, type AgentInfo, type Collection, type Connection, type FieldError, type McpServerDef, type SqlConnection, type Workflow, type WorkflowDefinition } from '@/lib/api';

interface Form {
  name: string;
  description: string;
  personaName: string;
  personaTone: string;
  instructions: string;
  knowledge: string;
  /** 'saved': the connection is one saved with `hil connections add` */
  engine: '' | 'saved' | SqlConnection['engine'];
  connSaved: string;
  connName: string;
  connPath: string;
  connDsn: string;
  readOnly: boolean;
  stepSql: boolean;
  stepRag: boolean;
  /** other step agents: MCP tools, installed plug-ins */
  extraSteps: string[];
  mcp: McpRow[];
  approvePlan: boolean;
  approveSql: boolean;
  model: string;
  questions: string;
}

const EMPTY: Form = {
  name: '',
  description: '',
  personaName: 'Analyst',
  personaTone: 'concise and factual',
  instructions: '',
  knowledge: '',
  engine: 'sqlite',
  connSaved: '',
  connName: 'main',
  connPath: '',
  connDsn: '',
  readOnly: true,
  stepSql: true,
  stepRag: true,
  extraSteps: [],
  mcp: [],
  approvePlan: true,
  approveSql: true,
  model: '',
  questions: '',
};

function formOf(w: Workflow): Form {
  const d = w.definition;
  const c = d.connections?.[0];
  const steps = d.steps ?? [];
  return {
    name: d.name,
    description: d.description ?? '',
    personaName: d.persona?.name ?? '',
    personaTone: d.persona?.tone ?? '',
    instructions: d.instructions ?? '',
    knowledge: (d.knowledge ?? []).map((k) => k.name).join(', '),
    engine: c?.saved ? 'saved' : c?.engine ?? '',
    connSaved: c?.saved ?? '',
    connName: c?.name ?? 'main',
    connPath: c?.path ?? '',
    connDsn: c?.dsn ?? '',
    readOnly: c?.read_only ?? true,
    stepSql: steps.includes('sql'),
    stepRag: steps.includes('rag'),
    extraSteps: steps.filter((s) => s !== 'sql' && s !== 'rag'),
    mcp: rowsOf(d.mcp as McpServerDef[] | undefined),
    approvePlan: d.approval?.plan ?? true,
    approveSql: d.approval?.sql_read ?? true,
    model: d.model?.model ?? '',
    questions: questionsOf(d).join('\n'),
  };
}

/** The definition to send: the loaded one (keeping what this form does not show) with the form's values. */
function definitionOf(f: Form, base?: WorkflowDefinition): WorkflowDefinition {
  const old = base?.connections?.[0];
  const knowledgeNames = f.knowledge.split(',').map((s) => s.trim()).filter(Boolean);
  const oldKnowledge = base?.knowledge ?? [];
  const def: WorkflowDefinition = {
    ...(base ?? {}),
    name: f.name.trim(),
    description: f.description,
    persona: { ...(base?.persona ?? { audience: 'the data team' }), name: f.personaName, tone: f.personaTone } as WorkflowDefinition['persona'],
    instructions: f.instructions,
    knowledge: knowledgeNames.map((name) => oldKnowledge.find((k) => k.name === name) ?? { name }),
    connections:
      f.engine === 'saved'
        ? [
            // engine, path and dsn come from the saved connection each time a run starts
            { ...(old ?? {}), name: f.connName.trim() || f.connSaved, saved: f.connSaved, engine: null, path: null, dsn: null, read_only: f.readOnly } as unknown as SqlConnection,
          ]
        : f.engine
          ? [
              {
                ...(old ?? {}),
                name: f.connName.trim(),
                saved: null,
                engine: f.engine,
                path: f.engine === 'postgres' ? null : f.connPath.trim() || null,
                dsn: f.engine === 'postgres' ? f.connDsn.trim() || null : null,
                read_only: f.readOnly,
              },
            ]
          : [],
    steps: [...(f.stepSql ? ['sql'] : []), ...(f.stepRag ? ['rag'] : []), ...f.extraSteps],
    mcp: serversOf(f.mcp),
    approval: { ...(base?.approval ?? {}), plan: f.approvePlan, sql_read: f.approveSql },
    model: { ...(base?.model ?? {}), model: f.model.trim() || null },
    questions: f.questions
      .split('\n')
      .map((q) => q.trim())
      .filter(Boolean),
  };
  return def;
}

function fieldOf(loc: string): string | null {
  if (/^connections(\[\d+\])?\.(path|dsn)/.test(loc)) return 'connPath';
  if (/^connections(\[\d+\])?\.name/.test(loc)) return 'connName';
  if (/^connections(\[\d+\])?\.engine/.test(loc)) return 'engine';
  if (/^connections(\[\d+\])?\.saved/.test(loc)) return 'connSaved';
  if (loc.startsWith('connections')) return 'connection';
  if (loc.startsWith('knowledge')) return 'knowledge';
  if (loc.startsWith('persona')) return 'persona';
  if (loc.startsWith('model')) return 'model';
  if (loc.startsWith('approval')) return 'approval';
  if (loc.startsWith('questions')) return 'questions';
  const first = loc.split(/[.[]/)[0] ?? '';
  return ['name', 'description', 'instructions', 'steps'].includes(first) ? first : null;
}

function WorkflowForm({ editing, collections, onSaved, onCancel }: { editing: Workflow | null; collections: Collection[]; onSaved: (w: Workflow, created: boolean) => void; onCancel: () => void }) {
  const [f, setF] = useState<Form>(editing ? formOf(editing) : EMPTY);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [fieldErrors, setFieldErrors] = useState<FieldError[]>([]);
  const [probeErrors, setProbeErrors] = useState<FieldError[]>([]);
  const summary = useRef<HTMLDivElement>(null);
  const [agents, setAgents] = useState<AgentInfo[]>([]);
  const [savedConnections, setSavedConnections] = useState<Connection[]>([]);
  const loadSaved = useCallback(() => {
    api.connections().then(setSavedConnections, () => setSavedConnections([]));
  }, []);
  useLoadOnFocus(loadSaved);
  useEffect(() => {
    apiMore.agents().then((r) => setAgents(r.agents.filter((a) => a.role === 'step' && a.name !== 'sql' && a.name !== 'rag')), () => setAgents([]));
  }, []);
  const toggleStep = (name: string, on: boolean) =>
    setF((prev) => ({ ...prev, extraSteps: on ? [...prev.extraSteps.filter((s) => s !== name), name] : prev.extraSteps.filter((s) => s !== name) }));
  const { byField, other } = groupErrors([...fieldErrors, ...probeErrors.map((e) => ({ ...e, loc: `connections[0].${String(e.loc).replace(/^body\.?/, '')}` }))], fieldOf);
  const set = <K extends keyof Form>(k: K, v: Form[K]) => setF((prev) => ({ ...prev, [k]: v }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setFieldErrors([]);
    setProbeErrors([]);
    try {
      const def = definitionOf(f, editing?.definition);
      const saved = editing ? await api.updateWorkflow(editing.id, def) : await api.createWorkflow(def);
      onSaved(saved, !editing);
    } catch (err) {
      setError(err);
      if (err instanceof ApiError) setFieldErrors(err.fieldErrors);
      setTimeout(() => summary.current?.focus(), 0);
    } finally {
      setBusy(false);
    }
  };

  const redacted = f.engine === 'postgres' && f.connDsn.includes('***');
  return (
    <form className="card form" onSubmit={submit} aria-labelledby="wf-form-title" noValidate>
      <h2 id="wf-form-title">{editing ? `Edit ${editing.name}` : 'New workflow'}</h2>
      {error ? (
        <div className="error" role="alert" tabIndex={-1} ref={summary}>
          <strong>Not saved:</strong> {errorText(error)}
          {other.length ? (
            <ul>
              {other.map((o) => (
                <li key={`${o.loc}${o.msg}`}>
                  <code>{o.loc}</code>: {o.msg}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      <div className="grid2">
        <Field id="wf-name" label="Name" errors={byField.name} hint={editing ? 'A workflow keeps its name; saving makes a new version.' : 'Lower-case letters, digits, - and _.'}>
          <input id="wf-name" value={f.name} onChange={(e) => set('name', e.target.value)} disabled={Boolean(editing)} required {...described('wf-name', byField.name, true)} />
        </Field>
        <Field id="wf-description" label="Description" errors={byField.description}>
          <input id="wf-description" value={f.description} onChange={(e) => set('description', e.target.value)} {...described('wf-description', byField.description)} />
        </Field>
        <Field id="wf-persona" label="Persona" errors={byField.persona}>
          <input id="wf-persona" value={f.personaName} onChange={(e) => set('personaName', e.target.value)} {...described('wf-persona', byField.persona)} />
        </Field>
        <Field id="wf-tone" label="Tone">
          <input id="wf-tone" value={f.personaTone} onChange={(e) => set('personaTone', e.target.value)} />
        </Field>
      </div>
      <Field id="wf-instructions" label="Instructions" errors={byField.instructions}>
        <textarea id="wf-instructions" rows={3} value={f.instructions} onChange={(e) => set('instructions', e.target.value)} {...described('wf-instructions', byField.instructions)} />
      </Field>
      <Field
        id="wf-knowledge"
        label="Knowledge collections"
        errors={byField.knowledge}
        hint={collections.length ? `Comma-separated. Existing: ${collections.map((c) => c.name).join(', ')}` : 'Comma-separated collection names.'}
      >
        <input id="wf-knowledge" value={f.knowledge} onChange={(e) => set('knowledge', e.target.value)} list="collection-names" {...described('wf-knowledge', byField.knowledge, true)} />
      </Field>
      <datalist id="collection-names">
        {collections.map((c) => (
          <option key={c.id} value={c.name} />
        ))}
      </datalist>

      <fieldset className={byField.connection ? 'invalid' : undefined}>
        <legend>SQL connection</legend>
        {byField.connection ? <p className="field-error">{byField.connection.join('; ')}</p> : null}
        <div className="grid3">
          <Field id="wf-engine" label="Engine" errors={byField.engine}>
            <select id="wf-engine" value={f.engine} onChange={(e) => set('engine', e.target.value as Form['engine'])}>
              <option value="">none</option>
              <option value="saved">Saved connection</option>
              <option value="sqlite">SQLite</option>
              <option value="duckdb">DuckDB</option>
              <option value="postgres">PostgreSQL</option>
            </select>
          </Field>
          {f.engine === 'saved' ? (
            <Field id="wf-conn-saved" label="Saved connection" errors={byField.connSaved} hint="Looked up each time a run starts.">
              <select id="wf-conn-saved" value={f.connSaved} onChange={(e) => set('connSaved', e.target.value)} {...described('wf-conn-saved', byField.connSaved, true)}>
                <option value="">choose…</option>
                {savedConnections.map((c) => (
                  <option key={c.id} value={c.name}>
                    {c.name} ({c.engine})
                  </option>
                ))}
              </select>
            </Field>
          ) : null}
          {f.engine ? (
            <Field id="wf-conn-name" label="Connection name" errors={byField.connName}>
              <input id="wf-conn-name" value={f.connName} onChange={(e) => set('connName', e.target.value)} {...described('wf-conn-name', byField.connName)} />
            </Field>
          ) : null}
          {f.engine && f.engine !== 'postgres' && f.engine !== 'saved' ? (
            <Field id="wf-conn-path" label="Database file" errors={byField.connPath} hint="A path on the server.">
              <input id="wf-conn-path" value={f.connPath} onChange={(e) => set('connPath', e.target.value)} spellCheck={false} {...described('wf-conn-path', byField.connPath, true)} />
            </Field>
          ) : null}
          {f.engine === 'postgres' ? (
            <Field id="wf-conn-dsn" label="DSN" errors={byField.connPath} hint={redacted ? 'The stored password is hidden: type the whole DSN again to change it.' : 'postgresql://user:password@host/db'}>
              <input id="wf-conn-dsn" type="text" value={f.connDsn} onChange={(e) => set('connDsn', e.target.value)} spellCheck={false} autoComplete="off" {...described('wf-conn-dsn', byField.connPath, true)} />
            </Field>
          ) : null}
        </div>
        {f.engine ? (
          <div className="conn-row">
            <label className="check">
              <input type="checkbox" checked={f.readOnly} onChange={(e) => set('readOnly', e.target.checked)} /> Read only
            </label>
            {f.engine !== 'saved' ? <ConnectionCheck id="wf-conn" engine={f.engine} path={f.connPath} dsn={f.connDsn} name={f.connName} onFieldErrors={setProbeErrors} /> : null}
          </div>
        ) : null}
      </fieldset>

      <div className="grid2">
        <fieldset className={byField.steps ? 'invalid' : undefined} aria-describedby={byField.steps ? 'wf-steps-error' : undefined}>
          <legend>Steps</legend>
          <label className="check">
            <input type="checkbox" checked={f.stepSql} onChange={(e) => set('stepSql', e.target.checked)} /> SQL (query the database)
          </label>
          <label className="check">
            <input type="checkbox" checked={f.stepRag} onChange={(e) => set('stepRag', e.target.checked)} /> RAG (read the documents)
          </label>
          {agents.map((a) => (
            <label className="check step-agent" key={a.name} title={a.description ?? ''}>
              <input type="checkbox" checked={f.extraSteps.includes(a.name)} onChange={(e) => toggleStep(a.name, e.target.checked)} />
              <span>
                {a.name}
                {a.source === 'plug-in' ? ' (plug-in)' : ''}
                <span className="muted small step-desc"> {(a.description ?? '').split('. ')[0]}</span>
              </span>
            </label>
          ))}
          {byField.steps ? (
            <p className="field-error" id="wf-steps-error">
              {byField.steps.join('; ')}
            </p>
          ) : null}
        </fieldset>
        <fieldset className={byField.approval ? 'invalid' : undefined}>
          <legend>A human approves</legend>
          <label className="check">
            <input type="checkbox" checked={f.approvePlan} onChange={(e) => set('approvePlan', e.target.checked)} /> the plan
          </label>
          <label className="check">
            <input type="checkbox" checked={f.approveSql} onChange={(e) => set('approveSql', e.target.checked)} /> each SQL query (writes always)
          </label>
          {byField.approval ? <p className="field-error">{byField.approval.join('; ')}</p> : null}
        </fieldset>
      </div>
      <McpServers rows={f.mcp} onChange={(rows) => set('mcp', rows)} workflowId={editing?.id ?? null} />
      <Field id="wf-model" label="Model" errors={byField.model} hint="e.g. local:qwen2.5-coder-1.5b; empty means the server's default (HIL_MODEL).">
        <input id="wf-model" value={f.model} onChange={(e) => set('model', e.target.value)} spellCheck={false} {...described('wf-model', byField.model, true)} />
      </Field>
      <Field id="wf-questions" label="Example questions" errors={byField.questions} hint="One per line; the home page offers each as a one-click start.">
        <textarea id="wf-questions" rows={2} value={f.questions} onChange={(e) => set('questions', e.target.value)} {...described('wf-questions', byField.questions, true)} />
      </Field>
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Saving…' : editing ? 'Save new version' : 'Create workflow'}
        </button>
        <button type="button" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function Connections() {
  const { forbidden } = useAuth();
  const admin = !forbidden.has('admin');
  const [items, setItems] = useState<Connection[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tests, setTests] = useState<Record<string, TestState>>({});
  const [newErrors, setNewErrors] = useState<FieldError[]>([]);
  const [form, setForm] = useState({ name: '', engine: 'sqlite' as SqlConnection['engine'], location: '' });
  const [addError, setAddError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(() => {
    api.connections().then(setItems).catch(setError);
  }, []);
  useLoadOnFocus(load);

  const test = async (c: Connection) => {
    setTests((t) => ({ ...t, [c.id]: 'testing' }));
    try {
      const r = await api.testConnection(c.id);
      setTests((t) => ({ ...t, [c.id]: r }));
    } catch (err) {
      setTests((t) => ({ ...t, [c.id]: { failed: errorText(err) } }));
    }
  };

  const add = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setAddError(null);
    try {
      const body: SqlConnection = { name: form.name.trim(), engine: form.engine, ...(form.engine === 'postgres' ? { dsn: form.location.trim() } : { path: form.location.trim() }) };
      await api.createConnection(body);
      setForm({ ...form, name: '', location: '' });
      load();
    } catch (err) {
      setAddError(err);
    } finally {
      setBusy(false);
    }
  };

  const addFields = groupErrors([...(addError instanceof ApiError ? addError.fieldErrors : []), ...newErrors], (loc) => (loc.startsWith('name') ? 'name' : loc.startsWith('path') || loc.startsWith('dsn') ? 'location' : null));
  return (
    <section className="card" aria-labelledby="conn-title">
      <h2 id="conn-title">Saved connections</h2>
      <p className="muted small">Named connections for <code>hil sql</code> and tabular uploads{admin ? '; test one to see that the server can open it' : ''}.</p>
      {error ? <ErrorBox error={error} onRetry={load} /> : null}
      {!items && !error ? <Loading /> : null}
      {items && items.length === 0 ? <p className="empty">No saved connections.</p> : null}
      {items && items.length > 0 ? (
        <ul className="conn-list">
          {items.map((c) => {
            const t = tests[c.id];
            return (
              <li key={c.id} data-connection={c.name}>
                <div>
                  <strong>{c.name}</strong> <span className="muted small">{c.engine}</span>
                  <div className="muted small clip">{c.location}</div>
                </div>
                {admin ? (
                <div className="conn-test">
                  <button type="button" onClick={() => void test(c)} disabled={t === 'testing'} aria-label={`Test connection ${c.name}`}>
                    {t === 'testing' ? 'Testing…' : 'Test connection'}
                  </button>
                  <TestOutcome state={t && t !== 'testing' ? t : null} />
                </div>
                ) : null}
              </li>
            );
          })}
        </ul>
      ) : null}
      {admin ? (
      <form className="inline-form" onSubmit={add} aria-label="Save a connection">
        <Field id="conn-name" label="New connection name" errors={addFields.byField.name}>
          <input id="conn-name" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} {...described('conn-name', addFields.byField.name)} />
        </Field>
        <Field id="conn-engine" label="New connection engine">
          <select id="conn-engine" value={form.engine} onChange={(e) => setForm({ ...form, engine: e.target.value as SqlConnection['engine'] })}>
            <option value="sqlite">SQLite</option>
            <option value="duckdb">DuckDB</option>
            <option value="postgres">PostgreSQL</option>
          </select>
        </Field>
        <Field id="conn-location" label={form.engine === 'postgres' ? 'New connection DSN' : 'New connection database file'} errors={addFields.byField.location}>
          <input id="conn-location" value={form.location} onChange={(e) => setForm({ ...form, location: e.target.value })} spellCheck={false} autoComplete="off" {...described('conn-location', addFields.byField.location)} />
        </Field>
        <button type="submit" disabled={busy || !form.name.trim()}>
          Save connection
        </button>
        <ConnectionCheck id="conn-new" engine={form.engine} path={form.location} dsn={form.location} name={form.name} onFieldErrors={setNewErrors} />
      </form>
      ) : null}
      {addError ? <ErrorBox error={addError} title="Not saved" /> : null}
    </section>
  );
}

export default function WorkflowsPage() {
  const { forbidden, markForbidden } = useAuth();
  const [items, setItems] = useState<Workflow[] | null>(null);
  const [collections, setCollections] = useState<Collection[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [editing, setEditing] = useState<Workflow | 'new' | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [history, setHistory] = useState<string | null>(null); // the workflow whose versions are open

  const load = useCallback(() => {
    setError(null);
    api.workflows().then(setItems).catch(setError);
    api.collections().then(setCollections).catch(() => undefined);
  }, []);
  useEffect(load, [load]);

  const saved = (w: Workflow, created: boolean) => {
    setEditing(null);
    setNotice(created ? `Created ${w.name} (version ${w.version}).` : `Saved ${w.name}: version ${w.version}.`);
    load();
  };

  return (
    <>
      <div className="page-head">
        <h1>Workflows</h1>
        {!editing && !forbidden.has('admin') ? (
          <button
            type="button"
            className="primary"
            onClick={() => {
              setNotice(null);
              setEditing('new');
            }}
          >
            New workflow
          </button>
        ) : null}
      </div>
      {notice ? (
        <p className="notice" role="status">
          {notice}
        </p>
      ) : null}
      {editing ? (
        <WorkflowForm
          key={editing === 'new' ? 'new' : editing.id}
          editing={editing === 'new' ? null : editing}
          collections={collections}
          onSaved={saved}
          onCancel={() => setEditing(null)}
        />
      ) : null}
      {error ? <ErrorBox error={error} title="Cannot list workflows" onRetry={load} /> : null}
      {!items && !error ? <Loading label="Loading workflows…" /> : null}
      {items && items.length === 0 && !editing ? <p className="empty">No workflows yet. Create one to start asking questions.</p> : null}
      {items && items.length > 0 ? (
        <ul className="wf-list">
          {items.map((w) => {
            const c = w.definition.connections?.[0];
            return (
              <li key={w.id} className="card" data-workflow={w.name}>
                <div className="card-head">
                  <h2 className="h3">
                    {w.name} <span className="muted small">v{w.version}</span>
                  </h2>
                  <div className="actions">
                    <Link className="button" href={`/history/?workflow=${encodeURIComponent(w.name)}`}>
                      Runs
                    </Link>
                    <button type="button" aria-expanded={history === w.id} onClick={() => setHistory(history === w.id ? null : w.id)} aria-label={`Versions of ${w.name}`}>
                      Versions
                    </button>
                    {!forbidden.has('admin') ? (
                      <button
                        type="button"
                        onClick={() => {
                          setNotice(null);
                          api
                            .workflow(w.id)
                            .then(setEditing)
                            .catch((err) => {
                              if (err instanceof ApiError && err.status === 403) markForbidden('admin');
                              setError(err);
                            });
                        }}
                        aria-label={`Edit ${w.name}`}
                      >
                        Edit
                      </button>
                    ) : null}
                    {!forbidden.has('admin') ? (
                      <ArchiveWorkflow
                        id={w.id}
                        name={w.name}
                        onArchived={() => {
                          setNotice(`Archived ${w.name}.`);
                          if (history === w.id) setHistory(null);
                          load();
                        }}
                      />
                    ) : null}
                  </div>
                </div>
                {w.definition.description ? <p>{w.definition.description}</p> : null}
                <p className="muted small">
                  Steps: {(w.definition.steps ?? []).join(', ') || 'none'}
                  {c ? (c.saved ? ` · saved connection ${c.saved}` : ` · ${c.engine} ${c.name}: ${c.path ?? c.dsn ?? ''}`) : ''}
                  {w.definition.knowledge?.length ? ` · knowledge: ${w.definition.knowledge.map((k) => k.name).join(', ')}` : ''}
                  {` · approves: ${[w.definition.approval?.plan ? 'plan' : '', w.definition.approval?.sql_read ? 'SQL' : ''].filter(Boolean).join(', ') || 'writes only'}`}
                  {` · updated ${when(w.created_at)}`}
                </p>
                {history === w.id ? <Versions workflow={w} onClose={() => setHistory(null)} /> : null}
              </li>
            );
          })}
        </ul>
      ) : null}
      <Connections />
    </>
  );
}
