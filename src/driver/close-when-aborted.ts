// A node's own signal (RaftNodeOptions.signal), for createRaftNode and createWorkerRaftNode alike.
import type { RaftNode } from './node-options.ts';

/**
 * The node's signal closes it (API.md: the scope of the factory). The listener goes once the node
 * stops, however it stops: a long-lived signal shared by many nodes would otherwise keep every
 * closed one in memory until it aborted.
 */
export function closeWhenAborted(signal: AbortSignal | undefined, node: RaftNode): void {
  if (signal === undefined) return;
  const onAbort = (): void => void node.close();
  signal.addEventListener('abort', onAbort, { once: true });
  const unsubscribe = node.stopped.subscribe((error) => {
    if (error === null) return;
    signal.removeEventListener('abort', onAbort);
    unsubscribe();
  });
}
