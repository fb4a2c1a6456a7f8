// The driver's storage side: readies that need a write are queued and written in order, merged
// into one batch while a write is in flight (write-queue.ts), and the messages that acknowledge
// what a write stores are held until it completes (Raft's durability rule). A write that never
// completes stops the node (stuck-write-watch.ts).
import { RaftStorageError } from '../core/errors.ts';
import type { OutboundMessage, Ready } from '../core/ready.ts';
import type { Clock } from '../core/config.ts';
import type { RaftStorage } from '../storage/raft-storage.ts';
import { createStuckWriteWatch } from './stuck-write-watch.ts';
import { mergeReadies, nextWriteCount, writeMerged, type MergedWrite } from './write-queue.ts';

/** Readies that carry no admitted entry a queue may also hold: term and vote changes, say. */
const readiesBesideEntries = 4096;
/** Readies queued behind a write in flight, at most, whatever maxPendingProposals says. */
const mostQueuedReadies = 262_144;

/**
 * Readies queued behind a write in flight, at most: a bound on memory, not on time (a write that
 * hangs is caught by its deadline, stuck-write-watch.ts). Load does not reach it while it follows
 * maxPendingProposals: behind one slow write, the readies that pile up carry entries the core
 * admitted, and a leader admits no more once maxPendingProposals entries are not both committed
 * and on its own disk (leader-proposals.ts admissionFailure): it answers 'overloaded' and 'busy'
 * instead, and a follower's appends are paced by its leader's window, since its answers wait for
 * the write. Each such entry may also move the commit index once, a ready of its own: twice the
 * proposal bound, plus room for term and vote changes. A fixed 4,096 once stopped a healthy
 * leader whose one write was slow while forwards kept arriving (an outside review, 2026-12-07).
 * Capped at mostQueuedReadies, above that sum for the default maxPendingProposals (100,000), so
 * the bound does not grow with a configuration of millions: with one, a leader under heavy load
 * behind a write that is slow, not stuck, stops here (a clear error, and the cluster fails over)
 * rather than buffering hundreds of megabytes of readies.
 */
export function queuedReadiesBound(maxPendingProposals: number): number {
  return Math.min(2 * maxPendingProposals + readiesBesideEntries, mostQueuedReadies);
}

export interface WritePipelineOptions {
  readonly storage: RaftStorage;
  /** queuedReadiesBound of the core's maxPendingProposals. */
  readonly maxQueuedReadies: number;
  /** The clock the write in flight's deadline runs on (RaftConfig.clock). */
  readonly clock: Clock;
  /** How long a write in flight may take before the node stops (stuckWriteBoundMs). */
  readonly stuckWriteMs: number;
  /** A compaction a crash interrupted (restore.ts): finished just before the first write. */
  readonly unfinishedCompactionThrough: number | null;
  /** Whether the node has stopped: a write that completes after that acknowledges nothing. */
  readonly stopped: () => boolean;
  readonly sendAll: (messages: readonly OutboundMessage[]) => void;
  /** A write completed: the core hears of it (`persisted`) before its held messages go. */
  readonly persisted: (merged: MergedWrite) => void;
  /** After a completed write's messages went and the next write began: the driver steps again. */
  readonly stepAgain: () => void;
  /** The queue is over its bound, a write failed or hangs: the node must stop. */
  readonly fail: (error: RaftStorageError, failedWrite: { message: string; reason: RaftStorageError['reason'] } | null) => void;
}

export interface WritePipeline {
  /** Queues a ready that needs a write (readyNeedsWrite) and starts writing if idle. */
  write(ready: Ready): void;
  /**
   * Acknowledgements from a ready that wrote nothing itself but was produced while an earlier
   * write was pending (a duplicate AppendEntries answered again, say): they wait for the newest
   * write queued or in flight at the time, never less; sent at once when nothing is pending.
   */
  sendAfterPendingWrites(messages: readonly OutboundMessage[]): void;
  /** Settles once no write is in flight (close waits for it). */
  readonly idle: Promise<void>;
  /** The node stopped: the write in flight has no deadline any more (its timer is cleared). */
  stopWatching(): void;
}

export function createWritePipeline(options: WritePipelineOptions): WritePipeline {
  const { storage, sendAll, maxQueuedReadies } = options;
  let queuedWrites: Ready[] = [];
  const deferredAfterWrite = new Map<Ready | 'inFlight', OutboundMessage[]>();
  let writing = false;
  let unfinishedCompactionThrough = options.unfinishedCompactionThrough;
  let writeIdle: Promise<void> = Promise.resolve();
  let signalWriteIdle: () => void = () => {};
  const stuckWrites = createStuckWriteWatch(options.clock, options.stuckWriteMs, (waitedMs) => {
    if (options.stopped()) return;
    const message = `storage write has not completed in ${Math.round(waitedMs / 1000)} s (the storage appears stuck); node stopped so that another node can lead`;
    options.fail(new RaftStorageError(message), { message, reason: 'unknown' });
  });

  const startWrite = (): void => {
    if (writing || queuedWrites.length === 0 || options.stopped()) return;
    const count = nextWriteCount(queuedWrites);
    const readies = queuedWrites.slice(0, count);
    queuedWrites = queuedWrites.slice(count);
    // Messages waiting on any of these readies now wait on this write as a whole.
    const waiting: OutboundMessage[] = [];
    for (const ready of readies) {
      waiting.push(...ready.messagesAfterPersist, ...(deferredAfterWrite.get(ready) ?? []));
      deferredAfterWrite.delete(ready);
    }
    deferredAfterWrite.set('inFlight', waiting);
    const merged = mergeReadies(readies);
    writing = true;
    stuckWrites.started();
    writeIdle = new Promise((resolve) => {
      signalWriteIdle = resolve;
    });
    // Begun on a microtask, so after the transport's: transports hand a step's frames to the
    // network on a microtask queued when they were sent (the WebRTC send queue, to bundle them),
    // and a write's synchronous first part (Chromium's IndexedDB opens the transaction and clones
    // the records: 0.4–0.7 ms here) would hold a leader's AppendEntries back that long, on the
    // path of every commit (bench:browser-diagnose --timeline). The messages that wait for this
    // write are still held until it completes.
    const finishCompactionThrough = unfinishedCompactionThrough;
    unfinishedCompactionThrough = null;
    Promise.resolve().then(() => (finishCompactionThrough === null ? writeMerged(storage, merged) : storage.discardLogPrefix(finishCompactionThrough).then(() => writeMerged(storage, merged)))).then(
      () => {
        writing = false;
        stuckWrites.settled();
        signalWriteIdle();
        if (options.stopped()) return;
        options.persisted(merged);
        const afterWrite = deferredAfterWrite.get('inFlight') ?? [];
        deferredAfterWrite.delete('inFlight');
        sendAll(afterWrite);
        startWrite();
        options.stepAgain();
      },
      (error: unknown) => {
        writing = false;
        stuckWrites.settled();
        signalWriteIdle();
        const message = error instanceof Error ? error.message : String(error);
        const reason = error instanceof RaftStorageError ? error.reason : 'unknown';
        options.fail(new RaftStorageError(`storage write failed, node stopped (durability can no longer be promised): ${message}`, { cause: error, reason }), { message, reason });
      },
    );
  };

  return {
    write(ready) {
      if (queuedWrites.length >= maxQueuedReadies) {
        options.fail(new RaftStorageError(`storage write has not completed while ${maxQueuedReadies} more writes queued behind it (the storage appears stuck); node stopped rather than buffering without bound`), null);
        return;
      }
      queuedWrites.push(ready);
      startWrite();
    },
    sendAfterPendingWrites(messages) {
      const newestWrite: Ready | 'inFlight' | undefined = queuedWrites[queuedWrites.length - 1] ?? (writing ? 'inFlight' : undefined);
      if (newestWrite === undefined) sendAll(messages);
      else deferredAfterWrite.set(newestWrite, [...(deferredAfterWrite.get(newestWrite) ?? []), ...messages]);
    },
    get idle() {
      return writeIdle;
    },
    stopWatching: () => stuckWrites.stop(),
  };
}
