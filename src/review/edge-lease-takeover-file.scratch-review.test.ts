// Review: a takeover file (lock.takeover) left by a taker of another PID namespace that died in the
// middle of a takeover (a crash-looping container, OOM) blocks every later open for good, even
// once both it and the lock it was taking over have stood unrenewed far beyond the lease.
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RaftStorageError } from '../core/errors.ts';
import { FileRaftStorage } from '../storage/file/file-storage.ts';
import { temporaryDirectories } from '../storage/file/temporary-directories.test-support.ts';

const freshDirectory = temporaryDirectories('raftmesh-review-takeover-');
const ownPidNamespace = async (): Promise<string> => /\d+/.exec(await readlink('/proc/self/ns/pid'))?.[0] ?? '';
const bootId = (): string => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

async function outcomeOf(directory: string): Promise<string> {
  try {
    const storage = await FileRaftStorage.open(directory, { fsync: false });
    await storage.close();
    return 'opened';
  } catch (error) {
    return error instanceof RaftStorageError ? `${error.reason}: ${error.message}` : String(error);
  }
}

function backdate(path: string, seconds: number): void {
  const past = Date.now() / 1000 - seconds;
  utimesSync(path, past, past);
}

describe('review: lock.takeover of a crashed taker of another PID namespace', () => {
  it('does not block the directory for good once the takeover file and the lock have both stood an hour, far past the lease', async () => {
    const directory = freshDirectory();
    const otherNamespace = String(Number(await ownPidNamespace()) + 1);
    // The lock of a crashed holder (another container), its lease long expired.
    writeFileSync(join(directory, 'lock'), `7\nboot ${bootId()}\nstart 12345\npid-namespace ${otherNamespace}\nlease-expiry-ms 15000\ntoken 6a1f0e2d-8c4b-4b9a-a1e3-7d2c9b0f4e55`);
    backdate(join(directory, 'lock'), 3600);
    // The takeover file of its successor, which was OOM-killed between creating and removing it.
    writeFileSync(join(directory, 'lock.takeover'), `1\nboot ${bootId()}\nstart 23456\npid-namespace ${String(Number(otherNamespace) + 1)}`);
    backdate(join(directory, 'lock.takeover'), 3600);
    expect(await outcomeOf(directory)).toBe('opened');
  });
});
