// A pid means something only inside its PID namespace. Two containers sharing a data volume (a
// rolling update whose new pod mounts the old pod's volume, `docker run` twice on one volume) each
// saw the other's pid as dead, or as an unrelated process of their own, and took the lock over: two
// writers on one journal (an outside review). Here the holder runs in a fresh PID namespace
// (unshare, as a container's process does), where it is pid 1 or 2; this process must not take its
// lock, and must take over one of another namespace only once the machine has rebooted since.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RaftStorageError } from '../../core/errors.ts';
import { FileRaftStorage } from './file-storage.ts';
import { parseIdentity } from './process-identity.ts';
import { temporaryDirectories } from './temporary-directories.test-support.ts';

const freshDirectory = temporaryDirectories('raftmesh-lock-pid-namespace-');
const holderScript = join(import.meta.dirname, 'lock-holder.test-support.ts');
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
  const child = spawn('unshare', [...unshareArguments, process.execPath, '--import', 'tsx', holderScript, directory], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => (errors += String(chunk)));
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += String(chunk);
      if (out.includes('\n')) resolve(out.split('\n')[0] ?? '');
    });
    child.once('exit', (code) => reject(new Error(`the holder exited (${code}) before it said anything: ${errors}`)));
  });
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

const ownPidNamespace = async (): Promise<string> => /\d+/.exec(await readlink('/proc/self/ns/pid'))?.[0] ?? '';
const bootId = (): string => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

describe('the data directory lock across PID namespaces (containers sharing a volume)', () => {
  it.skipIf(!canUnshare)('refuses a directory a live process of another PID namespace holds, saying why and what to do', async () => {
    const directory = freshDirectory();
    expect(await holdInOwnPidNamespace(directory)).toBe('opened');
    const lock = parseIdentity(readFileSync(join(directory, 'lock'), 'utf8'));
    expect(lock?.pidNamespace).toMatch(/^\d+$/);
    expect(lock?.pidNamespace).not.toBe(await ownPidNamespace());
    expect(await outcomeOf(directory)).toMatch(new RegExp(`^inUse: .*is locked by process ${lock?.pid} of another PID namespace .*remove ${join(directory, 'lock')}\\)$`));
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
