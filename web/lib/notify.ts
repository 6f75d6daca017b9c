// Browser notifications for approvals that wait for the signed-in user. Permission is asked only
// from a click (browsers refuse a prompt without a user gesture); nothing is shown without it.

const SEEN = 'hil.notified';

export type NotifyState = NotificationPermission | 'unsupported';

export function notifyState(): NotifyState {
  return typeof window !== 'undefined' && 'Notification' in window ? Notification.permission : 'unsupported';
}

/** Asks for permission; call it from a click handler. */
export async function askNotify(): Promise<NotifyState> {
  if (notifyState() === 'unsupported') return 'unsupported';
  try {
    return await Notification.requestPermission();
  } catch {
    return notifyState();
  }
}

/** The ids in `pending` not in `seen`, in order: what to announce. Pure. */
export function newlyWaiting(seen: ReadonlySet<string>, pending: readonly string[]): string[] {
  return pending.filter((id, i) => !seen.has(id) && pending.indexOf(id) === i);
}

function seenIds(): Set<string> {
  try {
    return new Set(JSON.parse(sessionStorage.getItem(SEEN) ?? '[]') as string[]);
  } catch {
    return new Set();
  }
}

/**
 * Shows one notification per approval not announced before in this tab (a reload does not
 * announce it again). Returns the ids announced; none without permission.
 */
export function announce(items: readonly { id: string; title: string; body: string; url: string }[]): string[] {
  if (notifyState() !== 'granted') return [];
  const seen = seenIds();
  const fresh = newlyWaiting(seen, items.map((i) => i.id));
  for (const id of fresh) {
    const it = items.find((x) => x.id === id)!;
    try {
      const n = new Notification(it.title, { body: it.body, tag: `hil-approval-${id}` });
      n.onclick = () => {
        window.focus();
        if (!window.location.href.endsWith(it.url)) window.location.href = it.url;
        n.close();
      };
    } catch {
      // some browsers allow notifications only from a service worker: the inbox still shows it
    }
    seen.add(id);
  }
  try {
    sessionStorage.setItem(SEEN, JSON.stringify([...seen].slice(-500)));
  } catch {
    // storage full or off: at worst an approval is announced again
  }
  return fresh;
}
