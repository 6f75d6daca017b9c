'use client';

import { useEffect, useRef, useState } from 'react';
import { ErrorBox } from '@/components/ui';
import { api } from '@/lib/api';

/** Archive a workflow, after a confirmation that says what archiving does. */
export function ArchiveWorkflow({ id, name, onArchived }: { id: string; name: string; onArchived: () => void }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const confirm = useRef<HTMLButtonElement>(null);
  const opener = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (asking) confirm.current?.focus();
  }, [asking]);

  const close = () => {
    setAsking(false);
    setError(null);
    setTimeout(() => opener.current?.focus(), 0);
  };

  const archive = async () => {
    setBusy(true);
    setError(null);
    try {
      await api.archiveWorkflow(id);
      setAsking(false);
      onArchived();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (!asking)
    return (
      <button type="button" ref={opener} className="danger-outline" onClick={() => setAsking(true)} aria-label={`Archive ${name}`}>
        Archive
      </button>
    );
  return (
    <div
      className="confirm"
      role="alertdialog"
      aria-labelledby={`archive-${id}-title`}
      aria-describedby={`archive-${id}-text`}
      onKeyDown={(e) => {
        if (e.key === 'Escape') close();
      }}
    >
      <p id={`archive-${id}-title`}>
        <strong>Archive {name}?</strong>
      </p>
      <p id={`archive-${id}-text`} className="small">
        It disappears from the lists and nobody can start a run with it. Its versions and past runs stay readable.
      </p>
      <ErrorBox error={error} title="Not archived" />
      <div className="actions">
        <button type="button" ref={confirm} className="danger" onClick={() => void archive()} disabled={busy}>
          {busy ? 'Archiving…' : `Archive ${name}`}
        </button>
        <button type="button" onClick={close} disabled={busy}>
          Keep it
        </button>
      </div>
    </div>
  );
}
