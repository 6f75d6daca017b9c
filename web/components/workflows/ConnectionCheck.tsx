'use client';

import { useState, type ReactNode } from 'react';
import { apiMore, ApiError, CONNECTION_CAUSES, errorText, type ConnectionTest, type FieldError, type SqlConnection } from '@/lib/api';

export type TestState = ConnectionTest | 'testing' | { failed: string } | null;

/** What a connection test found, in words: "Works: 3 tables", or the connector's cause and its message. */
export function TestOutcome({ state, id }: { state: TestState; id?: string }) {
  let body: ReactNode = null;
  if (state === 'testing') body = <span className="muted">Testing…</span>;
  else if (state && 'failed' in state) body = <span className="bad">{state.failed}</span>;
  else if (state && state.ok) body = <span className="good">Works: {state.tables ?? 0} tables</span>;
  else if (state) {
    const cause = typeof state.error?.details?.cause === 'string' ? state.error.details.cause : 'connection_failed';
    const hint = typeof state.error?.details?.hint === 'string' ? state.error.details.hint : null;
    body = (
      <span className="bad" data-cause={cause}>
        <strong>{CONNECTION_CAUSES[cause] ?? cause.replace(/_/g, ' ')}</strong>: {state.error?.message ?? 'the connection failed'}
        {hint ? <span className="muted"> ({hint})</span> : null}
      </span>
    );
  }
  return (
    <span role="status" aria-live="polite" className="small conn-outcome" id={id}>
      {body}
    </span>
  );
}

/**
 * "Test connection" for a connection that is being filled in (not saved yet): the server opens it
 * read-only and says what it found. A path or host the caller may not use comes back as field
 * errors, which `onFieldErrors` shows at the field.
 */
export function ConnectionCheck({
  engine,
  path,
  dsn,
  name,
  onFieldErrors,
  id,
}: {
  engine: SqlConnection['engine'];
  path: string;
  dsn: string;
  name?: string;
  onFieldErrors: (errors: FieldError[]) => void;
  id: string;
}) {
  const [state, setState] = useState<TestState>(null);
  const run = async () => {
    if (engine === 'postgres' && dsn.includes('***')) {
      setState({ failed: 'The stored password is hidden: type the whole DSN again to test it.' });
      return;
    }
    setState('testing');
    onFieldErrors([]);
    try {
      const body = engine === 'postgres' ? { engine, dsn: dsn.trim() || null } : { engine, path: path.trim() || null };
      setState(await apiMore.probeConnection(name?.trim() ? { ...body, name: name.trim() } : body));
    } catch (err) {
      if (err instanceof ApiError && err.fieldErrors.length) {
        onFieldErrors(err.fieldErrors);
        setState({ failed: 'Refused: see the field above.' });
      } else setState({ failed: errorText(err) });
    }
  };
  return (
    <div className="conn-test">
      <button type="button" onClick={() => void run()} disabled={state === 'testing'} aria-describedby={`${id}-outcome`}>
        {state === 'testing' ? 'Testing…' : 'Test connection'}
      </button>
      <TestOutcome state={state} id={`${id}-outcome`} />
    </div>
  );
}
