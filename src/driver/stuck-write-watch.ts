// Notices a storage write that never completes. A leader whose write hangs cannot be left to run:
// the core refuses proposals once maxPendingProposals entries are not on its own disk
// (leader-proposals.ts), so it answers every proposal 'overloaded' and every forward 'busy', while
// its heartbeats keep its followers from electing anyone else, and the cluster takes no write for
// as long as the write hangs. Nor does a count of readies queued behind the write catch it, since
// that admission keeps the count low. So the write in flight gets a deadline: past it, the node
// stops with a RaftStorageError, and its followers, hearing no more heartbeats, elect a leader
// whose storage works.
import type { Clock } from '../core/config.ts';

/** The shortest time a write may take before it counts as stuck. */
const shortestStuckWriteMs = 30_000;
/** The same, in longest election timeouts, for clusters configured with long ones. */
const stuckWriteElectionTimeouts = 20;
/**
 * How long a write that is past its deadline gets once more before the node stops. A browser that
 * froze the tab (Page Lifecycle), or a process suspended meanwhile, runs the timers that fell due
 * as soon as it resumes, possibly before the storage's completion event already queued; the write
 * finished and only its news is late. One more short wait lets that news land first.
 */
const overdueGraceMs = 1_000;

/**
 * How long a write in flight may take before the node stops: 30 s, or 20 longest election
 * timeouts where those are long (a cluster tuned for a slow network). Not tight, because the stop
 * is for good (the application must create the node again) and a slow write is no fault:
 * IndexedDB writes a large snapshot (up to snapshotTotalCeiling, 64 MiB by default) in seconds on
 * a slow phone, another tab's long transaction or a busy disk holds writes back for seconds, and a
 * throttled background tab runs its timers late (which only delays this deadline, never brings it
 * forward). Not much looser either: until it passes, the cluster takes no write, where a leader
 * that crashed would be replaced within an election timeout.
 */
export function stuckWriteBoundMs(electionTimeoutMaxMs: number): number {
  return Math.max(shortestStuckWriteMs, stuckWriteElectionTimeouts * electionTimeoutMaxMs);
}

export interface StuckWriteWatch {
  /** A write began: it must complete within the bound. */
  started(): void;
  /** The write completed or failed. */
  settled(): void;
  /** The node stopped: no deadline any more, and no timer left. */
  stop(): void;
}

/**
 * `stuck` runs once a write started has neither completed nor failed in boundMs (plus a grace).
 * One timer serves every write, not one per write: writes start and settle hundreds of times a
 * second under load, each a timer set and cleared on the path of every commit, while a deadline
 * is almost never due. The timer, when it fires, looks at the write in flight then: none, and it
 * is armed again by the next write; a later one than it was armed for, and it waits for that
 * write's own deadline.
 */
export function createStuckWriteWatch(clock: Clock, boundMs: number, stuck: (waitedMs: number) => void): StuckWriteWatch {
  let handle: unknown = null;
  /** The write in flight (when it began); null when none is. A new object per write. */
  let inFlight: { readonly startedAt: number } | null = null;
  const arm = (delayMs: number, check: () => void): void => {
    handle = clock.setTimeout(() => {
      handle = null;
      check();
    }, delayMs);
  };
  const checkDeadline = (): void => {
    const write = inFlight;
    if (write === null) return;
    const dueInMs = write.startedAt + boundMs - clock.now();
    if (dueInMs > 0) return arm(dueInMs, checkDeadline);
    // Overdue: one more short wait, for news of it that a resumed process has not heard yet.
    arm(overdueGraceMs, () => (inFlight === write ? stuck(clock.now() - write.startedAt) : checkDeadline()));
  };
  return {
    started() {
      inFlight = { startedAt: clock.now() };
      if (handle === null) arm(boundMs, checkDeadline);
    },
    settled() {
      inFlight = null;
    },
    stop() {
      inFlight = null;
      if (handle !== null) clock.clearTimeout(handle);
      handle = null;
    },
  };
}
