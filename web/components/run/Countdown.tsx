'use client';

import { duration, useNow } from '../ui';

/** Time left before an approval expires (epoch seconds), ticking every second. */
export function Countdown({ expiresAt, onExpiry }: { expiresAt: number | null; onExpiry?: string }) {
  const now = useNow(expiresAt !== null);
  if (expiresAt === null) return null;
  const left = expiresAt * 1000 - now;
  const soon = left < 5 * 60_000;
  return (
    <p className={`countdown small${soon ? ' soon' : ''}`} role="timer" aria-live="off" data-expires-at={expiresAt}>
      {left > 0 ? (
        <>
          Expires in <strong>{duration(left)}</strong>
          {onExpiry ? `, then it is ${onExpiry === 'approve' ? 'approved' : 'rejected'}` : ''}
        </>
      ) : (
        'Expired: the server decides it at its next check'
      )}
    </p>
  );
}
