// Workers that read an id's storage, kept for that id's node. joinRoom reads the stored state
// (workerNodeFactory.readStoredState) and, a moment later, usually starts a node on the same id;
// a worker's start (loading and compiling its module) is most of what the read costs, so the
// node starts on the read's worker instead of a fresh one. A spare holds no database open (the
// read closed it) and is ended when its time runs out, its read's signal aborts, it crashes, a
// newer spare replaces it, or the id's storage is discarded: a read with no node after it
// (a room that refused the id, a join abandoned) costs an idle worker for a bounded time.
import type { NodeId } from '../core/types.ts';
import { endKeptWorker, type KeptWorker } from './worker-client.ts';

export interface SpareWorkers {
  /** Keeps `kept` for `id`'s node for `keepMs` (0 ends it at once); ends an older spare of the id. */
  keep(id: NodeId, kept: KeptWorker, signal: AbortSignal | undefined): void;
  /** The id's spare, now the caller's (it no longer ends with a timer, signal or crash), or null. */
  take(id: NodeId): KeptWorker | null;
  /** Ends the id's spare, if any. */
  drop(id: NodeId): void;
}

/** How many spares may wait at once, across ids: each is a worker with a loaded module. */
export const maxSpareWorkers = 4;

interface Spare {
  readonly kept: KeptWorker;
  /** Stops the spare's timer and listeners. */
  readonly stopWatching: () => void;
}

export function createSpareWorkers(keepMs: number): SpareWorkers {
  const spares = new Map<NodeId, Spare>();
  const drop = (id: NodeId): void => {
    const spare = spares.get(id);
    if (spare === undefined) return;
    spares.delete(id);
    spare.stopWatching();
    endKeptWorker(spare.kept);
  };
  return {
    keep(id, kept, signal) {
      drop(id);
      if (keepMs <= 0 || signal?.aborted === true) {
        endKeptWorker(kept);
        return;
      }
      // The oldest goes first (a Map iterates in insertion order).
      const oldest = spares.keys().next();
      if (spares.size >= maxSpareWorkers && oldest.done !== true) drop(oldest.value);
      const end = (): void => {
        if (spares.get(id)?.kept === kept) drop(id);
      };
      const timer = setTimeout(end, keepMs);
      kept.endpoint.addEventListener('error', end);
      kept.endpoint.addEventListener('messageerror', end);
      signal?.addEventListener('abort', end, { once: true });
      spares.set(id, {
        kept,
        stopWatching: () => {
          clearTimeout(timer);
          kept.endpoint.removeEventListener('error', end);
          kept.endpoint.removeEventListener('messageerror', end);
          signal?.removeEventListener('abort', end);
        },
      });
    },
    take(id) {
      const spare = spares.get(id);
      if (spare === undefined) return null;
      spares.delete(id);
      spare.stopWatching();
      return spare.kept;
    },
    drop,
  };
}
