'use client';

import Link from 'next/link';
import { useSearchParams } from 'next/navigation';
import { Suspense, useCallback, useEffect, useMemo, useReducer, useState } from 'react';
import { AskForm } from '@/components/AskForm';
import { useAuth } from '@/components/auth';
import { Answer, Snippets } from '@/components/run/Answer';
import { ApprovalCard } from '@/components/run/ApprovalCard';
import { ApproveAll } from '@/components/run/ApproveAll';
import { NotifyButton } from '@/components/run/Notify';
import { ResultsTable } from '@/components/run/ResultsTable';
import { StepList, Timeline } from '@/components/run/Timeline';
import { ErrorBox, Loading, StatusBadge, duration, useNow } from '@/components/ui';
import { api, ApiError, runEvents, type RunDetail } from '@/lib/api';
import { applyEvent, initialState, readOnlyPending } from '@/lib/events';
import { announce } from '@/lib/notify';

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled', 'expired']);

function RunView({ id }: { id: string }) {
  const { forbidden, markForbidden } = useAuth();
  const [state, dispatch] = useReducer(applyEvent, undefined, initialState);
  const [detail, setDetail] = useState<RunDetail | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [connection, setConnection] = useState('connecting');
  const [streamError, setStreamError] = useState<unknown>(null);
  const [artifacts, setArtifacts] = useState<string[]>([]);
  const [cancelError, setCancelError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let live = true;
    setLoadError(null);
    api
      .run(id)
      .then((d) => live && setDetail(d))
      .catch((err) => live && setLoadError(err));
    const stream = runEvents(id, {
      onEvent: dispatch,
      onState: (s) => live && setConnection(s),
      onError: (err) => live && setStreamError(err),
    });
    return () => {
      live = false;
      stream.close();
    };
  }, [id, attempt]);

  const status = state.events.length ? state.status : detail?.status ?? 'queued';
  const terminal = TERMINAL.has(status);
  const completeQueries = state.queries.filter((q) => q.complete).length;
  useEffect(() => {
    if (!completeQueries && !terminal) return;
    api.artifacts(id).then(setArtifacts).catch(() => setArtifacts([]));
  }, [id, completeQueries, terminal]);

  const running = !terminal && state.steps.some((s) => s.status === 'working' || s.status === 'waiting');
  const now = useNow(!terminal);

  const cancel = useCallback(async () => {
    setCancelError(null);
    try {
      await api.cancelRun(id);
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) markForbidden('cancel');
      setCancelError(err);
    }
  }, [id, markForbidden]);

  const drafts = useMemo(() => state.drafts.filter((d) => d.status !== 'superseded'), [state.drafts]);
  const firstPending = drafts.find((d) => d.status === 'proposed')?.draftId;
  const bulk = useMemo(() => readOnlyPending(drafts).map((d) => ({ id: d.approvalId!, contentHash: d.contentHash!, label: d.kind })), [drafts]);
  const pendingCount = drafts.filter((d) => d.status === 'proposed' && d.approvalId).length;
  const canDecide = !forbidden.has('decide');
  // a browser notification when an approval waits for this user (only with permission, asked on a click)
  const waiting = useMemo(() => drafts.filter((d) => d.status === 'proposed' && d.approvalId).map((d) => `${d.approvalId}:${d.kind}`).join(','), [drafts]);
  useEffect(() => {
    if (!waiting || !canDecide) return;
    const q = state.question || detail?.question || '';
    announce(
      waiting.split(',').map((w) => {
        const [approvalId, kind] = w.split(':');
        return { id: approvalId!, title: `Approval waiting: ${kind}`, body: q, url: `/runs/?id=${id}` };
      }),
    );
  }, [waiting, canDecide, id, state.question, detail?.question]);
  const cited = useMemo(() => new Set((state.answer?.citations ?? []).map((c) => c.ref).filter((r): r is number => r !== null)), [state.answer]);
  const latestQueries = useMemo(() => {
    const byStep = new Map<string, (typeof state.queries)[number]>();
    for (const q of state.queries) byStep.set(q.step, q);
    return [...byStep.values()];
  }, [state.queries]);

  if (loadError instanceof ApiError && loadError.status === 404)
    return (
      <>
        <h1>Run not found</h1>
        <ErrorBox error={loadError} />
        <p>
          <Link href="/history/">Back to the history</Link>
        </p>
      </>
    );
  if (loadError) return <ErrorBox error={loadError} title="Cannot load the run" onRetry={() => setAttempt((n) => n + 1)} />;
  if (!detail && !state.events.length) return <Loading label="Loading the run…" />;

  const question = state.question || detail?.question || '';
  const threadId = state.threadId ?? detail?.thread_id ?? null;
  const workflow = detail?.workflow ?? state.workflow ?? '';
  const started = state.createdAt ? Date.parse(state.createdAt) : NaN;
  const ended = state.endedAt ? Date.parse(state.endedAt) : now;

  return (
    <>
      <div className="run-head">
        <div>
          <p className="muted small">
            <Link href={`/history/?workflow=${encodeURIComponent(workflow)}`}>{workflow}</Link>
            {state.user ? ` · asked by ${state.user}` : ''}
            {!Number.isNaN(started) ? ` · ${terminal ? 'took' : 'running for'} ${duration(ended - started)}` : ''}
          </p>
          <h1 className="question">{question}</h1>
        </div>
        <div className="run-status">
          <StatusBadge status={status} />
          {!terminal && !forbidden.has('cancel') ? (
            <button type="button" onClick={() => void cancel()}>
              Cancel run
            </button>
          ) : null}
        </div>
      </div>
      <ErrorBox error={cancelError} />
      {streamError && connection === 'ended' ? <ErrorBox error={streamError} title="The live stream stopped" onRetry={() => setAttempt((n) => n + 1)} /> : null}

      <div className="run-grid">
        <div className="run-main">
          <StepList steps={state.steps} now={now} queued={!terminal && !running} since={started} />
          {canDecide && pendingCount ? (
            <div className="bulk-bar">
              <ApproveAll items={bulk} skipped={pendingCount - bulk.length} onForbidden={() => markForbidden('decide')} />
              <NotifyButton />
            </div>
          ) : null}
          {state.error ? (
            <div className="error" role="alert">
              <strong>The run failed:</strong> {state.error.message}
            </div>
          ) : null}
          {drafts.map((d) => (
            <ApprovalCard
              key={d.draftId}
              draft={d}
              canDecide={canDecide}
              onForbidden={() => markForbidden('decide')}
              autoFocus={d.draftId === firstPending}
              runId={id}
              canDryRun={!forbidden.has('dryrun')}
              onDryRunForbidden={() => markForbidden('dryrun')}
            />
          ))}
          {latestQueries.map((q) => (
            <ResultsTable key={`${q.step}-${q.seq}`} result={q} runId={id} artifacts={artifacts} />
          ))}
          {state.answer ? <Answer answer={state.answer} snippets={state.snippets} /> : null}
          {state.snippets.length ? <Snippets snippets={state.snippets} cited={cited} /> : null}
          {terminal && threadId && workflow ? (
            <section className="card" aria-label="Follow-up">
              <AskForm workflow={workflow} threadId={threadId} />
            </section>
          ) : null}
        </div>
        <aside className="run-aside">
          <Timeline entries={state.timeline} connection={connection} />
        </aside>
      </div>
    </>
  );
}

function RunPage() {
  const params = useSearchParams();
  const id = params.get('id');
  if (!id)
    return (
      <>
        <h1>Ask a question</h1>
        <section className="card">
          <AskForm />
        </section>
      </>
    );
  return <RunView key={id} id={id} />;
}

export default function Page() {
  return (
    <Suspense fallback={<Loading />}>
      <RunPage />
    </Suspense>
  );
}
