// One process per data directory: two writers appending to one journal would interleave records
// and corrupt it. The lock file names the owner (its pid and, on Linux, its boot and start time
// and its PID namespace: process-identity.ts); a lock left by a dead process (SIGKILL, a crash, a
// reboot) is taken over, a live owner's is refused with a clear error. An owner of another PID
// namespace (another container) cannot be looked up from here: its lock is taken over only once
// its lease has expired (directory-lease.ts), and refused before.
//
// The lock file also carries a token of its own (`token <uuid>`, a line older builds skip): a
// release removes the lock only while it still holds that token, so a process whose lock was
// taken over cannot remove its new owner's.
import { randomUUID } from 'node:crypto';
import { link, open, readFile, realpath, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { RaftStorageError } from '../../core/errors.ts';
import type { Watchable } from '../../core/observable.ts';
import { defaultLeaseTiming, holdLease, leaseExpiryIn, leaseLine, requireLeaseTiming, type LeaseTiming } from './directory-lease.ts';
import { draftPathOf, fileSystemClockMs, removeIfStillTheFile, removeLeftovers } from './directory-lock-files.ts';
import { identityText, judgeOwner, ownIdentity, parseIdentity, type ProcessIdentity } from './process-identity.ts';
import { readIfPresent } from './read-if-present.ts';

const lockName = 'lock';

/**
 * Directories this module holds, for a clear refusal (and one at once) of a second open in this
 * thread. Keyed by the real path: under another spelling (relative, through a symlink) it would
 * otherwise be found only by the lock file's content. Another worker thread, or a second copy of
 * this module, has a set of its own: the lock file names this very process, and judgeOwner says so.
 */
const heldHere = new Set<string>();

/** A refusal of the lock, its message led by who asked (`FileRaftStorage: ...`), when that is said. */
function lockError(label: string | null, message: string, reason: 'inUse' | 'unknown'): RaftStorageError {
  return new RaftStorageError(label === null ? message : `${label}: ${message}`, { reason });
}

/** A held lock: its lease is renewed until release() (or until it turns out lost). */
export interface DirectoryLock {
  /**
   * Before each change to the directory: null while the lease was renewed lately (one clock
   * comparison); after a stall longer than a renewal or two (a frozen process), a promise that
   * renews the lease and rejects (inUse) if the lock is no longer this process's.
   */
  confirmHeld(): Promise<void> | null;
  /** Set once, when a renewal finds the lock taken over or removed: stop writing. */
  readonly lost: Watchable<RaftStorageError | null>;
  /** Stops the lease and removes the lock, if it still holds this lock's token. Idempotent. */
  release(): Promise<void>;
}

/**
 * Locks `directory` for this process and keeps its lease. `label` leads every refusal's message
 * (null when the caller says in its own words what the directory is for); `timing` is for tests.
 */
export async function acquireDirectoryLock(directory: string, label: string | null = 'FileRaftStorage', timing: LeaseTiming = defaultLeaseTiming): Promise<DirectoryLock> {
  requireLeaseTiming(timing);
  const path = join(await realpath(directory), lockName);
  if (heldHere.has(path)) throw lockError(label, `${directory} is already open in this process; one storage per data directory`, 'inUse');
  // Claimed before the first await: two opens of one directory started together in this process
  // both passed the check above while neither was recorded, and the second took the first's lock
  // file (our own pid) for a stale one.
  heldHere.add(path);
  let taken: TakenLock;
  try {
    taken = await takeLockFile(directory, path, label, timing);
  } catch (error) {
    heldHere.delete(path);
    throw error;
  }
  await removeLeftovers(path, timing.expiryMs);
  const lease = holdLease(path, taken.text, taken.handle, timing, (why) => lostLock(label, directory, path, why, timing));
  let releasing: Promise<void> | null = null;
  return {
    confirmHeld: () => lease.confirmHeld(),
    lost: lease.lost,
    release() {
      releasing ??= (async () => {
        await lease.stop();
        await taken.handle.close().catch(() => undefined);
        heldHere.delete(path);
        await releaseLockFile(path, taken.text);
      })();
      return releasing;
    },
  };
}

/** The lock file this process wrote, and the handle that created it (the lease rewrites through it). */
interface TakenLock {
  readonly text: string;
  readonly handle: FileHandle;
}

async function takeLockFile(directory: string, path: string, label: string | null, timing: LeaseTiming): Promise<TakenLock> {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const text = await lockText(timing);
    try {
      const handle = await createLockFile(path, text);
      if (handle === null) continue; // our draft removed as a leftover: the lock changed meanwhile, look again
      return { text, handle };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const ownerText = await readFile(path, 'utf8').catch(() => null);
      if (ownerText === null) continue; // released meanwhile: try again
      const owner = parseIdentity(ownerText);
      const leaseExpiryMs = owner === null ? null : await refuseLiveOwner(label, directory, path, owner, ownerText, timing);
      // A dead owner's lock (or garbage, or a pid now another process's, or an expired lease). Two
      // processes that both found it used to both remove it and both open the directory (4 of 20
      // trials when started together): the takeover is serialised, and a taker that finds the
      // lock changed gives way.
      const handle = await takeOver(label, directory, path, ownerText, text, leaseExpiryMs, timing);
      if (handle !== null) return { text, handle };
    }
  }
  throw lockError(label, `could not lock ${directory}`, 'unknown');
}

/** This process's lock file: its identity, the lease it keeps, and a fresh token, which tells this lock from any other. */
async function lockText(timing: LeaseTiming): Promise<string> {
  return `${identityText(await ownIdentity())}\n${leaseLine(timing)}\ntoken ${randomUUID()}`;
}

/** Removes the lock only if it is still the one this process wrote: taken over, it is its new owner's. */
async function releaseLockFile(path: string, text: string): Promise<void> {
  const current = await readFile(path, 'utf8').catch(() => null);
  if (current === text) await unlink(path).catch(() => undefined);
}

/**
 * Refuses (inUse) a lock whose owner is, or may be, running. Returns null for a stale one, and for
 * one of another PID namespace the lease (ms) it must have stood unrenewed before it is taken over.
 */
async function refuseLiveOwner(label: string | null, directory: string, path: string, owner: ProcessIdentity, ownerText: string, timing: LeaseTiming): Promise<number | null> {
  const verdict = await judgeOwner(owner);
  if (verdict === 'gone') return null;
  if (verdict === 'otherPidNamespace') {
    // No lease line: a build that never renews its lock, so its age says nothing about whether its
    // owner runs, and taking a live owner's lock means two writers. Refused, as before leases.
    const leaseExpiryMs = leaseExpiryIn(ownerText);
    if (leaseExpiryMs === null) throw inOtherPidNamespace(label, directory, path, owner.pid);
    // The longer of the two: the owner renews for its own lease, and this process must not judge sooner.
    return Math.max(leaseExpiryMs, timing.expiryMs);
  }
  if (verdict === 'thisProcess') throw lockError(label, `${directory} is already open in this process (in another worker thread, or by another copy of raftmesh loaded in it); one storage per data directory`, 'inUse');
  throw inUse(label, directory, path, owner.pid);
}

/** The pid a lock or takeover file names, or null for anything else (empty, garbage). */
function pidIn(text: string): number | null {
  return parseIdentity(text)?.pid ?? null;
}

function inUse(label: string | null, directory: string, path: string, pid: number | null): RaftStorageError {
  // Where the lock names only a pid (no /proc to read a boot and start time from), a pid reused
  // after a reboot or in a fresh container still reads as its owner: say how to tell, and what to do.
  const owner = pid ?? 0;
  return lockError(label, `${directory} is in use by process ${owner}; one process per data directory (if process ${owner} is not a raftmesh peer on this directory, the lock is stale: remove ${path})`, 'inUse');
}

function inOtherPidNamespace(label: string | null, directory: string, path: string, pid: number): RaftStorageError {
  return lockError(
    label,
    `${directory} is locked by process ${pid} of another PID namespace (another container sharing this directory?), which cannot be looked up from here, and its lock names no lease (a raftmesh build before leases wrote it, and never renews it), so it counts as running; one process per data directory (once no process of that container or machine uses the directory, say after the container that held it crashed or was removed, remove ${path})`,
    'inUse',
  );
}

/** Milliseconds as seconds with one decimal, for a refusal's message (never below zero). */
const seconds = (ms: number): string => (Math.max(0, ms) / 1000).toFixed(1);

function leaseHeld(label: string | null, directory: string, path: string, pid: number, ageMs: number, expiryMs: number): RaftStorageError {
  return lockError(
    label,
    `${directory} is locked by process ${pid} of another PID namespace (another container sharing this directory?), which cannot be looked up from here; its lease was renewed ${seconds(ageMs)} s ago, and a running owner renews it every few seconds: it is taken over once it has not been renewed for ${seconds(expiryMs)} s (in ${seconds(expiryMs - ageMs)} s, if its owner has stopped); one process per data directory (if you are sure no process uses the directory, remove ${path})`,
    'inUse',
  );
}

function lostLock(label: string | null, directory: string, path: string, why: string, timing: LeaseTiming): RaftStorageError {
  return lockError(label, `the lock ${path} ${why}: this process no longer holds ${directory} and must not write to it (was it frozen, or cut off from the disk, for longer than its ${timing.expiryMs / 1000} s lease?); one process per data directory`, 'inUse');
}

/** How long an empty or unreadable takeover file is taken for one being written, not a crashed taker's. */
const takeoverWriteMs = 10_000;

/**
 * Replaces the stale lock whose content was `staleText`, holding `lock.takeover` (an exclusive
 * create, which every file system offers) while it checks the lock is still that one, removes it
 * and creates its own. Resolves to the new lock's handle when this process now holds the lock;
 * null to try again from the start (a crashed taker's file judged and, if still the one judged,
 * cleared; or the lock's draft removed before it was linked). Another live taker, or a lock that
 * changed, means someone else is taking the directory: inUse. With `leaseExpiryMs` (a
 * lock of another PID namespace), the lock must also have stood unrenewed that long, checked here,
 * under the takeover file, just before it is removed.
 */
async function takeOver(label: string | null, directory: string, path: string, staleText: string, text: string, leaseExpiryMs: number | null, timing: LeaseTiming): Promise<FileHandle | null> {
  const takeoverPath = `${path}.takeover`;
  // A token of its own, as the lock has: two worker threads of one process name the same identity,
  // and each must tell its own takeover file from the other's.
  const takerText = `${identityText(await ownIdentity())}\ntoken ${randomUUID()}`;
  let handle;
  try {
    handle = await open(takeoverPath, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    await clearCrashedTakeover(label, directory, path, takeoverPath, timing);
    return null;
  }
  try {
    await handle.writeFile(takerText);
    // Just written, so its modification time is the file system's clock now: the lease is
    // measured against it, not this host's clock (hosts sharing NFS disagree on the time).
    const fileSystemNowMs = (await handle.stat()).mtimeMs;
    const current = await readLockFile(path);
    if (current !== null && current.text !== staleText) throw inUse(label, directory, path, pidIn(current.text));
    if (current !== null && leaseExpiryMs !== null) {
      const ageMs = fileSystemNowMs - current.modifiedMs;
      if (ageMs < leaseExpiryMs) throw leaseHeld(label, directory, path, pidIn(staleText) ?? 0, ageMs, leaseExpiryMs);
    }
    // A taker held up (frozen) longer than a lease in the middle of its takeover may have had its
    // takeover file cleared as a crashed one's, and another process may be taking over now.
    if ((await readIfPresent(takeoverPath, (taken) => taken.readFile('utf8'))) !== takerText) throw lockError(label, `${directory} is being taken over by another process (${takeoverPath} was cleared while this process was held up); one process per data directory`, 'inUse');
    if (current !== null) await unlink(path);
    // Exclusive still: a process that never saw the stale lock may create one between the two calls.
    // Null (the draft removed as a leftover: someone holds the lock by now) means look again.
    try {
      return await createLockFile(path, text);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      throw inUse(label, directory, path, pidIn(await readFile(path, 'utf8').catch(() => '')));
    }
  } finally {
    // Ours only: cleared as a crashed taker's, its name may be another taker's by now.
    await removeIfStillTheFile(takeoverPath, handle).catch(() => false);
    await handle.close().catch(() => undefined);
  }
}

/**
 * Another taker's `lock.takeover` stands in the way: removes it if its taker is gone, refuses
 * (inUse) while it may still be at work. A takeover is a few file operations, over in
 * milliseconds, so a taker of another PID namespace (which cannot be looked up from here) whose
 * file has stood longer than a lease crashed in the middle of it (SIGKILL, out of memory, a
 * container removed): the same judgement the lease makes of a lock, on the file system's clock.
 * Without it such a file blocked the directory until a human removed it (an outside review).
 */
async function clearCrashedTakeover(label: string | null, directory: string, path: string, takeoverPath: string, timing: LeaseTiming): Promise<void> {
  // Judged and removed through one open handle (none: its taker finished meanwhile, try again).
  await readIfPresent(takeoverPath, async (handle) => {
    const text = await handle.readFile('utf8');
    const taker = parseIdentity(text);
    const ageMs = (await fileSystemClockMs(path)) - (await handle.stat()).mtimeMs;
    const verdict = taker !== null ? await judgeOwner(taker) : ageMs < takeoverWriteMs ? 'running' : 'gone';
    if (verdict === 'otherPidNamespace' && ageMs < timing.expiryMs) {
      throw lockError(label, `${directory} is being taken over by process ${taker?.pid ?? 0} of another PID namespace (another container?), which cannot be looked up from here; its takeover file ${takeoverPath} is ${seconds(ageMs)} s old, and a takeover lasts milliseconds: it is cleared as a crashed taker's once it is ${seconds(timing.expiryMs)} s old (in ${seconds(timing.expiryMs - ageMs)} s); one process per data directory`, 'inUse');
    }
    if (verdict === 'running' || verdict === 'thisProcess') throw lockError(label, `${directory} is being taken over by another process (${takeoverPath}); one process per data directory`, 'inUse');
    // Removed only if it is still the file judged: two processes that both found a crashed taker's
    // file must not have the later one remove the takeover file the earlier one has just made.
    // Either way the caller looks again, and judges whatever takeover file it finds then.
    await removeIfStillTheFile(takeoverPath, handle);
  });
}

/**
 * The lock's text and modification time, or null if there is none. Read through one open handle:
 * both are the same file's, and on NFS the open revalidates the attributes a stat by path may
 * serve from a cache a minute old (a lease renewed since would read as expired).
 */
async function readLockFile(path: string): Promise<{ readonly text: string; readonly modifiedMs: number } | null> {
  return readIfPresent(path, async (handle) => ({ text: await handle.readFile('utf8'), modifiedMs: (await handle.stat()).mtimeMs }));
}

/**
 * Creates the lock file with its owner already in it (written beside it, then hard-linked into
 * place, which fails if the lock exists): created empty and written after, another process
 * starting at that moment read it as garbage, took it for a stale lock and took it over. Resolves
 * to a handle on the new lock, open for the lease's rewrites; to null when the draft was removed
 * before it was linked (a holder, which this process was held up behind, took it for a leftover),
 * which before failed the open with a raw ENOENT instead of naming the lock's owner.
 */
async function createLockFile(path: string, owner: string): Promise<FileHandle | null> {
  const temporary = draftPathOf(path);
  const draft = await open(temporary, 'wx');
  let linked = false;
  try {
    await draft.writeFile(owner);
    try {
      await link(temporary, path);
      linked = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      // File systems without hard links (FAT and exFAT on a USB drive, some FUSE and SMB mounts)
      // refuse link(2): create the lock exclusively instead, as before, which leaves only the short
      // window in which it is empty.
      if (!withoutHardLinks.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    }
  } finally {
    if (!linked) await draft.close().catch(() => undefined);
    await unlink(temporary).catch(() => undefined);
  }
  if (linked) return draft; // the same file as the lock now
  const handle = await open(path, 'wx');
  try {
    await handle.writeFile(owner);
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
  return handle;
}

/** What link(2) answers where the file system has no hard links. */
const withoutHardLinks = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);
