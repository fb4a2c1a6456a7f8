// One process per data directory: two writers appending to one journal would interleave records
// and corrupt it. The lock file names the owner (its pid and, on Linux, its boot and start time
// and its PID namespace: process-identity.ts); a lock left by a dead process (SIGKILL, a crash, a
// reboot) is taken over, a live owner's is refused with a clear error, and so is one of another
// PID namespace (another container), whose owner cannot be looked up from here.
//
// The lock file also carries a token of its own (`token <uuid>`, a line older builds skip): a
// release removes the lock only while it still holds that token, so a process whose lock was
// taken over cannot remove its new owner's.
import { randomUUID } from 'node:crypto';
import { link, open, readdir, readFile, realpath, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { RaftStorageError } from '../../core/errors.ts';
import { identityText, judgeOwner, ownIdentity, parseIdentity, pidIsAlive, type ProcessIdentity } from './process-identity.ts';

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

/**
 * Locks `directory` for this process; resolves to its release. `label` leads every refusal's
 * message (null when the caller says in its own words what the directory is for).
 */
export async function acquireDirectoryLock(directory: string, label: string | null = 'FileRaftStorage'): Promise<() => Promise<void>> {
  const path = join(await realpath(directory), lockName);
  if (heldHere.has(path)) throw lockError(label, `${directory} is already open in this process; one storage per data directory`, 'inUse');
  // Claimed before the first await: two opens of one directory started together in this process
  // both passed the check above while neither was recorded, and the second took the first's lock
  // file (our own pid) for a stale one.
  heldHere.add(path);
  let release: () => Promise<void>;
  try {
    release = await takeLockFile(directory, path, label);
  } catch (error) {
    heldHere.delete(path);
    throw error;
  }
  await removeOrphanedLockDrafts(path);
  return async () => {
    heldHere.delete(path);
    await release();
  };
}

async function takeLockFile(directory: string, path: string, label: string | null): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const text = await lockText();
    try {
      await createLockFile(path, text);
      return () => releaseLockFile(path, text);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const ownerText = await readFile(path, 'utf8').catch(() => null);
      if (ownerText === null) continue; // released meanwhile: try again
      const owner = parseIdentity(ownerText);
      if (owner !== null) await refuseLiveOwner(label, directory, path, owner);
      // A dead owner's lock (or garbage, or a pid now another process's). Two processes that both found it used to both remove it
      // and both open the directory (4 of 20 trials when started together): the takeover is
      // serialised, and a taker that finds the lock changed gives way.
      if (await takeOver(label, directory, path, ownerText, text)) return () => releaseLockFile(path, text);
    }
  }
  throw lockError(label, `could not lock ${directory}`, 'unknown');
}

/** This process's lock file: its identity and a fresh token, which tells this lock from any other. */
async function lockText(): Promise<string> {
  return `${identityText(await ownIdentity())}\ntoken ${randomUUID()}`;
}

/** Removes the lock only if it is still the one this process wrote: taken over, it is its new owner's. */
async function releaseLockFile(path: string, text: string): Promise<void> {
  const current = await readFile(path, 'utf8').catch(() => null);
  if (current === text) await unlink(path).catch(() => undefined);
}

/** Refuses (inUse) a lock whose owner is, or may be, running; returns for a stale one. */
async function refuseLiveOwner(label: string | null, directory: string, path: string, owner: ProcessIdentity): Promise<void> {
  const verdict = await judgeOwner(owner);
  if (verdict === 'gone') return;
  if (verdict === 'otherPidNamespace') throw inOtherPidNamespace(label, directory, path, owner.pid);
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
    `${directory} is locked by process ${pid} of another PID namespace (another container sharing this directory?), which cannot be looked up from here, so it counts as running; one process per data directory (once no process of that container or machine uses the directory, say after the container that held it crashed or was removed, remove ${path})`,
    'inUse',
  );
}

/** How long an empty or unreadable takeover file is taken for one being written, not a crashed taker's. */
const takeoverWriteMs = 10_000;

/**
 * Replaces the stale lock whose content was `staleText`, holding `lock.takeover` (an exclusive
 * create, which every file system offers) while it checks the lock is still that one, removes it
 * and creates its own. True when this process now holds the lock; false to try again from the
 * start (a crashed taker's file was cleared). Another live taker, or a lock that changed, means
 * someone else is taking the directory: inUse.
 */
async function takeOver(label: string | null, directory: string, path: string, staleText: string, text: string): Promise<boolean> {
  const takeoverPath = `${path}.takeover`;
  let handle;
  try {
    handle = await open(takeoverPath, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const taker = parseIdentity(await readFile(takeoverPath, 'utf8').catch(() => ''));
    const age = Date.now() - ((await stat(takeoverPath).catch(() => null))?.mtimeMs ?? 0);
    const verdict = taker !== null ? await judgeOwner(taker) : age < takeoverWriteMs ? 'running' : 'gone';
    if (verdict === 'otherPidNamespace') throw lockError(label, `${directory} is being taken over by process ${taker?.pid ?? 0} of another PID namespace (another container?), which cannot be looked up from here; one process per data directory (if no process uses the directory any more, remove ${takeoverPath})`, 'inUse');
    if (verdict !== 'gone') throw lockError(label, `${directory} is being taken over by another process (${takeoverPath}); one process per data directory`, 'inUse');
    await unlink(takeoverPath).catch(() => undefined);
    return false;
  }
  try {
    try {
      await handle.writeFile(identityText(await ownIdentity()));
    } finally {
      await handle.close();
    }
    const current = await readFile(path, 'utf8').catch(() => null);
    if (current !== null && current !== staleText) throw inUse(label, directory, path, pidIn(current));
    if (current !== null) await unlink(path);
    // Exclusive still: a process that never saw the stale lock may create one between the two calls.
    try {
      await createLockFile(path, text);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      throw inUse(label, directory, path, pidIn(await readFile(path, 'utf8').catch(() => '')));
    }
    return true;
  } finally {
    await unlink(takeoverPath).catch(() => undefined);
  }
}

/**
 * Creates the lock file with its owner already in it (written beside it, then hard-linked into
 * place, which fails if the lock exists): created empty and written after, another process
 * starting at that moment read it as garbage, took it for a stale lock and took it over.
 */
async function createLockFile(path: string, owner: string): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomUUID()}`;
  await writeFile(temporary, owner);
  try {
    await link(temporary, path);
  } catch (error) {
    // File systems without hard links (FAT and exFAT on a USB drive, some FUSE and SMB mounts)
    // refuse link(2): create the lock exclusively instead, as before, which leaves only the short
    // window in which it is empty.
    if (!withoutHardLinks.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    const handle = await open(path, 'wx');
    try {
      await handle.writeFile(owner);
    } finally {
      await handle.close();
    }
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

/**
 * Lock drafts (`lock.<pid>.<uuid>`, written then linked into place) left by processes that died
 * between the two steps: nothing else would ever remove them. Only a dead writer's, once this
 * process holds the lock; a live one may be about to link its draft (and will fail to).
 */
async function removeOrphanedLockDrafts(path: string): Promise<void> {
  const directory = dirname(path);
  const draft = new RegExp(`^${basename(path)}\\.(\\d+)\\.[0-9a-f-]{36}$`);
  for (const name of await readdir(directory).catch(() => [] as string[])) {
    const writer = draft.exec(name)?.[1];
    if (writer !== undefined && Number(writer) !== process.pid && !pidIsAlive(Number(writer))) await unlink(join(directory, name)).catch(() => undefined);
  }
}

/** What link(2) answers where the file system has no hard links. */
const withoutHardLinks = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);
