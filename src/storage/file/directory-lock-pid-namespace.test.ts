// A pid means something only inside its PID namespace. Two containers sharing a data volume (a
// rolling update whose new pod mounts the old pod's volume, `docker run` twice on one volume) each
// saw the other's pid as dead, or as an unrelated process of their own, and took the lock over: two
// writers on one journal (an outside review). Here the holder runs in a fresh PID namespace
// (unshare, as a container's process does), where it is pid 1 or 2; this process must not take its
// lock, and must take over one of another namespace only once its lease has expired (its owner
// killed without its SIGTERM: SIGKILL, out of memory) or the machine has rebooted since.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RaftStorageError } from '../../core/errors.ts';
import { FileRaftStorage } from './file-storage.ts';
import { parseIdentity } from './process-identity.ts';
import { startLockHolder } from './lock-holder-process.test-support.ts';
import { temporaryDirectories } from './temporary-directories.test-support.ts';

const freshDirectory = temporaryDirectories('raftmesh-lock-pid-namespace-');
// A user namespace too, so that no privilege is needed; --mount-proc shows the holder its own pids;
// --kill-child ends the holder with unshare.
const unshareArguments = ['--user', '--map-root-user', '--pid', '--fork', '--kill-child', '--mount-proc'];
const canUnshare = spawnSync('unshare', [...unshareArguments, 'true']).status === 0;

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) {
    child.stdin?.end(); // the holder closes its storage and exits
    child.kill('SIGKILL');
  }
});

/** Starts the holder in a new PID namespace; resolves with its first line (`opened` or `refused …`). */
function holdInOwnPidNamespace(directory: string): Promise<string> {
  const holder = startLockHolder(directory, ['unshare', ...unshareArguments]);
  children.push(holder.child);
  return holder.firstLine;
}

async function outcomeOf(directory: string): Promise<string> {
  try {
    const storage = await FileRaftStorage.open(directory, { fsync: false });
    await storage.close();
    return 'opened';
  } catch (error) {
    return error instanceof RaftStorageError ? `${error.reason}: ${error.message}` : String(error);
  }
}

/** Sets the lock's modification time `seconds` back, as if its lease had stood unrenewed that long. */
function backdateLock(directory: string, seconds: number): number {
  const past = Date.now() / 1000 - seconds;
  utimesSync(join(directory, 'lock'), past, past);
  return past * 1000;
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const ownPidNamespace = async (): Promise<string> => /\d+/.exec(await readlink('/proc/self/ns/pid'))?.[0] ?? '';
const bootId = (): string => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

describe('the data directory lock across PID namespaces (containers sharing a volume)', () => {
  it.skipIf(!canUnshare)('refuses a directory a live process of another PID namespace holds, saying why and what to do', async () => {
    const directory = freshDirectory();
    expect(await holdInOwnPidNamespace(directory)).toBe('opened');
    const lock = parseIdentity(readFileSync(join(directory, 'lock'), 'utf8'));
    expect(lock?.pidNamespace).toMatch(/^\d+$/);
    expect(lock?.pidNamespace).not.toBe(await ownPidNamespace());
    expect(await outcomeOf(directory)).toMatch(new RegExp(`^inUse: .*is locked by process ${lock?.pid} of another PID namespace .*lease was renewed .* taken over once it has not been renewed for 15\\.0 s.*remove ${join(directory, 'lock')}\\)$`));
  });

  it.skipIf(!canUnshare)('sees the lease of a live holder of another PID namespace renewed, and refuses its lock even after it stood still a while', async () => {
    const directory = freshDirectory();
    expect(await holdInOwnPidNamespace(directory)).toBe('opened');
    const past = backdateLock(directory, 60);
    await until(() => statSync(join(directory, 'lock')).mtimeMs > past + 30_000, 10_000); // renewed every 2 s
    expect(await outcomeOf(directory)).toMatch(/^inUse: .*of another PID namespace .*lease was renewed/);
  });

  it.skipIf(!canUnshare)('takes over, once its lease has expired, the lock of a holder of another PID namespace killed without its SIGTERM', async () => {
    const directory = freshDirectory();
    expect(await holdInOwnPidNamespace(directory)).toBe('opened');
    const holder = children[0];
    const exited = new Promise((resolve) => holder?.once('exit', resolve));
    holder?.kill('SIGKILL'); // unshare --kill-child passes it on: the OOM killer's way out
    await exited;
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Its successor (a new container, a new PID namespace) is refused while the lease is fresh…
    expect(await outcomeOf(directory)).toMatch(/^inUse: .*lease was renewed/);
    // …and takes the directory over once it has stood unrenewed for the lease (15 s, here pretended).
    backdateLock(directory, 16);
    expect(await outcomeOf(directory)).toBe('opened');
  });

  it('judges a lock of another PID namespace by its lease, measured by the file system’s clock: refused while fresh, taken over once expired', async () => {
    const directory = freshDirectory();
    const otherNamespace = String(Number(await ownPidNamespace()) + 1);
    const lockText = (leaseMs: number): string => `${process.pid}\nboot ${bootId()}\nstart 12345\npid-namespace ${otherNamespace}\nlease-expiry-ms ${leaseMs}\ntoken 6a1f0e2d-8c4b-4b9a-a1e3-7d2c9b0f4e55`;
    writeFileSync(join(directory, 'lock'), lockText(15_000));
    backdateLock(directory, 5);
    expect(await outcomeOf(directory)).toMatch(/^inUse: .*lease was renewed 5\.\d s ago.*taken over once it has not been renewed for 15\.0 s \(in (9|10)\.\d s, if its owner has stopped\)/);
    // A lease its owner named longer than this process's own is waited for in full.
    writeFileSync(join(directory, 'lock'), lockText(120_000));
    backdateLock(directory, 60);
    expect(await outcomeOf(directory)).toMatch(/^inUse: .*not been renewed for 120\.0 s/);
    writeFileSync(join(directory, 'lock'), lockText(15_000));
    backdateLock(directory, 16);
    expect(await outcomeOf(directory)).toBe('opened');
  });

  it('refuses a lock of another PID namespace that names no lease (a build before leases never renews it), however old', async () => {
    const directory = freshDirectory();
    writeFileSync(join(directory, 'lock'), `1\nboot ${bootId()}\nstart 12345\npid-namespace ${String(Number(await ownPidNamespace()) + 1)}`);
    backdateLock(directory, 3600);
    expect(await outcomeOf(directory)).toMatch(/^inUse: .*of another PID namespace .*names no lease/);
  });

  it('names this process’s PID namespace in its lock, and reads a lock without one (an older build’s) as before', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory, { fsync: false });
    expect(parseIdentity(readFileSync(join(directory, 'lock'), 'utf8'))?.pidNamespace).toBe(await ownPidNamespace());
    await storage.close();
    writeFileSync(join(directory, 'lock'), `${process.ppid}\n`);
    expect(await outcomeOf(directory)).toMatch(new RegExp(`^inUse: .*in use by process ${process.ppid}`));
  });

  it('takes for running a lock of another PID namespace, even naming a pid that is dead here or this very pid, and takes it over once the machine has rebooted since', async () => {
    const directory = freshDirectory();
    const otherNamespace = String(Number(await ownPidNamespace()) + 1);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
    for (const pid of [dead, process.pid, 1]) {
      writeFileSync(join(directory, 'lock'), `${pid}\nboot ${bootId()}\nstart 12345\npid-namespace ${otherNamespace}`);
      expect(await outcomeOf(directory), `pid ${pid}`).toMatch(/^inUse: .*of another PID namespace/);
    }
    const otherBoot = (bootId().startsWith('0') ? '1' : '0') + bootId().slice(1);
    writeFileSync(join(directory, 'lock'), `1\nboot ${otherBoot}\nstart 12345\npid-namespace ${otherNamespace}`);
    expect(await outcomeOf(directory)).toBe('opened');
  });
});
