'use client';

import { createContext, useCallback, useContext, useEffect, useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { api, apiMore, ApiError, errorText, getKey, onAuthProblem, setKey, type Me, type Ready } from '@/lib/api';
import { ErrorBox, Loading } from './ui';

interface AuthState {
  ready: Ready | null;
  hasKey: boolean;
  /** the caller (GET /me), known before any page shows */
  me: Me | null;
  /** actions the caller may not do: 'decide', 'ask', 'dryrun', 'admin', 'upload', 'cancel' (from /me, and any the server refused with 403) */
  forbidden: ReadonlySet<string>;
  markForbidden: (action: string) => void;
  signOut: () => void;
}

const Ctx = createContext<AuthState>({
  ready: null,
  hasKey: false,
  me: null,
  forbidden: new Set(),
  markForbidden: () => undefined,
  signOut: () => undefined,
});

export const useAuth = (): AuthState => useContext(Ctx);

const FORBIDDEN = 'hil.forbidden';

/** The UI's action names for what /me says the role may not do. */
// (a dry run needs the operator role, as asking does)
const ACTIONS: Record<string, string[]> = { decide: ['decide'], ask: ['ask', 'dryrun'], upload: ['upload'], cancel: ['cancel'], configure: ['admin'] };

function notAllowed(me: Me | null): string[] {
  if (!me) return [];
  return Object.entries(ACTIONS)
    .filter(([ability]) => me.may[ability] === false)
    .flatMap(([, actions]) => actions);
}

function loadForbidden(): Set<string> {
  try {
    return new Set(JSON.parse(sessionStorage.getItem(FORBIDDEN) ?? '[]') as string[]);
  } catch {
    return new Set();
  }
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const [ready, setReady] = useState<Ready | null>(null);
  const [checked, setChecked] = useState(false); // /readyz answered (or failed): until then nothing calls the API
  const [needKey, setNeedKey] = useState(false);
  const [session, setSession] = useState(0);
  const [hasKey, setHasKey] = useState(false);
  const [forbidden, setForbidden] = useState<Set<string>>(new Set());
  const [me, setMe] = useState<Me | null>(null);
  const [meError, setMeError] = useState<unknown>(null);
  const [meAttempt, setMeAttempt] = useState(0);

  useEffect(() => {
    setHasKey(Boolean(getKey()));
    setForbidden(loadForbidden());
    api
      .ready()
      .then((r) => {
        setReady(r);
        if (r.auth && !getKey()) setNeedKey(true);
      })
      .catch(() => setReady(null))
      .finally(() => setChecked(true));
    return onAuthProblem((status) => {
      if (status === 401) setNeedKey(true);
    });
  }, []);

  // who the caller is, before any page shows: a viewer never sees a button the server would refuse
  useEffect(() => {
    if (!checked || needKey) return;
    let live = true;
    setMe(null);
    setMeError(null);
    apiMore
      .me()
      .then((m) => live && setMe(m))
      .catch((err) => {
        if (!live) return;
        if (err instanceof ApiError && err.status === 401) setNeedKey(true);
        else setMeError(err);
      });
    return () => {
      live = false;
    };
  }, [checked, needKey, session, meAttempt]);

  const markForbidden = useCallback((action: string) => {
    setForbidden((prev) => {
      if (prev.has(action)) return prev;
      const next = new Set(prev).add(action);
      sessionStorage.setItem(FORBIDDEN, JSON.stringify([...next]));
      return next;
    });
  }, []);

  const signOut = useCallback(() => {
    setKey(null);
    sessionStorage.removeItem(FORBIDDEN);
    setForbidden(new Set());
    setMe(null);
    setHasKey(false);
    setNeedKey(true);
  }, []);

  const signedIn = useCallback(() => {
    sessionStorage.removeItem(FORBIDDEN);
    setForbidden(new Set());
    setMe(null);
    setHasKey(true);
    setNeedKey(false);
    setSession((n) => n + 1);
  }, []);

  const denied = useMemo(() => {
    const all = new Set(forbidden);
    for (const a of notAllowed(me)) all.add(a);
    return all;
  }, [forbidden, me]);
  const value = useMemo(() => ({ ready, hasKey, me, forbidden: denied, markForbidden, signOut }), [ready, hasKey, me, denied, markForbidden, signOut]);

  let body: ReactNode;
  if (!checked)
    body = (
      <main className="page" id="main">
        <Loading label="Connecting to the server…" />
      </main>
    );
  else if (needKey) body = <Login onDone={signedIn} />;
  else if (meError)
    body = (
      <main className="page" id="main">
        <ErrorBox error={meError} title="Cannot tell who you are" onRetry={() => setMeAttempt((n) => n + 1)} />
      </main>
    );
  else if (!me)
    body = (
      <main className="page" id="main">
        <Loading label="Signing in…" />
      </main>
    );
  else body = <div key={session}>{children}</div>;
  return <Ctx.Provider value={value}>{body}</Ctx.Provider>;
}

function Login({ onDone }: { onDone: () => void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const key = value.trim();
    if (!key) {
      setError('Enter an API key.');
      return;
    }
    setBusy(true);
    setError(null);
    setKey(key);
    try {
      await apiMore.me();
      setValue('');
      onDone();
    } catch (err) {
      setKey(null);
      setError(err instanceof ApiError && err.status === 401 ? 'This key is unknown or revoked.' : errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login" id="main">
      <form onSubmit={submit} className="card" aria-labelledby="login-title">
        <h1 id="login-title">Sign in to hil</h1>
        <p>This server needs an API key. An admin creates one with <code>hil users add NAME --role operator</code> or <code>hil keys create NAME</code>.</p>
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={value}
          onChange={(e) => setValue(e.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'login-error' : undefined}
          autoFocus
        />
        {error ? (
          <p className="field-error" id="login-error" role="alert">
            {error}
          </p>
        ) : null}
        <p className="muted small">The key is kept in this browser tab only (session storage) and sent as a bearer token.</p>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
