// Creates a directory and its missing parents, one level at a time. Node 20's
// `mkdir(path, { recursive: true })` never returns for a path under /proc (it retries the ENOENT
// the kernel gives there without end), so `raftmesh-peer --data /proc/x` spun at 100% CPU instead
// of saying the path is unusable. Here each level is tried once: at most one call per component.
//
// A directory's entry lives in its parent, and is durable only once the parent is fsynced
// (POSIX; ext4 without a journal, btrfs): without that, a power loss after the first acknowledged
// write could lose the new directory itself and every file in it. With `sync`, the parent of each
// level made here is fsynced before the call resolves.
//
// Owner only (0700, as etcd makes its data directory): the log holds whatever the application
// replicates, and an edge peer's identity file beside it the claim that proves its id.
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { syncDirectory } from './atomic-file.ts';

const ownerOnly = { mode: 0o700 } as const;
const codeOf = (error: unknown): unknown => (error as { code?: unknown } | null)?.code;

export interface MakeDirectoryOptions {
  /** fsync the parent of every directory created (FileStorageOptions.fsync). */
  readonly sync: boolean;
}

export async function makeDirectory(path: string, options: MakeDirectoryOptions): Promise<void> {
  const created = await makeLevels(resolve(path));
  if (!options.sync) return;
  for (const directory of created) await syncDirectory(dirname(directory));
}

/** Makes `target` and its missing parents; resolves to those this call created, outermost first. */
async function makeLevels(target: string): Promise<string[]> {
  try {
    await mkdir(target, ownerOnly);
    return [target];
  } catch (error) {
    if (codeOf(error) === 'EEXIST') return []; // whether it is a directory is the caller's check
    const parent = dirname(target);
    if (codeOf(error) !== 'ENOENT' || parent === target) throw error;
    const parents = await makeLevels(parent);
    try {
      await mkdir(target, ownerOnly);
    } catch (again) {
      if (codeOf(again) !== 'EEXIST') throw again;
      return parents; // made meanwhile by another caller, whose own sync covers it
    }
    return [...parents, target];
  }
}
