// The short-lived files a directory lock writes beside itself (directory-lock.ts): lock drafts
// (written whole, then linked into place as the lock) and clock probes, both `lock.<pid>.<uuid>`,
// and takeover files moved aside to be removed (`lock.takeover.<uuid>`). Each lives milliseconds, so one older than a lease, on the file system's clock, was left by a
// crash and is removed, whatever pid its name carries: a pid says nothing here about its writer (one
// of another PID namespace reads as dead, or as another live process, and a containerised peer is
// pid 1 at every start), and judging by it removed a live writer's draft of another container
// (its link then failed with a raw ENOENT) yet never a pid-1 peer's leftovers.
import { randomUUID } from 'node:crypto';
import { link, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A fresh name beside `path` for a draft or probe: its pid for a human's eye, a uuid to be its own. */
export function draftPathOf(path: string): string {
  return `${path}.${process.pid}.${randomUUID()}`;
}

/**
 * The file system's clock now (the modification time of a file just made beside the lock), which
 * ages are measured on: hosts sharing NFS disagree on the time.
 */
export async function fileSystemClockMs(path: string): Promise<number> {
  const probe = draftPathOf(path);
  const handle = await open(probe, 'wx');
  try {
    return (await handle.stat()).mtimeMs;
  } finally {
    await handle.close().catch(() => undefined);
    await unlink(probe).catch(() => undefined);
  }
}

/**
 * Removes the file at `path` only if it is still the one open as `judged`, and says whether it did.
 * Checked, then removed by path, it could be another's by then: a live taker's takeover file, made
 * after a second taker cleared the crashed one this process judged, was removed (two takers, two
 * holders; a review). So it is moved aside under a name of its own first (a rename is atomic) and
 * compared by inode, which the open handle keeps from being reused. Another file found moved is
 * linked back under its name, unless a third took the name since (that one is the takeover now,
 * and the moved file's taker finds its own gone and gives way; so it does where there are no hard
 * links to put it back with).
 */
export async function removeIfStillTheFile(path: string, judged: FileHandle): Promise<boolean> {
  const aside = `${path}.${randomUUID()}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false; // removed meanwhile
    throw error;
  }
  try {
    const [was, moved] = await Promise.all([judged.stat(), stat(aside).catch(() => null)]);
    if (moved !== null && moved.dev === was.dev && moved.ino === was.ino) return true;
    if (moved !== null) await link(aside, path).catch(() => undefined);
    return false;
  } finally {
    await unlink(aside).catch(() => undefined);
  }
}

/**
 * Removes the drafts, probes and takeover files moved aside beside the lock at `path` that have
 * stood longer than `leaseMs` (a rename keeps the modification time):
 * nothing else would ever remove them. A writer held up that long (frozen) finds its draft gone,
 * and its link(2) says so: it looks at the lock again.
 */
export async function removeLeftovers(path: string, leaseMs: number): Promise<void> {
  const directory = dirname(path);
  const leftover = new RegExp(`^${basename(path)}\\.(\\d+|takeover)\\.[0-9a-f-]{36}$`);
  const names = (await readdir(directory).catch(() => [] as string[])).filter((name) => leftover.test(name));
  if (names.length === 0) return; // the usual case: no probe written
  const nowMs = await fileSystemClockMs(path);
  for (const name of names) {
    const leftoverPath = join(directory, name);
    const modifiedMs = await stat(leftoverPath).then(
      (found) => found.mtimeMs,
      () => null,
    );
    // A uuid in every name: removed by path, it cannot be a newer file's.
    if (modifiedMs !== null && nowMs - modifiedMs > leaseMs) await unlink(leftoverPath).catch(() => undefined);
  }
}
