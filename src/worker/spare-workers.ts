// Workers that read an id's storage, kept for that id's node. joinRoom reads the stored state
// (workerNodeFactory.readStoredState) and, a moment later, usually starts a node on the same id;
// a worker's start (loading and compiling its module) is most of what the read costs, so the
// node starts on the read's worker instead of a fresh one. A spare holds no database open (the
// read closed it) and is ended when its time runs out, its read's signal aborts, it crashes or
// dies (its life lock, held since the read, is granted to the page), a newer spare replaces it, or
// the id's storage is discarded: a read with no node after it costs an idle worker for a bounded
// time (joinRoom aborts the read's signal once its attempt is over, so there only while discovery
// waits).
import type { NodeId } from '../core/types.ts';
import { endKeptWorker, type KeptWorker } from './worker-client.ts';
import { watchWorkerLife, webLocks } from './worker-life.ts';

export interface SpareWorkers {
  /** A read of `id`'s storage is starting: what it brings back is kept through the ticket. */
  beginRead(id: NodeId): ReaderTicket;
  /** The id's spare, now the caller's (it no longer ends with a timer, signal or crash), or null. */
  take(id: NodeId): KeptWorker | null;
  /** Ends the id's spare, if any, and whatever a read of the id under way brings back. */
  drop(id: NodeId): void;
}

export interface ReaderTicket {
  /**
   * Keeps the read's worker for the id's node for `keepMs` (0 ends it at once), ending an older
   * spare of the id; ends it instead when the id was dropped while it read (a discard that raced it).
   */
  keep(kept: KeptWorker, signal: AbortSignal | undefined): void;
  /** The read failed: nothing to keep. */
  abandon(): void;
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
  /** Reads under way, per id; a drop marks them, and their workers are then ended, not kept. */
  const reading = new Map<NodeId, Set<{ dropped: boolean }>>();
  const endSpare = (id: NodeId): void => {
    const spare = spares.get(id);
    if (spare === undefined) return;
    spares.delete(id);
    spare.stopWatching();
    endKeptWorker(spare.kept);
  };
  const keep = (id: NodeId, kept: KeptWorker, signal: AbortSignal | undefined): void => {
    endSpare(id);
    if (keepMs <= 0 || signal?.aborted === true) {
      endKeptWorker(kept);
      return;
    }
    // The oldest goes first (a Map iterates in insertion order).
    const oldest = spares.keys().next();
    if (spares.size >= maxSpareWorkers && oldest.done !== true) endSpare(oldest.value);
    const end = (): void => {
      if (spares.get(id)?.kept === kept) endSpare(id);
    };
    const timer = setTimeout(end, keepMs);
    // A waiting spare must not keep a Node process alive (browsers have no unref).
    (timer as { unref?: () => void }).unref?.();
    kept.endpoint.addEventListener('error', end);
    kept.endpoint.addEventListener('messageerror', end);
    signal?.addEventListener('abort', end, { once: true });
    const locks = webLocks();
    // The node takes the watch over with the lock (KeptWorker.lifeLock) once it is taken.
    const life = kept.lifeLock === null || locks === null ? null : watchWorkerLife(locks, kept.lifeLock, end);
    spares.set(id, {
      kept,
      stopWatching: () => {
        life?.stop();
        clearTimeout(timer);
        kept.endpoint.removeEventListener('error', end);
        kept.endpoint.removeEventListener('messageerror', end);
        signal?.removeEventListener('abort', end);
      },
    });
  };
  return {
    beginRead(id) {
      const read = { dropped: false };
      const reads = reading.get(id) ?? new Set();
      reads.add(read);
      reading.set(id, reads);
      const finish = (): void => {
        reads.delete(read);
        if (reads.size === 0 && reading.get(id) === reads) reading.delete(id);
      };
      return {
        keep(kept, signal) {
          finish();
          if (read.dropped) endKeptWorker(kept);
          else keep(id, kept, signal);
        },
        abandon: finish,
      };
    },
    take(id) {
      const spare = spares.get(id);
      if (spare === undefined) return null;
      spares.delete(id);
      spare.stopWatching();
      return spare.kept;
    },
    drop(id) {
      for (const read of reading.get(id) ?? []) read.dropped = true;
      endSpare(id);
    },
  };
}
