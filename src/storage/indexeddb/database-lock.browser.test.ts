// One live IndexedDbRaftStorage per database in Chromium, on Web Locks: the shared cases in one
// page, plus what only a browser has: a lock held by a worker, freed when the worker is
// terminated (which is how a crashed worker node frees its database), and a timed-out request
// that is withdrawn rather than granted later to nobody.
import { describe, expect, it } from 'vitest';
import { nodeId } from '../../core/types.ts';
import { createLoopbackNetwork } from '../../transport/loopback.ts';
import { WorkerCrashedError } from '../../worker/error-transfer.ts';
import { createWorkerRaftNode } from '../../worker/worker-client.ts';
import { IndexedDbRaftStorage } from '../indexeddb-storage.ts';
import { databaseLockName, versionLockDatabaseName } from './database-lock.ts';
import { describeSingleOwner, failureOf, uniqueName } from './database-lock.behaviour.test-support.ts';
import { databaseName } from './schema.ts';

describeSingleOwner();

function openInWorker(name: string, withoutWebLocks = false, term?: number): Promise<Worker> {
  const worker = new Worker(new URL('./database-lock-holder.test-support.ts', import.meta.url), { type: 'module' });
  return new Promise((resolve, reject) => {
    worker.addEventListener('message', (event: MessageEvent<{ opened: boolean; error?: string }>) => {
      if (event.data.opened) resolve(worker);
      else reject(new Error(`the worker could not open ${name}: ${event.data.error ?? ''}`));
    });
    worker.addEventListener('error', (event) => reject(new Error(`the worker failed: ${event.message}`)));
    worker.postMessage({ open: name, withoutWebLocks, ...(term === undefined ? {} : { term }) });
  });
}

/**
 * A worker opens the storage and never closes it: the page is refused (inUse), with a bound and
 * without one, until the worker's termination alone releases the lock; then it is destroyed.
 */
async function expectHeldUntilTerminated(name: string, withoutWebLocks: boolean): Promise<void> {
  const worker = await openInWorker(name, withoutWebLocks);
  expect((await failureOf(IndexedDbRaftStorage.open(name, { lockTimeoutMs: 300 }))).reason).toBe('inUse');
  expect((await failureOf(IndexedDbRaftStorage.open(name, { lockTimeoutMs: 0 }))).reason).toBe('inUse');
  const reopening = IndexedDbRaftStorage.open(name, { lockTimeoutMs: 10_000 });
  worker.terminate();
  const storage = await reopening;
  expect(await storage.term()).toBe(0);
  storage.close();
  await IndexedDbRaftStorage.destroy(name);
}

/**
 * A worker opens the storage, writes a term and holds it: the page's destroy is refused (inUse),
 * the database and the term stay; once the worker is terminated, destroy deletes it.
 */
async function expectDestroyRefusedUntilTerminated(name: string, withoutWebLocks: boolean): Promise<void> {
  const worker = await openInWorker(name, withoutWebLocks, 7);
  for (const lockTimeoutMs of [0, 300]) {
    const failure = await failureOf(IndexedDbRaftStorage.destroy(name, { lockTimeoutMs }));
    expect(failure.reason).toBe('inUse');
    expect(failure.message).toContain(`IndexedDbRaftStorage destroy: the database ${JSON.stringify(databaseName(name))}`);
  }
  expect((await indexedDB.databases()).map((database) => database.name)).toContain(databaseName(name));
  worker.terminate();
  // The worker's storage was live until now: what it wrote is all there.
  const storage = await IndexedDbRaftStorage.open(name, { lockTimeoutMs: 10_000 });
  expect(await storage.term()).toBe(7);
  storage.close();
  await IndexedDbRaftStorage.destroy(name);
  expect((await indexedDB.databases()).map((database) => database.name)).not.toContain(databaseName(name));
}

async function lockState(name: string): Promise<{ held: number; pending: number }> {
  const snapshot = await navigator.locks.query();
  const lockName = databaseLockName(databaseName(name));
  return {
    held: (snapshot.held ?? []).filter((lock) => lock.name === lockName).length,
    pending: (snapshot.pending ?? []).filter((lock) => lock.name === lockName).length,
  };
}

describe('IndexedDbRaftStorage on Web Locks: tabs and workers', () => {
  it('a storage a worker holds open refuses the page (inUse); terminating the worker frees the database', async () => {
    await expectHeldUntilTerminated(uniqueName('worker-held'), false);
  });

  it('destroy from the page refuses a database a worker holds open (inUse), which keeps its data; after the worker ends it deletes', async () => {
    await expectDestroyRefusedUntilTerminated(uniqueName('worker-held-destroy'), false);
  });

  it('a worker node that crashes frees its database for the node that replaces it, which holds everything acknowledged', async () => {
    const name = uniqueName('crashed-node');
    const id = nodeId('solo');
    const worker = new Worker(new URL('../../worker/crashing-worker.test-support.ts', import.meta.url), { type: 'module' });
    const node = await createWorkerRaftNode({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage: { type: 'indexeddb', name }, worker });
    await node.awaitLeadership();
    // Leadership is announced when it is won, while its term may still be on its way to the disk
    // (a crash then loses that term, which is safe: nothing of it was sent or acknowledged). A
    // committed proposal is acknowledged, so it and its term are on the disk.
    const committed = await node.propose(new Uint8Array([7]));
    const stopped = new Promise<Error | null>((resolve) => node.stopped.subscribe(resolve));
    worker.postMessage({ crashForTest: true });
    expect(await stopped).toBeInstanceOf(WorkerCrashedError); // the client terminates the crashed worker
    const storage = await IndexedDbRaftStorage.open(name);
    expect(await storage.term()).toBe(committed.term);
    expect((await storage.entries(committed.index)).map(({ index, term, command }) => ({ index, term, command: [...command] }))).toEqual([{ index: committed.index, term: committed.term, command: [7] }]);
    storage.close();
    await node.close();
    await IndexedDbRaftStorage.destroy(name);
  });

  it('holds the lock exactly while open, and withdraws a request that timed out', async () => {
    const name = uniqueName('withdrawn');
    const owner = await IndexedDbRaftStorage.open(name);
    expect(await lockState(name)).toEqual({ held: 1, pending: 0 });
    expect((await failureOf(IndexedDbRaftStorage.open(name, { lockTimeoutMs: 100 }))).reason).toBe('inUse');
    expect(await lockState(name)).toEqual({ held: 1, pending: 0 }); // the timed-out request left no trace
    owner.close();
    await expect.poll(() => lockState(name)).toEqual({ held: 0, pending: 0 });
    await IndexedDbRaftStorage.destroy(name);
  });
});

describe('IndexedDbRaftStorage without Web Locks: tabs and workers (an insecure context)', () => {
  // Chromium leaves navigator.locks out of insecure contexts (a page served over plain http from
  // a LAN address) but not IndexedDB: hidden here, on the page and in the worker alike.
  const withoutWebLocks = async (body: () => Promise<void>): Promise<void> => {
    Object.defineProperty(navigator, 'locks', { value: undefined, configurable: true });
    try {
      await body();
    } finally {
      delete (navigator as { locks?: unknown }).locks; // the prototype's getter again
    }
  };

  it('a storage a worker holds open refuses the page (inUse); terminating the worker frees the database', async () => {
    await withoutWebLocks(async () => {
      const name = uniqueName('worker-held-without-web-locks');
      await expectHeldUntilTerminated(name, true);
      expect((await indexedDB.databases()).map((database) => database.name)).not.toContain(databaseName(name));
      // The lock's database goes with it once no connection holds it (destroy does not wait for one).
      await expect.poll(async () => (await indexedDB.databases()).map((database) => database.name)).not.toContain(versionLockDatabaseName(databaseName(name)));
    });
  });

  it('destroy from the page refuses a database a worker holds open (inUse), which keeps its data; after the worker ends it deletes', async () => {
    await withoutWebLocks(async () => {
      await expectDestroyRefusedUntilTerminated(uniqueName('worker-held-destroy-without-web-locks'), true);
    });
  });
});

