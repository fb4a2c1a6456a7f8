// Storage with a disk that can lose power: every write reaches the durable store only after a
// random virtual delay, in the order it was issued, and crash() throws away every write not yet applied (its
// promise never settles, like a process killed mid-write). After a crash the wrapper is dead:
// every later call rejects. Restart = a new wrapper on the same durable store.
//
// Reads see the durable store only: a write is invisible until it lands. The engine never reads
// back what it has just written (it keeps its own copy), so this is the simplest correct model.
import type { LogEntry, NodeId, SnapshotMeta, StoredSnapshot } from '../core/types.ts';
import type { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import type { RaftStorage, StorageBatch } from '../storage/raft-storage.ts';
import type { Clock } from '../core/config.ts';

/**
 * A crash set to strike inside the next snapshot write's sequence (the driver writes hard state
 * and any cut, then the snapshot, then the discard of the log it covers): once `remaining` writes
 * from the snapshot's own on have landed (0: just before the snapshot's own).
 */
interface SnapshotTripwire {
  remaining: number;
  /** Whether a snapshot write has started the countdown (until then it waits, armed). */
  counting: boolean;
  /** Crashes the node (this storage with it); false when it did not (the node was down already). */
  readonly crash: () => boolean;
}

/** A write accepted and not yet on the durable store. */
interface QueuedWrite {
  handle: unknown;
  /** Whether its delay has passed: it lands as soon as every write before it has. */
  due: boolean;
  readonly land: () => void;
}

export class CrashableStorage implements RaftStorage {
  private dead = false;
  private lastWriteAt = 0;
  /** Accepted writes in issue order: only the head may land. */
  private queue: QueuedWrite[] = [];
  private tripwire: SnapshotTripwire | null = null;

  constructor(
    readonly durable: InMemoryRaftStorage,
    private readonly clock: Clock,
    private readonly random: () => number,
    private readonly maxWriteDelayMs = 2,
  ) {}

  /** Power loss: unapplied writes vanish, and this wrapper answers nothing ever again. */
  crash(): void {
    this.dead = true;
    this.disarm();
    for (const queued of this.queue) this.clock.clearTimeout(queued.handle);
    this.queue = [];
  }

  /**
   * The next saveSnapshot starts a countdown: `crash` runs (it must crash the node, this storage
   * with it) once `writesToLand` writes from the snapshot's own on have landed, so the node dies
   * between two writes of one snapshot sequence, where a wrong write order loses data. The write
   * that lands last is durable, and its caller never hears so, as in a real power cut.
   */
  armSnapshotCrash(writesToLand: number, crash: () => boolean): void {
    this.tripwire = { remaining: writesToLand, counting: false, crash };
  }

  /** Takes back an armed or counting tripwire (a heal: no crash after it). */
  disarm(): void {
    this.tripwire = null;
  }

  get crashed(): boolean {
    return this.dead;
  }

  /** Writes accepted and not yet on the durable store. */
  get pendingWrites(): number {
    return this.queue.length;
  }

  private refuse(): Promise<never> {
    return Promise.reject(new Error('CrashableStorage: this storage crashed; restart with a new wrapper on the durable store'));
  }

  private read<T>(operation: () => Promise<T>): Promise<T> {
    if (this.dead) return this.refuse();
    return operation();
  }

  private write(operation: () => Promise<void>): Promise<void> {
    if (this.dead) return this.refuse();
    // Each write's delay ends no earlier than the one before it. The clock takes a relative delay,
    // and now + (at - now) can round one ulp below `at`, so a write tied to its predecessor's
    // landing time could fall due first: the queue, not the timers, decides the landing order.
    const at = Math.max(this.lastWriteAt, this.clock.now() + this.random() * this.maxWriteDelayMs);
    this.lastWriteAt = at;
    return new Promise<void>((resolve, reject) => {
      const queued: QueuedWrite = {
        handle: null,
        due: false,
        land: () => {
          operation().then(() => {
            if (!this.struckAfterLanding()) resolve();
          }, reject);
        },
      };
      queued.handle = this.clock.setTimeout(() => {
        queued.due = true;
        this.landDueWrites();
      }, at - this.clock.now());
      this.queue.push(queued);
    });
  }

  /** Lands the due writes at the head of the queue, in order; a due write behind a pending one waits for it. */
  private landDueWrites(): void {
    while (this.queue[0]?.due === true) (this.queue.shift() as QueuedWrite).land();
  }

  term(): Promise<number> {
    return this.read(() => this.durable.term());
  }
  votedFor(): Promise<NodeId | null> {
    return this.read(() => this.durable.votedFor());
  }
  saveTermAndVotedFor(term: number, votedFor: NodeId | null): Promise<void> {
    return this.write(() => this.durable.saveTermAndVotedFor(term, votedFor));
  }
  leaderForTerm(): Promise<{ term: number; leaderId: NodeId } | null> {
    return this.read(() => this.durable.leaderForTerm());
  }
  saveLeaderForTerm(term: number, leaderId: NodeId): Promise<void> {
    return this.write(() => this.durable.saveLeaderForTerm(term, leaderId));
  }
  commitIndex(): Promise<number> {
    return this.read(() => this.durable.commitIndex());
  }
  saveCommitIndex(index: number): Promise<void> {
    return this.write(() => this.durable.saveCommitIndex(index));
  }
  appendEntries(entries: readonly LogEntry[]): Promise<void> {
    return this.write(() => this.durable.appendEntries(entries));
  }
  entries(fromIndex?: number): Promise<LogEntry[]> {
    return this.read(() => this.durable.entries(fromIndex));
  }
  truncateFrom(index: number): Promise<void> {
    return this.write(() => this.durable.truncateFrom(index));
  }
  saveSnapshot(meta: SnapshotMeta, state: Uint8Array): Promise<void> {
    const tripwire = this.tripwire;
    if (tripwire !== null && !tripwire.counting && !this.dead) {
      tripwire.counting = true;
      if (tripwire.remaining === 0 && this.strike(tripwire)) return new Promise<void>(() => undefined);
    }
    return this.write(() => this.durable.saveSnapshot(meta, state));
  }

  /** Counts a write that landed against a counting tripwire; true when it crashed the node (the caller hears nothing). */
  private struckAfterLanding(): boolean {
    const tripwire = this.tripwire;
    if (tripwire === null || !tripwire.counting) return false;
    tripwire.remaining -= 1;
    return tripwire.remaining <= 0 && this.strike(tripwire);
  }

  /** Sets the tripwire off, once. A crash that did not happen (the node was down already) must not swallow an answer. */
  private strike(tripwire: SnapshotTripwire): boolean {
    this.tripwire = null;
    return tripwire.crash();
  }

  loadSnapshot(): Promise<StoredSnapshot | null> {
    return this.read(() => this.durable.loadSnapshot());
  }
  discardLogPrefix(throughIndex: number): Promise<void> {
    return this.write(() => this.durable.discardLogPrefix(throughIndex));
  }
  writeBatch(batch: StorageBatch): Promise<void> {
    return this.write(() => this.durable.writeBatch(batch));
  }
}
