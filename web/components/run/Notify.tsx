'use client';

import { useEffect, useState } from 'react';
import { askNotify, notifyState, type NotifyState } from '@/lib/notify';

/** A button that asks for notification permission (on the click), and says what was decided. */
export function NotifyButton() {
  const [state, setState] = useState<NotifyState>('default');
  useEffect(() => setState(notifyState()), []);
  if (state === 'unsupported') return null;
  if (state === 'granted') return <span className="muted small notify-on">Notifications on</span>;
  if (state === 'denied') return <span className="muted small">Notifications blocked by the browser</span>;
  return (
    <button type="button" className="link" onClick={() => void askNotify().then(setState)}>
      Notify me of approvals
    </button>
  );
}
