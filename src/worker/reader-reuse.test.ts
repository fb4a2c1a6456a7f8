// workerNodeFactory starts an id's node on the worker that read the id's storage (joinRoom reads,
// then starts): the bounds on such a waiting reader (its time, its read's signal, a crash, a
// newer read, a discard, how many wait at once), and that a node started on one behaves, or
// fails, like one on a fresh worker. In-process workers over fake-indexeddb.
import 'fake-indexeddb/auto';
import { describe, expect, it, vi } from 'vitest';
import { nodeId, type NodeId } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';
import { createInProcessWorker, type InProcessWorker } from './in-process-worker.test-support.ts';
import { maxSpareWorkers } from './spare-workers.ts';
import { workerNodeFactory, type WorkerNodeFactoryOptions } from './worker-node-factory.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function factoryWithPool(options: Partial<WorkerNodeFactoryOptions> = {}): { readonly factory: ReturnType<typeof workerNodeFactory>; readonly created: InProcessWorker[] } {
  const created: InProcessWorker[] = [];
  const prefix = `reader-reuse-${Math.random()}`;
  const factory = workerNodeFactory({
    storage: (id) => ({ type: 'indexeddb', name: `${prefix}:${id}` }),
    worker: () => {
      const worker = createInProcessWorker();
      created.push(worker);
      return worker;
    },
    ...options,
  });
  return { factory, created };
}

const nodeOptions = (id: NodeId) => ({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage: new InMemoryRaftStorage() });

describe("a node starts on its id's reader", () => {
  it('restarts on the reader with the log the read found, and the reader is ended with the node', async () => {
    const { factory, created } = factoryWithPool();
    const id = nodeId('restart');
    await factory.readStoredState(id);
    const first = await factory(nodeOptions(id));
    await first.awaitLeadership();
    const written = await first.propose(bytes('before the restart'));
    await first.close();
    expect(await factory.readStoredState(id)).toMatchObject({ holdsLog: true, term: first.term.value });
    const again = await factory(nodeOptions(id));
    expect(created).toHaveLength(2);
    expect(created.map((worker) => worker.terminated)).toEqual([true, false]);
    await again.awaitLeadership();
    // Past the entries of the first run: the node restored the log (a fresh one would start at 1).
    expect((await again.propose(bytes('after the restart'))).index).toBeGreaterThan(written.index);
    await again.close();
    expect(created[1]?.terminated).toBe(true);
  });

  it("another id's node does not take the reader; a node with no read before it gets a fresh worker", async () => {
    const { factory, created } = factoryWithPool();
    await factory.readStoredState(nodeId('read'));
    const other = await factory(nodeOptions(nodeId('other')));
    expect(created).toHaveLength(2);
    expect(created[0]?.terminated).toBe(false);
    await other.awaitLeadership();
    await other.close();
    expect(created.map((worker) => worker.terminated)).toEqual([false, true]);
    await factory.discardStorage(nodeId('read'));
    expect(created[0]?.terminated).toBe(true);
  });

  it('a start refused on the reader ends it, and the next start gets a fresh worker', async () => {
    const { factory, created } = factoryWithPool();
    const id = nodeId('refused');
    await factory.readStoredState(id);
    await expect(factory({ ...nodeOptions(id), transport: createLoopbackNetwork().transport(nodeId('someone else')) })).rejects.toThrow(/selfId/);
    expect(created.map((worker) => worker.terminated)).toEqual([true]);
    const node = await factory(nodeOptions(id));
    expect(created).toHaveLength(2);
    await node.awaitLeadership();
    await node.close();
  });

  it('a start aborted on the reader ends it', async () => {
    const { factory, created } = factoryWithPool();
    const id = nodeId('aborted');
    await factory.readStoredState(id);
    await expect(factory({ ...nodeOptions(id), signal: AbortSignal.abort(new Error('left the page')) })).rejects.toThrow('left the page');
    expect(created.map((worker) => worker.terminated)).toEqual([true]);
  });
});

describe('a reader waits for its node within bounds', () => {
  it('is ended when keepReaderMs runs out, and the node then starts on a fresh worker', async () => {
    const { factory, created } = factoryWithPool({ keepReaderMs: 30 });
    const id = nodeId('late');
    await factory.readStoredState(id);
    expect(created[0]?.terminated).toBe(false);
    await vi.waitFor(() => expect(created[0]?.terminated).toBe(true));
    const node = await factory(nodeOptions(id));
    expect(created).toHaveLength(2);
    await node.awaitLeadership();
    await node.close();
  });

  it('keepReaderMs 0 ends each reader as its read answers; a negative or endless one is refused', async () => {
    const { factory, created } = factoryWithPool({ keepReaderMs: 0 });
    await factory.readStoredState(nodeId('a'));
    expect(created.map((worker) => worker.terminated)).toEqual([true]);
    for (const keepReaderMs of [-1, Number.POSITIVE_INFINITY, Number.NaN]) {
      expect(() => workerNodeFactory({ storage: () => ({ type: 'memory' }), keepReaderMs })).toThrow(/keepReaderMs must be a finite number of milliseconds, 0 or more/);
    }
  });

  it("is ended when its read's signal aborts, or its worker crashes; a crashed reader is not used", async () => {
    const { factory, created } = factoryWithPool();
    const controller = new AbortController();
    await factory.readStoredState(nodeId('signalled'), controller.signal);
    expect(created[0]?.terminated).toBe(false);
    controller.abort(new Error('the join was abandoned'));
    expect(created[0]?.terminated).toBe(true);

    const id = nodeId('crashed');
    await factory.readStoredState(id);
    created[1]?.crash('Uncaught RangeError: out of memory');
    expect(created[1]?.terminated).toBe(true);
    const node = await factory(nodeOptions(id));
    expect(created).toHaveLength(3);
    await node.awaitLeadership();
    await node.close();
  });

  it('a second read of one id ends the first reader; at most maxSpareWorkers wait, the oldest ended first', async () => {
    const { factory, created } = factoryWithPool();
    await factory.readStoredState(nodeId('twice'));
    await factory.readStoredState(nodeId('twice'));
    expect(created.map((worker) => worker.terminated)).toEqual([true, false]);
    for (let index = 1; index < maxSpareWorkers; index += 1) await factory.readStoredState(nodeId(`peer-${index}`));
    expect(created.filter((worker) => !worker.terminated)).toHaveLength(maxSpareWorkers);
    await factory.readStoredState(nodeId('one too many'));
    expect(created.filter((worker) => !worker.terminated)).toHaveLength(maxSpareWorkers);
    expect(created[1]?.terminated).toBe(true);
    for (const id of ['peer-1', 'peer-2', 'peer-3', 'one too many']) await factory.discardStorage(nodeId(id));
    expect(created.every((worker) => worker.terminated)).toBe(true);
  });
});
