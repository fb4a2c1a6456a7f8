// workerNodeFactory, the createNode that puts joinRoom's node in a worker: everything a worker can
// take is forwarded (onMetric above all, which a room needs to hear a wedge), the page's own
// storage handle is closed so the worker can open the database, and clock/random are refused
// with a clear error. Workers are in-process stand-ins (in-process-worker.test-support.ts).
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import type { RaftMetric } from '../core/events.ts';
import { clientId, nodeId } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { IndexedDbRaftStorage } from '../storage/indexeddb-storage.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';
import { createInProcessWorker } from './in-process-worker.test-support.ts';
import { workerNodeFactory } from './worker-node-factory.ts';

const nodes: RaftNode[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((node) => node.close()));
});

describe('workerNodeFactory', () => {
  it('forwards onMetric, identity and raftConfig, and closes the page-side handle so the worker opens the database', async () => {
    const id = nodeId('solo');
    const name = `factory-${Math.random()}`;
    const pageHandle = await IndexedDbRaftStorage.open(name, { lockTimeoutMs: 0 });
    const metrics: RaftMetric[] = [];
    const createNode = workerNodeFactory({ storage: () => ({ type: 'indexeddb', name, lockTimeoutMs: 0 }), worker: createInProcessWorker });
    const node = await createNode({
      id,
      clusterConfig: { voters: [id] },
      transport: createLoopbackNetwork().transport(id),
      storage: pageHandle,
      raftConfig: { electionTimeoutMin: 150, electionTimeoutMax: 300, heartbeatInterval: 30, maxAppendBytes: 4_096 },
      identity: { type: 'durable', clientId: clientId('factory-client') },
      onMetric: (metric) => metrics.push(metric),
    });
    nodes.push(node);
    const entry = await node.propose(new Uint8Array([1]));
    expect(entry.dedupKey?.clientId).toBe('factory-client');
    expect(metrics.some((metric) => metric.type === 'electionWon')).toBe(true);
    // The room's raftConfig reached the worker: a command above its maxAppendBytes is refused there.
    await expect(node.propose(new Uint8Array(8 * 1024))).rejects.toThrow(/8192 bytes/);
    await node.propose(new Uint8Array(1_024));
  });

  it('refuses raftConfig.clock and random, which cannot cross into a worker, and a missing storage function', async () => {
    const id = nodeId('solo');
    const createNode = workerNodeFactory({ storage: () => ({ type: 'memory' }), worker: createInProcessWorker });
    await expect(
      createNode({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage: await IndexedDbRaftStorage.open(`factory-${Math.random()}`), raftConfig: { random: Math.random } }),
    ).rejects.toThrow(/raftConfig.clock and raftConfig.random cannot cross into a worker/);
    expect(() => workerNodeFactory({} as never)).toThrow(/`storage` must be a function/);
  });

  it('terminates the worker it created when the start is refused before the worker was taken', async () => {
    let terminated = 0;
    const worker = createInProcessWorker();
    const counted = { ...worker, terminate: () => void ((terminated += 1), worker.terminate()) };
    const id = nodeId('solo');
    const createNode = workerNodeFactory({ storage: () => ({ type: 'indexeddb', name: '' }), worker: () => counted });
    await expect(createNode({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage: await IndexedDbRaftStorage.open(`factory-${Math.random()}`) })).rejects.toThrow(/storage/);
    expect(terminated).toBe(1);
  });
});
