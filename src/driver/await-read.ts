// awaitRead (API.md): a linearizable read barrier. Confirms a read index with the leader, then
// waits until the caller's own applied index (advanced as it consumes committed()) reaches it.
import type { Watchable } from '../core/observable.ts';
import { waitUntilApplied } from './abortable-waits.ts';
import type { RaftNode } from './node-options.ts';

/** API.md's RaftNode: `stopped`, this library's addition, is used when present. */
export type ReadableNode = Omit<RaftNode, 'stopped'> & Partial<Pick<RaftNode, 'stopped'>>;

export async function awaitRead(node: ReadableNode, applied: Watchable<number>, options: { signal?: AbortSignal } = {}): Promise<number> {
  const readIndex = await node.readIndex(options);
  // The node stopping ends the wait too (API.md: pending calls reject with RaftClosedError, or
  // with whatever else stopped it): its committed stream ends with it, so the caller's applied
  // index would never move again and the read would hang.
  // `stopped` is this library's addition to API.md's RaftNode: another implementation (a wrapper,
  // a test double) may lack it, and then only the caller's signal ends the wait.
  const stopped = node.stopped;
  const nodeStopped = new AbortController();
  const unsubscribe = stopped?.subscribe((error) => {
    if (error !== null) nodeStopped.abort(error);
  });
  if (stopped != null && stopped.value !== null) nodeStopped.abort(stopped.value);
  try {
    await waitUntilApplied(applied, readIndex, [options.signal, nodeStopped.signal]);
  } finally {
    unsubscribe?.();
  }
  return readIndex;
}
