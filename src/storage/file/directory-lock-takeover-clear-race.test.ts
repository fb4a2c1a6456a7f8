// Guards that clearing a crashed taker's `lock.takeover` never removes a live taker's file that took
// its name meanwhile (a review, 2026-12-07): it was judged, read once more, then unlinked by path,
// and another process (Q, which judged the same crashed file) could have removed it and created its
// own in between; the unlink removed Q's mutual exclusion, and both took the lock over (two
// holders). No freeze is needed: two containers started together both finding a crashed taker's
// file. Deterministic: node:fs/promises is wrapped so that, as this process (P) removes or moves
// lock.takeover away, Q's two steps (remove the crashed file, create its own) happen just before.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import type * as FsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

/** Runs just before this process removes or moves a file away (unlink, or rename from `path`). */
const hooks = vi.hoisted(() => ({ beforeRemoval: null as ((path: string) => void) | null }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof FsPromises>();
  const unlink: typeof actual.unlink = async (path) => {
    hooks.beforeRemoval?.(String(path));
    return actual.unlink(path);
  };
  const rename: typeof actual.rename = async (from, to) => {
    hooks.beforeRemoval?.(String(from));
    return actual.rename(from, to);
  };
  return { ...actual, default: { ...actual, unlink, rename }, unlink, rename };
});

const { acquireDirectoryLock } = await import('./directory-lock.ts');

const directories: string[] = [];
afterEach(() => {
  hooks.beforeRemoval = null;
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function backdate(path: string, seconds: number): void {
  const past = Date.now() / 1000 - seconds;
  utimesSync(path, past, past);
}

describe('clearing a crashed taker’s takeover file of another PID namespace', () => {
  it('does not remove the takeover file another live taker created between its judgement and its removal, and gives way to it', async () => {
    const otherNamespace = String(Number(/\d+/.exec(await readlink('/proc/self/ns/pid'))?.[0] ?? '0') + 1);
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const directory = mkdtempSync(join(tmpdir(), 'raftmesh-takeover-clear-race-'));
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
    hooks.beforeRemoval = (path) => {
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
    expect(readdirSync(directory).filter((name) => name.startsWith('lock.takeover.'))).toEqual([]); // nothing left moved aside
  });
});
