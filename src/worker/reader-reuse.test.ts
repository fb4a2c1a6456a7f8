// workerNodeFactory starts an id's node on the worker that read the id's storage (joinRoom reads,
// then starts): the bounds on such a waiting reader (its time, its read's signal, a crash, a
// newer read, a discard, how many wait at once), and that a node started on one behaves, or
// fails, like one on a fresh worker. In-process workers over fake-indexeddb.
import 'fake-indexeddb/auto';
import { describe, expect, it, vi } from 'vitest';
import { RaftClosedError } from '../core/errors.ts';
import { nodeId, type NodeId } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { IndexedDbRaftStorage } from '../storage/indexeddb-storage.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';
import { WorkerCrashedError } from './error-transfer.ts';
import { fakeLocksForEachTest, lifeLocks } from './fake-lock-manager.test-support.ts';
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

describe('reads that overlap', () => {
  it('two reads of one id at once keep one reader; a discard while a read is under way keeps none', async () => {
    const { factory, created } = factoryWithPool();
    const id = nodeId('overlap');
    await Promise.all([factory.readStoredState(id), factory.readStoredState(id)]);
    expect(created.filter((worker) => !worker.terminated)).toHaveLength(1);
    await factory.discardStorage(id);
    expect(created.every((worker) => worker.terminated)).toBe(true);
    // The discard comes while the read's worker is still reading: what it brings back is not kept.
    const read = factory.readStoredState(id);
    const discard = factory.discardStorage(id);
    await Promise.all([read, discard]);
    expect(created).toHaveLength(5);
    expect(created.every((worker) => worker.terminated)).toBe(true);
  });
});

describe('a reader taken by its node', () => {
  it("is no longer bound by the reader's time, its read's signal or the spare's watch: the node runs on, and ends its worker once", async () => {
    const { factory, created } = factoryWithPool({ keepReaderMs: 30 });
    const id = nodeId('taken');
    const controller = new AbortController();
    await factory.readStoredState(id, controller.signal);
    const node = await factory(nodeOptions(id));
    let terminations = 0;
    const worker = created[0]!;
    const terminate = worker.terminate.bind(worker);
    worker.terminate = () => {
      terminations += 1;
      terminate();
    };
    await node.awaitLeadership();
    // Past keepReaderMs, and the read's signal (joinRoom's: it aborts on leave) aborts under the live node.
    await new Promise((resolve) => setTimeout(resolve, 80));
    controller.abort(new Error('the room was left'));
    expect(worker.terminated).toBe(false);
    await node.propose(bytes('still running on the reader'));
    await node.close();
    expect(terminations).toBe(1);
    // Closed as asked, not stopped by a crash.
    expect(node.stopped.value).toBeInstanceOf(RaftClosedError);
  });
});

describe('a reader that dies without an error event (Web Locks)', () => {
  const fakeLocks = fakeLocksForEachTest();

  it('holds its life lock from the read on; dying while it waits ends it, and the node starts on a fresh worker', async () => {
    const locks = fakeLocks();
    const { factory, created } = factoryWithPool();
    const id = nodeId('vanished');
    await factory.readStoredState(id);
    await vi.waitFor(() => expect(lifeLocks(locks.pending())).toHaveLength(1));
    const [lifeLock] = lifeLocks(locks.held());
    expect(lifeLock).toMatch(/^raftmesh:worker-life:vanished:/);
    locks.endHolderOf(lifeLock!); // the browser ended the reader's context: no error event
    await vi.waitFor(() => expect(created[0]?.terminated).toBe(true));
    const node = await factory(nodeOptions(id));
    expect(created).toHaveLength(2);
    await node.awaitLeadership();
    await node.close();
  });

  it('dying during its read fails the read at once with WorkerCrashedError, and nothing is kept', async () => {
    const locks = fakeLocks();
    const name = `reader-reuse-held-${Math.random()}`;
    // Held open on the page: the reader's open waits for it (seconds), holding its life lock.
    const heldOpen = await IndexedDbRaftStorage.open(name);
    try {
      const { factory, created } = factoryWithPool({ storage: () => ({ type: 'indexeddb', name }) });
      const id = nodeId('dies-reading');
      const read = factory.readStoredState(id);
      await vi.waitFor(() => expect(lifeLocks(locks.pending())).toHaveLength(1));
      const [lifeLock] = lifeLocks(locks.held());
      locks.endHolderOf(lifeLock!);
      await expect(read).rejects.toBeInstanceOf(WorkerCrashedError);
      expect(created[0]?.terminated).toBe(true);
      expect(lifeLocks(locks.pending())).toEqual([]);
    } finally {
      heldOpen.close();
    }
  });

  it("the node on a reader watches the reader's lock: a silent death stops it with WorkerCrashedError", async () => {
    const locks = fakeLocks();
    const { factory, created } = factoryWithPool();
    const id = nodeId('watched');
    await factory.readStoredState(id);
    await vi.waitFor(() => expect(lifeLocks(locks.pending())).toHaveLength(1));
    const [lifeLock] = lifeLocks(locks.held());
    // A voter that never exists: no leader, so the proposal stays pending until the death.
    const node = await factory({ ...nodeOptions(id), clusterConfig: { voters: [id, nodeId('ghost')] } });
    expect(created).toHaveLength(1);
    // One lock, held by the reader since its read, and one page request for it (the node's).
    await vi.waitFor(() => expect(lifeLocks(locks.pending())).toEqual([lifeLock]));
    expect(lifeLocks(locks.held())).toEqual([lifeLock]);
    const proposal = node.propose(bytes('never commits'));
    locks.endHolderOf(lifeLock!);
    await expect(proposal).rejects.toBeInstanceOf(WorkerCrashedError);
    expect(node.stopped.value).toBeInstanceOf(WorkerCrashedError);
    expect(created[0]?.terminated).toBe(true);
    await node.close();
  });
});
