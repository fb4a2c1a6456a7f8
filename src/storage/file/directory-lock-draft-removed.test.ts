// Guards that a lock draft removed before it was linked (a holder took it for a leftover) refuses
// the open with inUse naming the lock's owner, not a raw ENOENT (a review, 2026-12-07).
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import type * as FsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

const hooks = vi.hoisted(() => ({ beforeLink: null as ((from: string, to: string) => void) | null }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof FsPromises>();
  const link: typeof actual.link = async (from, to) => {
    hooks.beforeLink?.(String(from), String(to));
    return actual.link(from, to);
  };
  return { ...actual, default: { ...actual, link }, link };
});

const { acquireDirectoryLock } = await import('./directory-lock.ts');

const directories: string[] = [];
afterEach(() => {
  hooks.beforeLink = null;
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

describe('a lock draft removed before it was linked', () => {
  it('refuses with inUse, naming the new owner, when the lock draft it was about to link was removed as an orphan by a holder of another PID namespace', async () => {
    // A holder of another container removed the draft this process was about to link (before, it
    // judged drafts by their pid, and ours reads as dead there): link(2) answers ENOENT, not EEXIST,
    // and the open failed with a raw file-system error instead of saying the directory is in use.
    const otherNamespace = String(Number(/\d+/.exec(await readlink('/proc/self/ns/pid'))?.[0] ?? '0') + 1);
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const directory = mkdtempSync(join(tmpdir(), 'raftmesh-draft-removed-'));
    directories.push(directory);
    const lockPath = join(directory, 'lock');
    const winner = `12\nboot ${bootId}\nstart 44444\npid-namespace ${otherNamespace}\nlease-expiry-ms 15000\ntoken 0b3c7a52-5a0e-4c7e-9d55-3f8f8d1c2e11`;
    let interleaved = false;
    hooks.beforeLink = (from, to) => {
      if (interleaved || to !== lockPath) return;
      interleaved = true;
      // The other container's peer linked its lock first, then cleared "orphaned" drafts: ours.
      writeFileSync(lockPath, winner);
      unlinkSync(from);
    };
    const outcome = await acquireDirectoryLock(directory).then(
      async (lock) => {
        await lock.release();
        return 'acquired';
      },
      (error: unknown) => ({ reason: (error as { reason?: string }).reason, message: (error as Error).message }),
    );
    expect(interleaved).toBe(true);
    expect(outcome).toMatchObject({ reason: 'inUse', message: expect.stringMatching(/locked by process 12 of another PID namespace/) });
    expect(readFileSync(lockPath, 'utf8')).toBe(winner);
  });
});
