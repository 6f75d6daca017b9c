'use client';

import { useState } from 'react';
import { approveEach, errorText } from '@/lib/api';

export interface BulkItem {
  id: string;
  contentHash: string;
  label: string;
}

/**
 * "Approve all read-only": approves each listed approval as it was shown (plans and read queries
 * only; the caller never lists writes, DDL or questions), one by one, and says which failed.
 */
export function ApproveAll({ items, skipped, onForbidden, onDone }: { items: BulkItem[]; skipped: number; onForbidden: () => void; onDone?: () => void }) {
  const [busy, setBusy] = useState(false);
  const [report, setReport] = useState<string | null>(null);
  const [failed, setFailed] = useState<string[]>([]);
  if (items.length < 2 && !report) return null;
  const go = async () => {
    setBusy(true);
    setFailed([]);
    const out = await approveEach(items);
    const bad = out.filter((o) => !o.ok);
    if (bad.some((o) => o.error?.status === 403)) onForbidden();
    setFailed(bad.map((o) => `${items.find((i) => i.id === o.id)?.label ?? o.id}: ${o.error?.status === 409 ? 'already decided' : errorText(o.error)}`));
    setReport(`Approved ${out.length - bad.length} of ${out.length}.`);
    setBusy(false);
    onDone?.();
  };
  return (
    <div className="approve-all" role="group" aria-label="Decide several approvals">
      {items.length >= 2 ? (
        <button type="button" className="primary" onClick={() => void go()} disabled={busy}>
          {busy ? 'Approving…' : `Approve all read-only (${items.length})`}
        </button>
      ) : null}
      <span className="muted small">
        {' '}
        plans and read queries only{skipped ? `; ${skipped} write${skipped === 1 ? '' : 's'} or question${skipped === 1 ? '' : 's'} left for one-by-one review` : ''}
      </span>
      {report ? (
        <p className="small" role="status">
          {report}
        </p>
      ) : null}
      {failed.length ? (
        <ul className="field-error small">
          {failed.map((f) => (
            <li key={f}>{f}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
