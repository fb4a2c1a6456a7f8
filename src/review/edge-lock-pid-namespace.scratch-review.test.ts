// Review finding: the lock names its owner by pid (plus boot id and start time), which only mean
// something inside one PID namespace. Two containers sharing a data volume (a Kubernetes rolling
// update whose new pod mounts the old pod's volume on the same node, `docker run` twice with one
// volume) each see the other's pid as dead, or as an unrelated process with another start time,
// and take the lock over: two raftmesh-peers appending to one journal. Here the holder runs in a
// fresh PID namespace (unshare), as a container's process does; the test's own open must be refused.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RaftStorageError } from '../core/errors.ts';
import { FileRaftStorage } from '../storage/file/file-storage.ts';
import { temporaryDirectories } from '../storage/file/temporary-directories.test-support.ts';

const freshDirectory = temporaryDirectories('raftmesh-review-pidns-');
const holderScript = join(import.meta.dirname, 'lock-holder.scratch-review.test-support.ts');
const unshareArguments = ['--user', '--map-root-user', '--pid', '--fork', '--mount-proc'];
const canUnshare = spawnSync('unshare', [...unshareArguments, 'true']).status === 0;

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
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

describe('review: the directory lock across PID namespaces (containers sharing a volume)', () => {
  it.skipIf(!canUnshare)('refuses a directory a process in another PID namespace holds open', async () => {
    const directory = freshDirectory();
    expect(await holdInOwnPidNamespace(directory)).toBe('opened');
    let outcome: string;
    try {
      const storage = await FileRaftStorage.open(directory, { fsync: false });
      await storage.close();
      outcome = 'opened while the other process holds it';
    } catch (error) {
      outcome = error instanceof RaftStorageError ? `refused (${error.reason})` : String(error);
    }
    expect(outcome).toBe('refused (inUse)');
  });
});
