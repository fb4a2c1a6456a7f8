// Review (2026-12-07) of 59acef8: clearing a crashed taker's `lock.takeover` of another PID
// namespace. clearCrashedTakeover judges the file, reads it once more ("removed only if it is still
// the file judged") and then unlinks it BY PATH. Between that second read and the unlink, another
// process (Q, another container started at the same moment, which judged the same crashed file)
// may already have removed it and created its OWN takeover file, fresh and live: the unlink removes
// Q's file. The takeover file is the mutual exclusion of takers; with it gone, this process (P)
// creates its own at the next attempt and takes the lock over while Q, past its own-file check,
// goes on to unlink the lock and link its own: two holders (or one failing with a raw ENOENT).
// No freeze is needed: two processes started together both finding a crashed taker's file.
//
// Deterministic: node:fs/promises is wrapped so that, at P's unlink of lock.takeover, Q's two
// steps (remove the crashed file, create its own) happen just before the unlink runs.
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

const hooks = vi.hoisted(() => ({ beforeUnlink: null as ((path: string) => void) | null, beforeLink: null as ((from: string, to: string) => void) | null }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const unlink: typeof actual.unlink = async (path) => {
    hooks.beforeUnlink?.(String(path));
    return actual.unlink(path);
  };
  const link: typeof actual.link = async (from, to) => {
    hooks.beforeLink?.(String(from), String(to));
    return actual.link(from, to);
  };
  return { ...actual, default: { ...actual, unlink, link }, unlink, link };
});

const { acquireDirectoryLock } = await import('../storage/file/directory-lock.ts');

const directories: string[] = [];
afterEach(() => {
  hooks.beforeUnlink = null;
  hooks.beforeLink = null;
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function backdate(path: string, seconds: number): void {
  const past = Date.now() / 1000 - seconds;
  utimesSync(path, past, past);
}

describe('clearing a crashed taker’s takeover file of another PID namespace (review)', () => {
  it('does not remove the takeover file another live taker created between the check and the unlink, and gives way to it', async () => {
    const otherNamespace = String(Number(/\d+/.exec(await readlink('/proc/self/ns/pid'))?.[0] ?? '0') + 1);
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const directory = mkdtempSync(join(tmpdir(), 'raftmesh-review-clear-race-'));
    directories.push(directory);
    const lockPath = join(directory, 'lock');
    const takeoverPath = join(directory, 'lock.takeover');
    // A holder of another container, crashed: its lease ran out an hour ago.
    writeFileSync(lockPath, `1\nboot ${bootId}\nstart 11111\npid-namespace ${otherNamespace}\nlease-expiry-ms 15000\ntoken 6a1f0e2d-8c4b-4b9a-a1e3-7d2c9b0f4e55`);
    backdate(lockPath, 3600);
    // A taker of that container that crashed in the middle of its takeover, an hour ago.
    const crashedTaker = `7\nboot ${bootId}\nstart 22222\npid-namespace ${otherNamespace}`;
    writeFileSync(takeoverPath, crashedTaker);
    backdate(takeoverPath, 3600);
    // Q: a live taker of (yet) another container, started at the same moment as this process.
    const liveTaker = `9\nboot ${bootId}\nstart 33333\npid-namespace ${String(Number(otherNamespace) + 1)}`;
    let interleaved = false;
    hooks.beforeUnlink = (path) => {
      if (interleaved || path !== takeoverPath) return;
      interleaved = true;
      // Q judged the same crashed file, removed it first, and created its own (fresh, live).
      unlinkSync(takeoverPath);
      writeFileSync(takeoverPath, liveTaker);
    };

    const outcome = await acquireDirectoryLock(directory).then(
      async (lock) => {
        await lock.release();
        return 'acquired';
      },
      (error: unknown) => (error as Error).message,
    );
    expect(interleaved).toBe(true);
    // Q's takeover file is its mutual exclusion: it must still be there, Q's; and this process
    // gives way to Q's live takeover rather than taking the lock over beside it.
    expect({ takeoverFile: existsSync(takeoverPath) ? readFileSync(takeoverPath, 'utf8') : '(removed)', outcome }).toEqual({
      takeoverFile: liveTaker,
      outcome: expect.stringMatching(/being taken over by process 9 of another PID namespace/),
    });
  });
});
