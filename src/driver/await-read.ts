// awaitRead (API.md): a linearizable read barrier. Confirms a read index with the leader, then
// waits until the caller's own applied index (advanced as it consumes committed()) reaches it.
import type { Watchable } from '../core/observable.ts';
import type { RaftNode } from './node-options.ts';

export async function awaitRead(node: RaftNode, applied: Watchable<number>, options: { signal?: AbortSignal } = {}): Promise<number> {
  const readIndex = await node.readIndex(options);
  if (applied.value >= readIndex) return readIndex;
  return new Promise<number>((resolve, reject) => {
    const signal = options.signal;
    const finish = (): void => {
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      finish();
      reject(signal?.reason);
    };
    const unsubscribe = applied.subscribe((value) => {
      if (value < readIndex) return;
      finish();
      resolve(readIndex);
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted === true) onAbort();
  });
}
