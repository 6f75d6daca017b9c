import { useEffect } from 'react';

/** Calls `load` now and whenever the page comes back into view: what the list shows may have
 * changed elsewhere meanwhile (another tab, the CLI, another user). */
export function useLoadOnFocus(load: () => void): void {
  useEffect(() => {
    load();
    const again = () => {
      if (document.visibilityState === 'visible') load();
    };
    window.addEventListener('focus', again);
    document.addEventListener('visibilitychange', again);
    return () => {
      window.removeEventListener('focus', again);
      document.removeEventListener('visibilitychange', again);
    };
  }, [load]);
}
