'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useCallback, useEffect, useState } from 'react';
import { AskForm } from '@/components/AskForm';
import { useAuth } from '@/components/auth';
import { ErrorBox, Loading } from '@/components/ui';
import { api, ApiError, questionsOf, type Workflow } from '@/lib/api';

/** A card per workflow with its example questions: one click asks and opens the run. */
function Starters() {
  const router = useRouter();
  const { forbidden, markForbidden } = useAuth();
  const [items, setItems] = useState<Workflow[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [asking, setAsking] = useState<string | null>(null);
  const [askError, setAskError] = useState<unknown>(null);

  const load = useCallback(() => {
    setError(null);
    api.workflows().then(setItems).catch(setError);
  }, []);
  useEffect(load, [load]);

  const ask = async (w: Workflow, question: string) => {
    setAsking(`${w.id}:${question}`);
    setAskError(null);
    try {
      const run = await api.createRun(w.name, question);
      router.push(`/runs/?id=${encodeURIComponent(run.id)}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) markForbidden('ask');
      setAskError(err);
      setAsking(null);
    }
  };

  if (error) return <ErrorBox error={error} title="Cannot list workflows" onRetry={load} />;
  if (!items) return <Loading label="Loading workflows…" />;
  const withQuestions = items.filter((w) => questionsOf(w.definition).length);
  if (!withQuestions.length) return null;
  const mayAsk = !forbidden.has('ask');
  return (
    <section aria-labelledby="starters-title">
      <h2 id="starters-title">Start with a question</h2>
      {!mayAsk ? <p className="muted">Your role may read runs but not ask (operator or higher).</p> : null}
      <ErrorBox error={askError} title="Not asked" />
      <ul className="starters">
        {withQuestions.map((w) => (
          <li key={w.id} className="card" data-workflow={w.name}>
            <h3 className="h3">{w.name}</h3>
            {w.definition.description ? <p className="muted small">{w.definition.description}</p> : null}
            <ul className="questions" aria-label={`Questions for ${w.name}`}>
              {questionsOf(w.definition).map((q) => (
                <li key={q}>
                  <button type="button" className="question-start" onClick={() => void ask(w, q)} disabled={!mayAsk || asking !== null}>
                    <span aria-hidden="true" className="arrow">
                      →
                    </span>{' '}
                    {asking === `${w.id}:${q}` ? 'Asking…' : q}
                  </button>
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ul>
    </section>
  );
}

export default function Home() {
  return (
    <>
      <h1>Ask a question</h1>
      <p className="muted">
        A workflow plans, queries and reads its documents; you approve the plan and the SQL before anything runs. Earlier runs are in{' '}
        <Link href="/history/">History</Link>, waiting decisions in <Link href="/approvals/">Approvals</Link>.
      </p>
      <Starters />
      <section className="card" aria-label="Your own question">
        <AskForm />
      </section>
    </>
  );
}
