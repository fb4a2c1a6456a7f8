// RaftNode.awaitLeadership: resolves once this node leads (at once if it does), rejects when the
// node closes or the caller's signal aborts, and leaves no listener behind either way.
import type { Watchable } from '../core/observable.ts';
import type { RaftRole } from '../core/types.ts';

export function waitForLeadership(role: Watchable<RaftRole>, closeListeners: Set<(error: Error) => void>, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (role.value === 'leader') return resolve();
    let unsubscribeRole: () => void = () => {};
    const finish = (): void => {
      unsubscribeRole();
      closeListeners.delete(onClose);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      finish();
      reject(signal?.reason);
    };
    const onClose = (error: Error): void => {
      finish();
      reject(error);
    };
    unsubscribeRole = role.subscribe((value) => {
      if (value !== 'leader') return;
      finish();
      resolve();
    });
    closeListeners.add(onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
