// The lease on a data directory's lock. A lock of another PID namespace (another container sharing
// the volume) names an owner that cannot be looked up from here, so whether it still runs is told
// by its lease instead: while a process holds the lock it rewrites the lock file's bytes (the same
// bytes, so the file's modification time moves on) every `renewMs`, and a lock whose modification
// time stands still for `expiryMs` is taken for its crashed owner's (SIGKILL, out of memory: each
// container start gets a new PID namespace, and without the lease a successor was refused until a
// human removed the lock). Rewritten through the handle that created the file, not through its
// path: a lock taken over or removed meanwhile is another inode, which the write cannot touch, and
// the modification time is the file system's own clock (an NFS server's, say), never this host's.
//
// A holder that was frozen (SIGSTOP, a paused container, a VM stall) longer than the lease may
// have lost the lock without running a line: before each write its storage asks confirmHeld(),
// which after a stall rewrites and reads the lock back first. The lock names the lease it keeps
// (`lease-expiry-ms 15000`), so a judge waits at least that long, whatever its own setting.
import { readFile, type FileHandle } from 'node:fs/promises';
import type { RaftStorageError } from '../../core/errors.ts';
import { createWatchable, type Watchable } from '../../core/observable.ts';

export interface LeaseTiming {
  /** How often a holder rewrites its lock. */
  readonly renewMs: number;
  /** How long a lock of another PID namespace must stand unrenewed before it is taken over. */
  readonly expiryMs: number;
  /** A monotonic clock in milliseconds (performance.now), which a test replaces to simulate a freeze. */
  readonly now: () => number;
  /**
   * The wall clock in milliseconds (Date.now, the default). The monotonic clock stands still while
   * the machine sleeps (Linux's CLOCK_MONOTONIC leaves out a suspend, and a paused VM may resume
   * where it stopped), while a taker elsewhere sees the lease run out: the time since a renewal is
   * the longer of the two clocks' (a wall clock set back counts for nothing, one set forward costs
   * one early confirmation). It only ever asks for a confirmation: whether the lock went unrenewed
   * for a whole lease is the monotonic clock's to say, or a step forward (NTP's first sync on a
   * device without a real-time clock) followed by one failed renewal lost a lock renewed moments ago.
   */
  readonly wallClockNow?: () => number;
}

export const defaultLeaseTiming: LeaseTiming = { renewMs: 2_000, expiryMs: 15_000, now: () => performance.now() };

/** A lock naming a longer lease than this is judged by this one: an hour is far beyond any renewal. */
const maxLeaseExpiryMs = 60 * 60 * 1000;
const leaseLinePattern = /^lease-expiry-ms (\d{1,10})$/m;

export function requireLeaseTiming(timing: LeaseTiming): void {
  const { renewMs, expiryMs } = timing;
  // Several renewals per lease: one late timer (a busy event loop) must not let the lease lapse.
  if (!Number.isSafeInteger(renewMs) || renewMs < 1 || !Number.isSafeInteger(expiryMs) || expiryMs < 3 * renewMs || expiryMs > maxLeaseExpiryMs) {
    throw new RangeError(`lease timing: renewMs ${renewMs} and expiryMs ${expiryMs} must be whole, positive, expiryMs at least three renewals and at most ${maxLeaseExpiryMs}`);
  }
}

/** The line a holder's lock carries: the lease it keeps. Older builds skip it (an unknown fact). */
export function leaseLine(timing: LeaseTiming): string {
  return `lease-expiry-ms ${timing.expiryMs}`;
}

/** The lease a lock names, or null for a lock without one (a build before leases, which never renews). */
export function leaseExpiryIn(lockText: string): number | null {
  const match = leaseLinePattern.exec(lockText);
  return match?.[1] === undefined ? null : Math.min(Number(match[1]), maxLeaseExpiryMs);
}

/**
 * How long a write may follow the last renewal without first confirming the lock: past the renewal
 * interval (a timer a little late) but well inside the lease, so that the write, a slow fsync and
 * all, is over before anyone may judge the lease expired.
 */
function confirmAfterMs(timing: LeaseTiming): number {
  return Math.min(2 * timing.renewMs, timing.expiryMs / 2);
}

/**
 * Renewals one confirmation runs at most (and for no longer than a lease) before it fails the
 * write: a renewal can succeed and still leave the lease older than confirmAfterMs (its flush
 * slower than that, or the wall clock stepped forward meanwhile), and the next one then usually
 * does; a disk that fails every renewal must not hold the write up for good.
 */
const maxConfirmationRenewals = 4;

export interface Lease {
  /**
   * Null while the lease was renewed lately (the check before each write: one clock comparison);
   * after a stall, a promise that renews the lease and rejects (inUse) if the lock is no longer ours.
   */
  confirmHeld(): Promise<void> | null;
  /** Set once, when a renewal finds the lock taken over or removed (or unrenewable for a whole lease). */
  readonly lost: Watchable<RaftStorageError | null>;
  /** Stops renewing (the timer cleared) and waits for a renewal in flight: the caller releases the lock next. */
  stop(): Promise<void>;
}

/**
 * Keeps the lease on the lock at `path`, which `handle` created holding `text`. `lostError` says,
 * in the lock's words, why it is gone.
 */
export function holdLease(path: string, text: string, handle: FileHandle, timing: LeaseTiming, lostError: (why: string) => RaftStorageError): Lease {
  const bytes = new TextEncoder().encode(text);
  const lost = createWatchable<RaftStorageError | null>(null);
  const wallClockNow = timing.wallClockNow ?? Date.now;
  let renewedAt = timing.now();
  let renewedAtWallClock = wallClockNow();
  /** Milliseconds since the last renewal began, on whichever clock says longer. */
  const sinceRenewal = (): number => Math.max(timing.now() - renewedAt, wallClockNow() - renewedAtWallClock);
  /** Why the last renewal failed, while none has succeeded since: said when a confirmation gives up. */
  let lastRenewalFailure: string | null = null;
  let renewing: Promise<void> = Promise.resolve();
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;

  const renewOnce = async (): Promise<void> => {
    if (stopped || lost.value !== null) return;
    // Taken before the write: the lease runs from no earlier than this.
    const startedAt = timing.now();
    const startedAtWallClock = wallClockNow();
    try {
      await handle.write(bytes, 0, bytes.length, 0);
      // Flushed: on NFS a write stays in the client's cache until writeback (about 30 s), and the
      // server's modification time, which a taker on another host judges the lease by, stands still.
      await handle.datasync();
      const current = await readFile(path, 'utf8').catch((error: unknown) => ((error as NodeJS.ErrnoException).code === 'ENOENT' ? null : Promise.reject(error)));
      if (current !== text) {
        lost.set(lostError(current === null ? 'was removed' : 'now names another owner (taken over after its lease expired)'));
        return;
      }
      renewedAt = startedAt;
      renewedAtWallClock = startedAtWallClock;
      lastRenewalFailure = null;
    } catch (error) {
      // A failure to renew (an NFS server away, say) is tried again at the next interval; writes
      // meanwhile confirm first, and fail. Once a whole lease has passed, the lock may be another's:
      // a lease measured on the monotonic clock, since a wall clock stepped forward says nothing of
      // how long the lock stood unrenewed (it only makes the next write confirm).
      lastRenewalFailure = (error as Error).message;
      if (timing.now() - renewedAt >= timing.expiryMs) lost.set(lostError(`could not be renewed for ${timing.expiryMs} ms (${lastRenewalFailure})`));
    }
  };
  // One renewal at a time, in order: a confirmation after a stall queues behind the timer's.
  const renew = (): Promise<void> => (renewing = renewing.then(renewOnce));
  const schedule = (): void => {
    if (stopped || lost.value !== null) return;
    timer = setTimeout(() => {
      timer = null;
      void renew().then(schedule);
    }, timing.renewMs);
    timer.unref(); // a lease never keeps a process alive
  };
  schedule();

  /**
   * Renews until the lease is fresh enough to write after. A renewal that succeeded but took longer
   * than confirmAfterMs (a slow fdatasync), or during which the wall clock stepped forward, is
   * followed by another: a review found the storage failed for good while its lock was its own and
   * freshly renewed. Fails when the lock is found another's or removed, or when no renewal was
   * timely within a lease (or maxConfirmationRenewals).
   */
  const confirm = async (): Promise<void> => {
    const startedAt = timing.now();
    for (let attempt = 0; attempt < maxConfirmationRenewals && timing.now() - startedAt < timing.expiryMs; attempt += 1) {
      await renew();
      const after = lost.value;
      if (after !== null) throw after;
      if (sinceRenewal() <= confirmAfterMs(timing)) return;
    }
    const failure = lastRenewalFailure === null ? '' : `; its last renewal failed: ${lastRenewalFailure}`;
    throw lostError(`could not be confirmed after a stall (${sinceRenewal().toFixed(0)} ms since its last renewal${failure})`);
  };

  return {
    confirmHeld() {
      const failure = lost.value;
      if (failure !== null) return Promise.reject(failure);
      if (sinceRenewal() <= confirmAfterMs(timing)) return null;
      return confirm();
    },
    lost,
    async stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      await renewing;
    },
  };
}
