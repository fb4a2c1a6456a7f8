// Review finding: the directory lock cannot tell a second worker thread (or a second copy of the
// module) of this same process from a dead owner. heldHere is module state, so each worker thread
// (each module instance) has its own; a lock file naming this process's pid is then taken for a
// stale lock and taken over: two writers on one journal (and two edge peers on one data directory).
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { FileRaftStorage } from '../storage/file/file-storage.ts';
import { temporaryDirectories } from '../storage/file/temporary-directories.test-support.ts';
import { makeEntries } from '../storage/storage-conformance.ts';

const freshDirectory = temporaryDirectories('raftmesh-review-lock-thread-');
// tsx's ESM API (require.resolve names its CommonJS twin beside it).
const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
const fileStorageModule = pathToFileURL(join(import.meta.dirname, '../storage/file/file-storage.ts')).href;

/** Opens FileRaftStorage on `directory` in a worker thread of this process; what happened, in words. */
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

describe('review: the directory lock across worker threads of one process', () => {
  it('refuses a second worker thread the directory the main thread holds open', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory, { fsync: false });
    await storage.appendEntries(makeEntries(1, 3, 1));
    const outcome = await openInWorkerThread(directory);
    await storage.close();
    expect(outcome).toMatch(/^refused \(inUse\)/);
  });
});
