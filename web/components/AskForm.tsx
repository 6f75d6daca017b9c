'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, type Workflow } from '@/lib/api';
import { useAuth } from './auth';
import { ErrorBox, Loading } from './ui';

/** Ask a workflow a question; with `threadId`, a follow-up in that conversation. */
export function AskForm({ workflow, threadId }: { workflow?: string; threadId?: string | null }) {
  const router = useRouter();
  const { forbidden, markForbidden } = useAuth();
  const [workflows, setWorkflows] = useState<Workflow[] | null>(workflow ? [] : null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [chosen, setChosen] = useState(workflow ?? '');
  const [question, setQuestion] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (workflow) return;
    api
      .workflows()
      .then((w) => {
        setWorkflows(w);
        setChosen((c) => c || w[0]?.name || '');
      })
      .catch(setLoadError);
  }, [workflow]);

  if (forbidden.has('ask')) return <p className="muted">Your role may not ask questions (operator or higher).</p>;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!chosen || !question.trim()) return;
    setBusy(true);
    setError(null);
    try {
      const run = await api.createRun(chosen, question.trim(), threadId);
      router.push(`/runs/?id=${encodeURIComponent(run.id)}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) markForbidden('ask');
      setError(err);
      setBusy(false);
    }
  };

  if (loadError) return <ErrorBox error={loadError} title="Cannot list workflows" />;
  if (!workflows) return <Loading label="Loading workflows…" />;
  if (!workflow && workflows.length === 0)
    return (
      <p className="empty">
        No workflows yet. <Link href="/workflows/">Create one</Link> first.
      </p>
    );

  const id = threadId ? 'followup' : 'ask';
  return (
    <form onSubmit={submit} className="ask" aria-label={threadId ? 'Ask a follow-up' : 'Ask a question'}>
      {workflow ? null : (
        <div className="field">
          <label htmlFor={`${id}-workflow`}>Workflow</label>
          <select id={`${id}-workflow`} value={chosen} onChange={(e) => setChosen(e.target.value)}>
            {workflows.map((w) => (
              <option key={w.id} value={w.name}>
                {w.name}
                {w.definition.description ? ` — ${w.definition.description}` : ''}
              </option>
            ))}
          </select>
        </div>
      )}
      <div className="field">
        <label htmlFor={`${id}-question`}>{threadId ? 'Follow-up question' : 'Question'}</label>
        <textarea
          id={`${id}-question`}
          rows={threadId ? 2 : 3}
          value={question}
          onChange={(e) => setQuestion(e.target.value)}
          maxLength={4000}
          placeholder={threadId ? 'And only the critical ones?' : 'Which depots had the most breakdowns in March?'}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && (e.metaKey || e.ctrlKey)) void submit(e);
          }}
        />
      </div>
      <ErrorBox error={error} />
      <button type="submit" className="primary" disabled={busy || !question.trim() || !chosen}>
        {busy ? 'Asking…' : threadId ? 'Ask follow-up' : 'Ask'}
      </button>
    </form>
  );
}
