// Guards that a lock lost while open scans the journal stops the recovery's writes (the torn tail's
// cut, journal.v2.torn, the sentinel): found by a review (2026-12-07). Scanning a journal of
// gigabytes takes minutes; a new owner meanwhile cuts the same torn tail and appends acknowledged
// records past it, which this process's truncate to its own valid length used to cut off.
import { appendFileSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { LogEntry } from '../../core/types.ts';
import type * as JournalScan from './journal-scan.ts';
import { temporaryDirectories } from './temporary-directories.test-support.ts';

const hooks = vi.hoisted(() => ({ afterScan: null as ((path: string) => Promise<void>) | null }));

vi.mock('./journal-scan.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof JournalScan>();
  return {
    ...actual,
    scanJournal: async (...args: Parameters<typeof actual.scanJournal>) => {
      const result = await actual.scanJournal(...args);
      await hooks.afterScan?.(args[1]);
      return result;
    },
  };
});

const { FileRaftStorage } = await import('./file-storage.ts');

const freshDirectory = temporaryDirectories('raftmesh-lost-scan-');
const entry = (index: number): LogEntry => ({ index, term: 1, command: new Uint8Array([index]), isNoOp: false });
const newOwner = `4242\nlease-expiry-ms 15000\ntoken 6a1f0e2d-8c4b-4b9a-a1e3-7d2c9b0f4e55`;

describe('a lock lost while FileRaftStorage.open scans the journal', () => {
  it('does not truncate the journal (nor write beside it) once the lock is lost', async () => {
    const directory = freshDirectory();
    const first = await FileRaftStorage.open(directory, { fsync: false });
    await first.appendEntries([entry(1), entry(2)]);
    await first.close();
    const journalPath = join(directory, 'journal.v2');
    appendFileSync(journalPath, new Uint8Array([1, 2, 3, 4, 5])); // a torn tail: an append a crash cut short
    let journalAtLoss: Buffer | null = null;
    hooks.afterScan = async () => {
      // While this process scanned (minutes for a large journal), another took the directory over...
      unlinkSync(join(directory, 'lock'));
      writeFileSync(join(directory, 'lock'), newOwner);
      // ...and this process's renewals (every 20 ms here) have found it: 20 renewal intervals.
      await new Promise((resolve) => setTimeout(resolve, 400));
      journalAtLoss = readFileSync(journalPath);
    };
    const options = { fsync: false, leaseTiming: { renewMs: 20, expiryMs: 200, now: () => performance.now() } };
    const outcome = await FileRaftStorage.open(directory, options).then(
      async (storage) => {
        const failure = storage.failure.value?.message ?? null;
        await storage.close();
        return { opened: true, failure };
      },
      (error: unknown) => ({ opened: false, failure: (error as Error).message }),
    );
    hooks.afterScan = null;
    expect(outcome.failure).toMatch(/now names another owner/); // the loss was known before open returned
    expect(journalAtLoss).not.toBeNull();
    // Nothing written after the loss: the journal as it was when the lock was lost, torn tail and all.
    expect({ size: statSync(journalPath).size, same: readFileSync(journalPath).equals(journalAtLoss as unknown as Buffer) }).toEqual({ size: (journalAtLoss as unknown as Buffer).length, same: true });
    expect(readFileSync(join(directory, 'lock'), 'utf8')).toBe(newOwner);
  });
});
