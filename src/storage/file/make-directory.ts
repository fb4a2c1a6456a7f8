// Creates a directory and its missing parents, one level at a time. Node 20's
// `mkdir(path, { recursive: true })` never returns for a path under /proc (it retries the ENOENT
// the kernel gives there without end), so `raftmesh-peer --data /proc/x` spun at 100% CPU instead
// of saying the path is unusable. Here each level is tried once: at most one call per component.
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

const codeOf = (error: unknown): unknown => (error as { code?: unknown } | null)?.code;

export async function makeDirectory(path: string): Promise<void> {
  const target = resolve(path);
  try {
    await mkdir(target);
  } catch (error) {
    if (codeOf(error) === 'EEXIST') return; // whether it is a directory is the caller's check
    const parent = dirname(target);
    if (codeOf(error) !== 'ENOENT' || parent === target) throw error;
    await makeDirectory(parent);
    try {
      await mkdir(target);
    } catch (again) {
      if (codeOf(again) !== 'EEXIST') throw again;
    }
  }
}
