// awaitRead (API.md): a linearizable read barrier. Confirms a read index with the leader, then
// waits until the caller's own applied index (advanced as it consumes committed()) reaches it.
import type { Watchable } from '../core/observable.ts';
import { waitUntilApplied } from './abortable-waits.ts';
import type { RaftNode } from './node-options.ts';

export async function awaitRead(node: RaftNode, applied: Watchable<number>, options: { signal?: AbortSignal } = {}): Promise<number> {
  const readIndex = await node.readIndex(options);
  await waitUntilApplied(applied, readIndex, [options.signal]);
  return readIndex;
}
