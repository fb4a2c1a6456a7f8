// How createWorkerRaftNode's start ends when it cannot go on: a worker already serving a node,
// and an abort while the worker opens its storage. In Node, on in-process workers.
import { deleteDB } from 'idb';
import 'fake-indexeddb/auto'; // IndexedDB storage inside the in-process worker
import { describe, expect, it } from 'vitest';
import { nodeId } from '../core/types.ts';
import { IndexedDbRaftStorage } from '../storage/indexeddb-storage.ts';
import { databaseName } from '../storage/indexeddb/schema.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';
import { createInProcessWorker } from './in-process-worker.test-support.ts';
import { createWorkerRaftNode, type WorkerEndpoint } from './worker-client.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('createWorkerRaftNode: options refused on the page, before any worker is asked', () => {
  it('a bad configuration, a clock for the worker, and no Worker in this runtime: refused at once, never waiting on a worker', async () => {
    const id = nodeId('page-checked');
    const transport = createLoopbackNetwork().transport(id);
    // A worker that never answers: a refusal that waited on it would never come.
    const silent = new MessageChannel();
    const worker = silent.port1 as unknown as WorkerEndpoint;
    const base = { id, clusterConfig: { voters: [id] }, transport, storage: { type: 'memory' as const } };
    await expect(createWorkerRaftNode({ ...base, clusterConfig: { voters: [] }, worker })).rejects.toThrow(RangeError);
    await expect(createWorkerRaftNode({ ...base, raftConfig: { heartbeatInterval: 500 }, worker })).rejects.toThrow(/RaftConfig\.heartbeatInterval = 500/);
    await expect(createWorkerRaftNode({ ...base, raftConfig: { clock: { now: () => 0, setTimeout: () => 0, clearTimeout: () => undefined } } as never, worker })).rejects.toThrow(/cannot hold a clock or random source: functions cannot cross into the worker/);
    expect(typeof (globalThis as { Worker?: unknown }).Worker).toBe('undefined');
    await expect(createWorkerRaftNode(base)).rejects.toThrow(/^createWorkerRaftNode: this runtime has no Worker; pass `worker`/);
    silent.port1.close();
    silent.port2.close();
  });
});

describe('createWorkerRaftNode: a start that cannot go on', () => {
  it('a worker that already hosts a node is refused at once, and its node keeps working', async () => {
    const worker = createInProcessWorker();
    const first = nodeId('first');
    const node = await createWorkerRaftNode({ id: first, clusterConfig: { voters: [first] }, transport: createLoopbackNetwork().transport(first), storage: { type: 'memory' }, worker });
    await node.awaitLeadership();
    const second = nodeId('second');
    await expect(createWorkerRaftNode({ id: second, clusterConfig: { voters: [second] }, transport: createLoopbackNetwork().transport(second), storage: { type: 'memory' }, worker })).rejects.toThrow(
      new TypeError('this worker already hosts a node, or did: a worker serves one node, once (leave `worker` out and createWorkerRaftNode creates one)'),
    );
    expect(worker.terminated).toBe(false);
    expect((await node.propose(bytes('still here'))).index).toBe(2);
    expect(node.stopped.value).toBeNull();
    await node.close();
    // Closed, the worker is gone: it is not taken again either (it would never answer).
    await expect(createWorkerRaftNode({ id: second, clusterConfig: { voters: [second] }, transport: createLoopbackNetwork().transport(second), storage: { type: 'memory' }, worker })).rejects.toBeInstanceOf(TypeError);
  });

  it('a transport the page cannot serve fails the call before the worker is claimed: a later call may use it', async () => {
    const worker = createInProcessWorker();
    const id = nodeId('solo');
    const working = createLoopbackNetwork().transport(id);
    const broken = { ...working, incoming: { subscribe: () => { throw new Error('transport not ready'); } } };
    await expect(createWorkerRaftNode({ id, clusterConfig: { voters: [id] }, transport: broken, storage: { type: 'memory' }, worker })).rejects.toThrow('transport not ready');
    expect(worker.terminated).toBe(false);
    const node = await createWorkerRaftNode({ id, clusterConfig: { voters: [id] }, transport: working, storage: { type: 'memory' }, worker });
    await node.awaitLeadership();
    await node.close();
  });

  it('an abort while the worker waits for its database rejects with the signal’s reason at once, and terminates the worker', async () => {
    const name = `held-${Math.random().toString(36).slice(2)}`;
    const blocker = await IndexedDbRaftStorage.open(name); // the worker's open waits for this database's lock (5 s bound)
    const worker = createInProcessWorker();
    const id = nodeId('solo');
    const controller = new AbortController();
    const starting = createWorkerRaftNode({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage: { type: 'indexeddb', name }, worker, signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const reason = new Error('the user went elsewhere');
    const abortedAt = performance.now();
    controller.abort(reason);
    const error: unknown = await starting.catch((failure: unknown) => failure);
    expect(error).toBe(reason);
    expect(performance.now() - abortedAt).toBeLessThan(1_000); // not the lock's 5 s bound
    expect(worker.terminated).toBe(true);
    blocker.close();
    // Deleted without the lock: the in-process host, which terminate() cannot stop as it stops a
    // real worker, still opens the database once the blocker lets go, and holds it (so
    // IndexedDbRaftStorage.destroy would rightly refuse).
    await deleteDB(databaseName(name));
  });
});
