// A worker that ends without an `error` event, in Node: the client's logic on a fake lock manager
// standing in for navigator.locks (shared by the page and the in-process worker, as one origin's
// lock manager is), and the fallback where there are no Web Locks at all (the events port's
// `close`, which Node fires when a worker's ports go with it).
import { deleteDB } from 'idb';
import 'fake-indexeddb/auto'; // IndexedDB storage inside the in-process worker
import { beforeEach, describe, expect, it } from 'vitest';
import { RaftClosedError } from '../core/errors.ts';
import { nodeId } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { IndexedDbRaftStorage } from '../storage/indexeddb-storage.ts';
import { databaseName } from '../storage/indexeddb/schema.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';
import { WorkerCrashedError } from './error-transfer.ts';
import { fakeLocksForEachTest, lifeLocks, type FakeLockManager } from './fake-lock-manager.test-support.ts';
import { createInProcessWorker, type InProcessWorker } from './in-process-worker.test-support.ts';
import { createWorkerRaftNode } from './worker-client.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const settle = (ms = 20): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A node with a voter that never exists: no leader, so every call stays pending. */
async function startLeaderless(worker: InProcessWorker, name = 'solo'): Promise<RaftNode> {
  const id = nodeId(name);
  return createWorkerRaftNode({ id, clusterConfig: { voters: [id, nodeId('ghost')] }, transport: createLoopbackNetwork().transport(id), storage: { type: 'memory' }, worker });
}

/** Waits until the worker holds its life lock and the page's request for it is queued. */
async function watching(locks: FakeLockManager, count = 1): Promise<string[]> {
  for (let round = 0; round < 200 && lifeLocks(locks.pending()).length < count; round += 1) await settle(5);
  expect(lifeLocks(locks.pending())).toHaveLength(count);
  expect(lifeLocks(locks.held()).sort()).toEqual(lifeLocks(locks.pending()).sort());
  return lifeLocks(locks.held());
}

describe('a worker that ends without an error event (Web Locks)', () => {
  const fakeLocks = fakeLocksForEachTest();
  let locks: FakeLockManager;
  beforeEach(() => {
    locks = fakeLocks();
  });

  it('stops the page node: a pending propose and later calls reject with WorkerCrashedError, streams end, the worker is terminated', async () => {
    const worker = createInProcessWorker();
    const node = await startLeaderless(worker);
    const [lifeLock] = await watching(locks);
    const proposal = node.propose(bytes('never commits'));
    const leadership = node.awaitLeadership();
    const stream = node.committedFrom(1)[Symbol.asyncIterator]().next();
    await settle();
    locks.endHolderOf(lifeLock!); // the browser ended the worker's context: no error event
    const error: unknown = await proposal.catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect((error as Error).message).toMatch(/without an error event/);
    await expect(leadership).rejects.toBe(error);
    expect(await stream).toEqual({ done: true, value: undefined });
    expect(node.stopped.value).toBe(error);
    expect(worker.terminated).toBe(true);
    await expect(node.propose(bytes('later'))).rejects.toBe(error);
    await expect(node.readIndex()).rejects.toBe(error);
    expect(locks.pending()).toEqual([]); // the page gave the granted lock straight back
    await node.close();
  });

  it('a healthy worker is never taken for dead: the page waits on its lock while the node works', async () => {
    const worker = createInProcessWorker();
    const id = nodeId('solo');
    const node = await createWorkerRaftNode({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage: { type: 'memory' }, worker });
    const [lifeLock] = await watching(locks);
    for (let round = 0; round < 20; round += 1) await node.propose(bytes(`entry ${round}`));
    await settle(200);
    expect(node.stopped.value).toBeNull();
    expect(locks.held()).toContain(lifeLock);
    expect(locks.pending()).toContain(lifeLock);
    await node.close();
  });

  it('an orderly close() raises no crash, and leaves no lock held or requested', async () => {
    const worker = createInProcessWorker();
    const node = await startLeaderless(worker);
    await watching(locks);
    const proposal = node.propose(bytes('pending'));
    const closing = node.close();
    await expect(proposal).rejects.toBeInstanceOf(RaftClosedError);
    await closing;
    expect(node.stopped.value).toBeInstanceOf(RaftClosedError);
    expect(worker.terminated).toBe(true);
    await settle();
    expect(lifeLocks(locks.held())).toEqual([]);
    expect(lifeLocks(locks.pending())).toEqual([]);
    expect(node.stopped.value).toBeInstanceOf(RaftClosedError);
  });

  it('close() on a worker that died while closing returns at its end, not after the 10 s bound', async () => {
    const worker = createInProcessWorker();
    const node = await startLeaderless(worker);
    const [lifeLock] = await watching(locks);
    worker.vanish(); // it can no longer answer close()
    const started = performance.now();
    const closing = node.close();
    await settle();
    locks.endHolderOf(lifeLock!);
    await closing;
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(node.stopped.value).toBeInstanceOf(RaftClosedError); // closing on purpose: no crash reported
    expect(worker.terminated).toBe(true);
  });

  it('several nodes on one page: each worker has its own lock, and only the one that ended stops', async () => {
    const workers = [createInProcessWorker(), createInProcessWorker()];
    const nodes = await Promise.all(workers.map((worker, k) => startLeaderless(worker, `n${k}`)));
    const names = await watching(locks, 2);
    expect(new Set(names).size).toBe(2);
    const victim = names.find((name) => name.includes(':n0:'))!;
    locks.endHolderOf(victim);
    await settle();
    expect(nodes[0]!.stopped.value).toBeInstanceOf(WorkerCrashedError);
    expect(nodes[1]!.stopped.value).toBeNull();
    expect(workers[1]!.terminated).toBe(false);
    await Promise.all(nodes.map((node) => node.close()));
  });

  it('a worker that ends while opening its storage rejects createWorkerRaftNode promptly', async () => {
    const name = `held-${Math.random().toString(36).slice(2)}`;
    const blocker = await IndexedDbRaftStorage.open(name); // the worker's storage open waits for this database lock
    const worker = createInProcessWorker();
    const id = nodeId('solo');
    const starting = createWorkerRaftNode({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage: { type: 'indexeddb', name }, worker });
    const [lifeLock] = await watching(locks);
    const started = performance.now();
    locks.endHolderOf(lifeLock!);
    const error: unknown = await starting.catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(performance.now() - started).toBeLessThan(1_000); // not the storage lock's 5 s bound
    expect(worker.terminated).toBe(true);
    blocker.close();
    // Deleted without the lock: the in-process host, which terminate() cannot stop as it stops a
    // real worker, still opens the database once the blocker lets go, and holds it (so
    // IndexedDbRaftStorage.destroy would rightly refuse).
    await deleteDB(databaseName(name));
  });
});

describe('a worker that ends without an error event (no Web Locks: the events port closes)', () => {
  it('stops the page node with WorkerCrashedError', async () => {
    expect((globalThis as { navigator?: { locks?: unknown } }).navigator?.locks).toBeUndefined();
    const worker = createInProcessWorker();
    const node = await startLeaderless(worker);
    const proposal = node.propose(bytes('never commits'));
    await settle();
    worker.vanish();
    const error: unknown = await proposal.catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect((error as Error).message).toMatch(/without an error event/);
    expect(worker.terminated).toBe(true);
    await node.close();
  });

  it('an orderly close() raises no crash', async () => {
    const worker = createInProcessWorker();
    const node = await startLeaderless(worker);
    await node.close();
    await settle();
    expect(node.stopped.value).toBeInstanceOf(RaftClosedError);
  });
});
