// Storage errands: what an id's storage holds, read in a worker of its own, and its deletion there,
// so a page whose engine runs in a worker never opens the database (workerNodeFactory's
// readStoredState and discardStorage, joinRoom's readers). In Node, on in-process workers over
// fake-indexeddb; the same code runs in Chromium in e2e/packed-package.spec.ts and the demo.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { nodeId } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { IndexedDbRaftStorage } from '../storage/indexeddb-storage.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';
import { WorkerCrashedError } from './error-transfer.ts';
import { createInProcessWorker, type InProcessWorker } from './in-process-worker.test-support.ts';
import { destroyStorageInWorker, readStoredStateInWorker } from './storage-errands.ts';
import { createWorkerRaftNode } from './worker-client.ts';
import type { WorkerStorageOptions } from './protocol.ts';
import { workerNodeFactory } from './worker-node-factory.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Hands out in-process workers and keeps them, to see which were terminated. */
function workerPool(): { readonly create: () => InProcessWorker; readonly created: InProcessWorker[] } {
  const created: InProcessWorker[] = [];
  return {
    created,
    create: () => {
      const worker = createInProcessWorker();
      created.push(worker);
      return worker;
    },
  };
}

describe('storage errands in a worker of their own', () => {
  it('reads an empty database, then the log, term and configuration a node left, and terminates each worker', async () => {
    const id = nodeId('errand');
    const storage = { type: 'indexeddb', name: `errand-${Math.random()}` } as const;
    const pool = workerPool();
    expect(await readStoredStateInWorker(storage, { worker: pool.create() })).toEqual({ holdsLog: false, term: 0, configurations: [] });
    const node = await createWorkerRaftNode({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage, worker: pool.create() });
    await node.awaitLeadership();
    await node.changeMembership({ voters: [id], learners: [nodeId('learner')] });
    await node.propose(bytes('after the change'));
    const term = node.term.value;
    await node.close();
    expect(await readStoredStateInWorker(storage, { worker: pool.create() })).toEqual({ holdsLog: true, term, configurations: [{ voters: [id], learners: [nodeId('learner')] }] });
    expect(pool.created.map((worker) => worker.terminated)).toEqual([true, true, true]);
  });

  it('reads a database that does not exist as empty without creating it (a join aborted after its read left an empty database behind); the node\'s start creates it', async () => {
    const id = nodeId('never-ran');
    const storage = { type: 'indexeddb', name: `errand-absent-${Math.random()}` } as const;
    const names = async (): Promise<(string | undefined)[]> => (await indexedDB.databases()).map((database) => database.name);
    expect(await readStoredStateInWorker(storage, { worker: createInProcessWorker() })).toEqual({ holdsLog: false, term: 0, configurations: [] });
    expect((await names()).filter((name) => name?.includes(storage.name))).toEqual([]);
    const node = await createWorkerRaftNode({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage, worker: createInProcessWorker() });
    await node.awaitLeadership();
    await node.propose(bytes('now it exists'));
    await node.close();
    expect(await names()).toContain(`raftmesh:${storage.name}`);
    expect(await readStoredStateInWorker(storage, { worker: createInProcessWorker() })).toMatchObject({ holdsLog: true });
  });

  it('deletes the database, after which a read finds nothing and a node starts afresh', async () => {
    const id = nodeId('deleted');
    const storage = { type: 'indexeddb', name: `errand-${Math.random()}` } as const;
    const node = await createWorkerRaftNode({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage, worker: createInProcessWorker() });
    await node.awaitLeadership();
    await node.propose(bytes('gone soon'));
    await node.close();
    const pool = workerPool();
    await destroyStorageInWorker(storage, { worker: pool.create() });
    expect(pool.created[0]?.terminated).toBe(true);
    expect(await readStoredStateInWorker(storage, { worker: createInProcessWorker() })).toEqual({ holdsLog: false, term: 0, configurations: [] });
  });

  it('a worker that crashes, an abort, or a database held open end the errand with the reason, and the worker is terminated', async () => {
    const storage = { type: 'indexeddb', name: `errand-${Math.random()}` } as const;
    // A worker that never answers, then reports an uncaught error.
    const silent = new MessageChannel();
    const errors = new EventTarget();
    let terminated = 0;
    const crashing = {
      postMessage: (message: unknown, transfer: Transferable[]) => silent.port1.postMessage(message, transfer),
      addEventListener: (type: string, listener: (event: Event) => void) => errors.addEventListener(type, listener),
      removeEventListener: (type: string, listener: (event: Event) => void) => errors.removeEventListener(type, listener),
      terminate: () => void (terminated += 1),
    };
    const crashed = readStoredStateInWorker(storage, { worker: crashing });
    errors.dispatchEvent(Object.assign(new Event('error'), { message: 'Uncaught SyntaxError in the worker script' }));
    await expect(crashed).rejects.toBeInstanceOf(WorkerCrashedError);
    await expect(crashed).rejects.toThrow(/Uncaught SyntaxError in the worker script/);
    expect(terminated).toBe(1);

    const controller = new AbortController();
    const aborted = readStoredStateInWorker(storage, { worker: { ...crashing }, signal: controller.signal });
    controller.abort(new Error('the user navigated away'));
    await expect(aborted).rejects.toThrow('the user navigated away');
    expect(terminated).toBe(2);
    await expect(readStoredStateInWorker(storage, { worker: { ...crashing }, signal: controller.signal })).rejects.toThrow('the user navigated away');
    expect(terminated).toBe(2); // refused before any worker was taken

    // A database this page holds open: the worker's open waits for its lock, then says so.
    const held = await IndexedDbRaftStorage.open(storage.name);
    try {
      const pool = workerPool();
      await expect(readStoredStateInWorker(storage, { worker: pool.create() })).rejects.toThrow(/held open by another tab or worker/);
      expect(pool.created[0]?.terminated).toBe(true);
    } finally {
      held.close();
    }
  });

  it('refuses bad storage options before taking a worker, and a worker that hosts a node refuses errands', async () => {
    const pool = workerPool();
    await expect(readStoredStateInWorker({ type: 'indexeddb', name: '' }, { worker: pool.create() })).rejects.toThrow(/the storage to read must be \{ type: "indexeddb", name, durability\? \} or \{ type: "memory" \}/);
    expect(pool.created[0]?.terminated).toBe(false);
    const strong = { type: 'indexeddb', name: 'durability-misspelt', durability: 'strong' } as unknown as WorkerStorageOptions;
    await expect(readStoredStateInWorker(strong, { worker: pool.create() })).rejects.toThrow('the storage to read.durability = "strong" must be "strict" (the default: each write durable before it resolves) or "relaxed"');
    const misspeltNode = createWorkerRaftNode({ id: nodeId('misspelt'), clusterConfig: { voters: [nodeId('misspelt')] }, transport: createLoopbackNetwork().transport(nodeId('misspelt')), storage: strong, worker: pool.create() });
    await expect(misspeltNode).rejects.toThrow(/^WorkerRaftNodeOptions\.storage\.durability = "strong" must be/);
    const id = nodeId('hosting');
    const worker = createInProcessWorker();
    const node = await createWorkerRaftNode({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage: { type: 'memory' }, worker });
    // The page will not hand a node's worker to an errand, and the worker refuses one it is sent.
    await expect(readStoredStateInWorker({ type: 'memory' }, { worker })).rejects.toThrow(/already hosts a node/);
    expect(await worker.host.api.readStoredState({ type: 'memory' })).toEqual({ type: 'error', error: { type: 'typeError', message: 'this worker hosts a node: its storage is read and deleted only in a worker of its own' } });
    expect(await worker.host.api.destroyStorage({ type: 'memory' })).toMatchObject({ type: 'error' });
    await node.close();
  });
});

describe("workerNodeFactory's storage errands", () => {
  it('readStoredState and discardStorage work on the database each id names; the node starts on the worker that read its id', async () => {
    const prefix = `factory-errand-${Math.random()}`;
    const pool = workerPool();
    const factory = workerNodeFactory({ storage: (id) => ({ type: 'indexeddb', name: `${prefix}:${id}` }), worker: pool.create });
    const id = nodeId('kept');
    expect((await factory.readStoredState(id)).holdsLog).toBe(false);
    expect(pool.created.map((worker) => worker.terminated)).toEqual([false]);
    const node = await factory({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage: new InMemoryRaftStorage() });
    // No second worker: the reader hosts the node, whose storage it opened afresh.
    expect(pool.created).toHaveLength(1);
    await node.awaitLeadership();
    await node.propose(bytes('kept'));
    await node.close();
    expect(pool.created[0]?.terminated).toBe(true);
    expect(await factory.readStoredState(id)).toMatchObject({ holdsLog: true });
    // Discarding the id ends its waiting reader, and deletes in a worker of its own.
    await factory.discardStorage(id);
    expect(pool.created.map((worker) => worker.terminated)).toEqual([true, true, true]);
    expect(await factory.readStoredState(id)).toMatchObject({ holdsLog: false });
    await factory.discardStorage(id);
    expect(pool.created).toHaveLength(5);
    expect(pool.created.every((worker) => worker.terminated)).toBe(true);
  });

  it('an aborted signal is refused before any worker is made; a worker that hosts a node is refused and left to its node', async () => {
    const pool = workerPool();
    const factory = workerNodeFactory({ storage: (id) => ({ type: 'indexeddb', name: `factory-errand-${Math.random()}:${id}` }), worker: pool.create });
    await expect(factory.readStoredState(nodeId('a'), AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
    expect(pool.created).toHaveLength(0);
    // A worker the page cannot take (one that hosts a node already) is refused by the errand, and
    // not terminated: it is the node's.
    const id = nodeId('hosting');
    const hosting = createInProcessWorker();
    const node = await createWorkerRaftNode({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage: { type: 'memory' }, worker: hosting });
    const handedOut = workerNodeFactory({ storage: (peer) => ({ type: 'indexeddb', name: `factory-errand-${Math.random()}:${peer}` }), worker: () => hosting });
    await expect(handedOut.readStoredState(nodeId('b'))).rejects.toThrow(/already hosts a node/);
    expect(hosting.terminated).toBe(false);
    await node.awaitLeadership();
    await node.propose(bytes('still running'));
    await node.close();
  });

  it('discardStorage refuses the id of a node this factory runs (it deleted the database, and the node failed with RaftClosedError), naming the id; once the node closed it deletes', async () => {
    const prefix = `factory-running-${Math.random()}`;
    const pool = workerPool();
    const factory = workerNodeFactory({ storage: (id) => ({ type: 'indexeddb', name: `${prefix}:${id}` }), worker: pool.create });
    const id = nodeId('running');
    const starting = factory({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage: new InMemoryRaftStorage() });
    // Refused while it starts, too: the worker is opening the database.
    await expect(factory.discardStorage(id)).rejects.toThrow(/discardStorage\("running"\): its node .* is running on the database .*close the node \(or leave the room/);
    const node = await starting;
    await node.awaitLeadership();
    await node.propose(bytes('before'));
    const refused = await factory.discardStorage(id).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toMatchObject({ name: 'RaftStorageError', reason: 'inUse' });
    expect(String((refused as Error).message)).toContain(`"${prefix}:running"`);
    // The node goes on, its log where it was: nothing was deleted.
    expect(node.stopped.value).toBeNull();
    await node.propose(bytes('after'));
    await node.close();
    expect(await factory.readStoredState(id)).toMatchObject({ holdsLog: true });
    await factory.discardStorage(id);
    expect(await factory.readStoredState(id)).toMatchObject({ holdsLog: false });
    await factory.discardStorage(id);
  });

  it('discardStorage refuses while close() is still closing the node and its storage in the worker (the page already reports it stopped), and deletes once close() resolved', async () => {
    const prefix = `factory-closing-${Math.random()}`;
    const factory = workerNodeFactory({ storage: (id) => ({ type: 'indexeddb', name: `${prefix}:${id}` }), worker: workerPool().create });
    const id = nodeId('closing');
    const node = await factory({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage: new InMemoryRaftStorage() });
    await node.awaitLeadership();
    await node.propose(bytes('kept'));
    const closing = node.close();
    expect(node.stopped.value).not.toBeNull(); // announced at once, before the worker closed anything
    const refused = await factory.discardStorage(id).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toMatchObject({ name: 'RaftStorageError', reason: 'inUse' });
    expect(String((refused as Error).message)).toMatch(/discardStorage\("closing"\): its node .* is running on the database/);
    await closing;
    expect(await factory.readStoredState(id)).toMatchObject({ holdsLog: true }); // nothing was deleted
    await factory.discardStorage(id);
    expect(await factory.readStoredState(id)).toMatchObject({ holdsLog: false });
  });

  it('discardStorage refuses an id whose storage names the database another running node has, naming that node', async () => {
    const name = `factory-shared-${Math.random()}`;
    const factory = workerNodeFactory({ storage: () => ({ type: 'indexeddb', name }), worker: workerPool().create });
    const id = nodeId('first');
    const node = await factory({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage: new InMemoryRaftStorage() });
    await expect(factory.discardStorage(nodeId('other'))).rejects.toThrow(/discardStorage\("other"\): the node of "first", which has the same storage, .* is running/);
    await node.close();
    await factory.discardStorage(nodeId('other'));
  });

  it('in-memory storage needs no worker: empty to read, nothing to delete', async () => {
    const pool = workerPool();
    const factory = workerNodeFactory({ storage: () => ({ type: 'memory' }), worker: pool.create });
    expect(await factory.readStoredState(nodeId('m'))).toEqual({ holdsLog: false, term: 0, configurations: [] });
    await factory.discardStorage(nodeId('m'));
    expect(pool.created).toHaveLength(0);
    const broken = workerNodeFactory({ storage: () => ({ type: 'indexeddb', name: '' }), worker: pool.create });
    await expect(broken.readStoredState(nodeId('m'))).rejects.toThrow(/workerNodeFactory: storage\("m"\) must be/);
    expect(pool.created).toHaveLength(0);
  });
});
