// A worker that opens an IndexedDbRaftStorage when told to and then holds it, never closing it,
// as a worker node does until it is terminated (a crash, a page replacing its worker). With
// `withoutWebLocks` it first hides navigator.locks, as an insecure context (plain http from a LAN
// address) has none. With `term` it saves that term before it answers, so the page can tell
// that what a live storage wrote survived whatever the page tried meanwhile.
import { IndexedDbRaftStorage } from '../indexeddb-storage.ts';

globalThis.addEventListener('message', (event: MessageEvent<unknown>) => {
  const data = event.data as { open?: unknown; withoutWebLocks?: unknown; term?: unknown } | null;
  if (typeof data !== 'object' || data === null || typeof data.open !== 'string') return;
  if (data.withoutWebLocks === true) Object.defineProperty(navigator, 'locks', { value: undefined, configurable: true });
  const term = typeof data.term === 'number' ? data.term : null;
  IndexedDbRaftStorage.open(data.open)
    .then(async (storage) => {
      if (term !== null) await storage.saveTermAndVotedFor(term, null);
    })
    .then(
      () => postMessage({ opened: true }),
      (error: unknown) => postMessage({ opened: false, error: String(error) }),
    );
});
