// The lock cannot rely on module state alone to know a directory is held in this process: each
// worker thread (and each copy of the module, two versions of the package bundled, say) has its
// own. A lock file naming this very process used to read as a stale lock of an earlier process
// given our pid, and was taken over: two writers on one journal, and two edge peers on one data
// directory (an outside review). The lock names this process by pid, boot and start time, and its
// PID namespace, and is refused as in use.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { makeEntries } from '../storage-conformance.ts';
import { FileRaftStorage } from './file-storage.ts';
import { temporaryDirectories } from './temporary-directories.test-support.ts';

const freshDirectory = temporaryDirectories('raftmesh-lock-worker-thread-');
// tsx's ESM API (require.resolve names its CommonJS twin beside it).
const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
const fileStorageModule = pathToFileURL(join(import.meta.dirname, 'file-storage.ts')).href;

/** Opens FileRaftStorage on `directory` in a worker thread of this process, and writes; what happened, in words. */
function openInWorkerThread(directory: string): Promise<string> {
  const source = `
    import { workerData, parentPort } from 'node:worker_threads';
    const { tsImport } = await import(workerData.tsxApi);
    const { FileRaftStorage } = await tsImport(workerData.module, workerData.module);
    try {
      const storage = await FileRaftStorage.open(workerData.directory, { fsync: false });
      await storage.saveTermAndVotedFor(9, null);
      await storage.close();
      parentPort.postMessage('opened and wrote');
    } catch (error) {
      parentPort.postMessage('refused (' + error.reason + '): ' + error.message);
    }
  `;
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`), { workerData: { directory, tsxApi, module: fileStorageModule } });
    worker.once('message', (message: string) => {
      resolve(message);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

describe('the data directory lock across worker threads of one process', () => {
  it('refuses a worker thread the directory the main thread holds, and lets it in once released', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory, { fsync: false });
    await storage.appendEntries(makeEntries(1, 3, 1));
    expect(await openInWorkerThread(directory)).toMatch(/^refused \(inUse\): .*is already open in this process \(in another worker thread, or by another copy of raftmesh loaded in it\)/);
    expect(await storage.term()).toBe(0);
    await storage.close();
    expect(await openInWorkerThread(directory)).toBe('opened and wrote');
  });
});
