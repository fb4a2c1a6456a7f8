// The boundary's failure and flow-control behaviour, in Node with in-process workers (the real
// protocol over MessageChannels): a slow committed-stream consumer bounds what the worker sends,
// and a crashed worker stops the page node loudly instead of leaving calls hanging.
import { deleteDB } from 'idb';
import 'fake-indexeddb/auto'; // IndexedDB storage inside the in-process worker
import { describe, expect, it } from 'vitest';
import { RaftClosedError, RaftStorageError } from '../core/errors.ts';
import { nodeId, type Committed, type NodeId } from '../core/types.ts';
import { waitFor } from '../driver/raft-node-contract.test-support.ts';
import { createRaftNode } from '../driver/create-raft-node.ts';
import { databaseName } from '../storage/indexeddb/schema.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';
import { WorkerCrashedError } from './error-transfer.ts';
import { createInProcessWorker, type InProcessWorker } from './in-process-worker.test-support.ts';
import { workerLimits } from './protocol.ts';
import { createWorkerRaftNode } from './worker-client.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const indexOf = (item: Committed): number => (item.type === 'entry' ? item.entry.index : item.type === 'internal' ? item.index : -1);
/** Lets the worker run for a while (macrotasks), so an unbounded sender would have sent more. */
const letTheWorkerRun = async (): Promise<void> => {
  for (let round = 0; round < 50; round += 1) await new Promise((resolve) => setTimeout(resolve, 1));
};

async function startNode(voters: (self: NodeId) => NodeId[]): Promise<{ node: Awaited<ReturnType<typeof createWorkerRaftNode>>; worker: InProcessWorker }> {
  const id = nodeId('solo');
  const worker = createInProcessWorker();
  const node = await createWorkerRaftNode({ id, clusterConfig: { voters: voters(id) }, transport: createLoopbackNetwork().transport(id), storage: { type: 'memory' }, worker });
  return { node, worker };
}

describe('committed streams across the boundary', () => {
  it('a consumer that stops pulling holds the worker to one window of items; pulling again resumes without gap', async () => {
    const { node, worker } = await startNode((self) => [self]);
    await node.awaitLeadership();
    // Well over two windows of entries (and the no-op at index 1).
    const rounds = Math.ceil((2.5 * workerLimits.committedWindow) / 50);
    for (let round = 0; round < rounds; round += 1) await Promise.all(Array.from({ length: 50 }, (_, k) => node.propose(bytes(`${round}-${k}`))));
    const total = rounds * 50 + 1;
    const iterator = node.committedFrom(1)[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done === false && indexOf(first.value)).toBe(1);
    await waitFor(() => worker.host.committedItemsSent === workerLimits.committedWindow, 'the first window to be sent');
    await letTheWorkerRun();
    expect(worker.host.committedItemsSent).toBe(workerLimits.committedWindow);
    const seen = [1];
    while (seen.length < total) {
      const next = await iterator.next();
      if (next.done === true) break;
      seen.push(indexOf(next.value));
    }
    expect(seen).toEqual(Array.from({ length: total }, (_, k) => k + 1));
    await iterator.return?.();
    const sentAtReturn = worker.host.committedItemsSent;
    await node.propose(bytes('after return'));
    await letTheWorkerRun();
    expect(worker.host.committedItemsSent).toBeLessThanOrEqual(sentAtReturn + 1);
    await node.close();
  });

  it('a consumer that stops pulling holds the worker to one window of bytes too: large commands go a few at a time', async () => {
    const { node, worker } = await startNode((self) => [self]);
    await node.awaitLeadership();
    const commandBytes = 512 * 1024;
    const count = Math.ceil((3 * workerLimits.committedWindowBytes) / commandBytes);
    for (let position = 0; position < count; position += 1) await node.propose(new Uint8Array(commandBytes).fill(position + 1));
    const iterator = node.committedFrom(2)[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done === false && first.value.type === 'entry' && first.value.entry.command[0]).toBe(1);
    // The byte window holds 8 such commands; the item that crosses it still goes, alone.
    const perWindow = workerLimits.committedWindowBytes / commandBytes;
    await waitFor(() => worker.host.committedItemsSent === perWindow, 'the first byte window to be sent');
    await letTheWorkerRun();
    expect(worker.host.committedItemsSent).toBe(perWindow);
    const seen = [1];
    while (seen.length < count) {
      const next = await iterator.next();
      if (next.done === true || next.value.type !== 'entry') break;
      seen.push(next.value.entry.command[0]!);
    }
    expect(seen).toEqual(Array.from({ length: count }, (_, k) => k + 1));
    await iterator.return?.();
    await node.close();
  });

  it('committed() starts after what the page has seen committed; committedFrom rejects a bad index', async () => {
    const { node } = await startNode((self) => [self]);
    await node.awaitLeadership();
    await node.propose(bytes('before'));
    const iterator = node.committed()[Symbol.asyncIterator]();
    const pending = iterator.next();
    const entry = await node.propose(bytes('after'));
    const next = await pending;
    expect(next.done === false && next.value.type === 'entry' && next.value.entry.index).toBe(entry.index);
    expect(() => node.committedFrom(-1)).toThrow(RangeError);
    await node.close();
  });
});

describe('proposals across the boundary', () => {
  it('a burst of proposals goes as one batch; one aborted before it was sent never reaches the engine', async () => {
    const { node } = await startNode((self) => [self]);
    await node.awaitLeadership();
    const controller = new AbortController();
    const kept = node.propose(bytes('kept'));
    const dropped = node.propose(bytes('dropped'), { signal: controller.signal });
    const also = node.propose(bytes('also kept'));
    controller.abort(new Error('changed my mind'));
    await expect(dropped).rejects.toThrow('changed my mind');
    const entries = await Promise.all([kept, also]);
    expect(entries.map((entry) => entry.index)).toEqual([2, 3]); // index 1 is the leader's no-op
    const replay: string[] = [];
    for await (const item of node.committedFrom(2)) {
      if (item.type === 'entry') replay.push(new TextDecoder().decode(item.entry.command));
      if (replay.length === 2) break;
    }
    expect(replay).toEqual(['kept', 'also kept']);
    await node.close();
  });
});

describe('aborting a proposal the worker already has', () => {
  it('reaches the engine: the aborted command is never forwarded once a leader appears', async () => {
    // Two voters, the other one not started: no leader, so the engine holds the proposals.
    const network = createLoopbackNetwork();
    const [self, other] = [nodeId('a'), nodeId('b')];
    const node = await createWorkerRaftNode({ id: self, clusterConfig: { voters: [self, other] }, transport: network.transport(self), storage: { type: 'memory' }, worker: createInProcessWorker() });
    const controller = new AbortController();
    const dropped = node.propose(bytes('dropped'), { signal: controller.signal });
    const kept = node.propose(bytes('kept'));
    await letTheWorkerRun(); // the burst went: only the worker can drop the proposal now
    controller.abort(new Error('gave up'));
    await expect(dropped).rejects.toThrow('gave up');
    await letTheWorkerRun();
    const peer = await createRaftNode({ id: other, clusterConfig: { voters: [self, other] }, transport: network.transport(other), storage: new InMemoryRaftStorage() });
    const entry = await kept;
    const commands: string[] = [];
    for await (const item of node.committedFrom(1)) {
      if (item.type === 'entry') commands.push(new TextDecoder().decode(item.entry.command));
      if ((item.type === 'entry' ? item.entry.index : item.type === 'internal' ? item.index : 0) >= entry.index) break;
    }
    expect(commands).toEqual(['kept']);
    // Nothing else arrives later either: a proposal the worker still held would be forwarded now.
    await letTheWorkerRun();
    expect(node.commitIndex.value).toBe(entry.index);
    await Promise.all([node.close(), peer.close()]);
  });
});

describe('a worker node that stops (crash, close, storage failure)', () => {
  it('stops the page node and terminates the worker: pending calls reject with WorkerCrashedError, streams end, later calls reject, close still works', async () => {
    // Two voters, one of which never exists: no leader, so every call stays pending.
    const { node, worker } = await startNode((self) => [self, nodeId('ghost')]);
    const roleBefore = node.role.value;
    const proposal = node.propose(bytes('never commits'));
    const read = node.readIndex();
    const leadership = node.awaitLeadership();
    const stream = node.committedFrom(1)[Symbol.asyncIterator]().next();
    await new Promise((resolve) => setTimeout(resolve, 20));
    worker.crash('boom: out of memory');
    for (const call of [proposal, read, leadership]) {
      const error: unknown = await call.catch((reason: unknown) => reason);
      expect(error).toBeInstanceOf(WorkerCrashedError);
      expect((error as Error).message).toMatch(/worker crashed.*boom: out of memory/);
    }
    expect(await stream).toEqual({ done: true, value: undefined });
    expect(node.stopped.value).toBeInstanceOf(WorkerCrashedError);
    // An uncaught error leaves a worker running: it is terminated so no engine lives on unseen.
    expect(worker.terminated).toBe(true);
    expect(node.role.value).toBe(roleBefore); // role keeps its type; `stopped` says why
    await expect(node.propose(bytes('later'))).rejects.toBe(node.stopped.value);
    expect(() => node.publishSnapshot({ throughIndex: 0, state: new Uint8Array() })).toThrow(WorkerCrashedError);
    await node.close();
    expect(worker.terminated).toBe(true);
    expect(node.stopped.value).toBeInstanceOf(WorkerCrashedError);
  });

  it('a crash while starting rejects createWorkerRaftNode instead of hanging', async () => {
    const worker = createInProcessWorker();
    const id = nodeId('solo');
    const starting = createWorkerRaftNode({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage: { type: 'memory' }, worker });
    worker.crash('script failed to load');
    await expect(starting).rejects.toBeInstanceOf(WorkerCrashedError);
    expect(worker.terminated).toBe(true);
  });

  it('close() after a normal run rejects pending calls with RaftClosedError and terminates the worker', async () => {
    const { node, worker } = await startNode((self) => [self, nodeId('ghost')]);
    const proposal = node.propose(bytes('pending'));
    const closing = node.close();
    await expect(proposal).rejects.toBeInstanceOf(RaftClosedError);
    await closing;
    expect(worker.terminated).toBe(true);
  });

  it('a crash while close() waits for the worker ends close() at once, not after the 10 s bound', async () => {
    const { node, worker } = await startNode((self) => [self, nodeId('ghost')]);
    const started = performance.now();
    const closing = node.close();
    // The worker fails before it answers: the page terminates it, and nothing will answer now.
    worker.crash('boom while closing');
    await closing;
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(node.stopped.value).toBeInstanceOf(RaftClosedError); // closing on purpose: it stays closed
    expect(worker.terminated).toBe(true);
  });

  it('a storage failure inside the worker stops the page node with the same RaftStorageError and reason', async () => {
    const id = nodeId('solo');
    const name = `deleted-${Math.random().toString(36).slice(2)}`;
    const worker = createInProcessWorker();
    const node = await createWorkerRaftNode({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage: { type: 'indexeddb', name }, worker });
    await node.awaitLeadership();
    await node.propose(bytes('stored'));
    // Another tab deletes the database (without its lock, as clearing the site's data does;
    // IndexedDbRaftStorage.destroy refuses a database in use): the storage closes its connection
    // and refuses writes.
    await deleteDB(databaseName(name));
    const error: unknown = await node.propose(bytes('cannot be stored')).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(RaftStorageError);
    expect((error as RaftStorageError).reason).toBe('databaseDeleted');
    await waitFor(() => node.stopped.value !== null, 'the page node to stop');
    expect(node.stopped.value).toBeInstanceOf(RaftStorageError);
    await expect(node.readIndex()).rejects.toBeInstanceOf(RaftStorageError);
    await node.close();
    expect(worker.terminated).toBe(true);
  });
});

describe('bytes across the boundary', () => {
  // A structured clone copies a typed array's whole backing buffer, and the engine decodes
  // commands as views into frames: what crosses must not drag more along (packed-bytes.ts).
  it("a follower's page gets committed commands without the frames they came in, and the leader's worker proposals without their arena", async () => {
    const network = createLoopbackNetwork();
    // n1 is the only voter, so it leads at once; n2 is a learner that gets every entry by frames.
    const ids = [nodeId('n1'), nodeId('n2')];
    const workers = ids.map(() => createInProcessWorker());
    const posted: unknown[] = [];
    const leaderWorker = workers[0]!;
    const realPost = leaderWorker.postMessage;
    leaderWorker.postMessage = (message, transfer) => {
      // Described as posted: transferred buffers are detached (empty) afterwards.
      posted.push(JSON.parse(JSON.stringify(message, (_key, value: unknown) => (value instanceof Uint8Array ? { length: value.length, backing: value.buffer.byteLength } : value instanceof ArrayBuffer ? { buffer: value.byteLength } : value))));
      realPost(message, transfer);
    };
    const nodes = await Promise.all(ids.map((id, position) => createWorkerRaftNode({ id, clusterConfig: { voters: [ids[0]!], learners: [ids[1]!] }, transport: network.transport(id), storage: { type: 'memory' }, worker: workers[position]! })));
    const [leader, follower] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    await leader.awaitLeadership();
    const arena = new Uint8Array(64 * 1024);
    const proposed = Array.from({ length: 20 }, (_, position) => arena.subarray(position * 100, position * 100 + 100).fill(position + 1));
    await Promise.all(proposed.map((command) => leader.propose(command)));
    // The 20 proposals went in one burst buffer (proposal-records.ts): their commands and a few
    // bytes of ids each, never the arena they were views into.
    const buffersPosted = [...JSON.stringify(posted).matchAll(/"buffer":(\d+)/g)].map((match) => Number(match[1]));
    expect(buffersPosted.some((length) => length >= 20 * 100 && length <= 20 * (100 + 8))).toBe(true);
    expect(buffersPosted.every((length) => length < 64 * 1024)).toBe(true);
    expect(JSON.stringify(posted)).not.toContain(`"backing":${64 * 1024}`);
    const seen: Uint8Array[] = [];
    for await (const item of follower.committedFrom(1)) {
      if (item.type === 'entry' && !item.entry.isNoOp && item.entry.config === undefined) seen.push(item.entry.command);
      if (seen.length === proposed.length) break;
    }
    expect(seen.map((command) => [command.length, command[0]])).toEqual(proposed.map((_, position) => [100, position + 1]));
    // Commands arrive as views into their events batch's records (event-records.ts): what they
    // pin is those records, the commands and a few dozen bytes each of index, term and client id,
    // not the frames they came in nor the transport's batches of frames.
    const backing = new Set(seen.map((command) => command.buffer));
    const backingBytes = [...backing].reduce((total, buffer) => total + buffer.byteLength, 0);
    expect(backingBytes).toBeGreaterThanOrEqual(20 * 100);
    expect(backingBytes).toBeLessThanOrEqual(20 * (100 + 64));
    await Promise.all(nodes.map((node) => node.close()));
  });
});

describe('proposal bytes', () => {
  it('a command buffer reused right after propose returns does not change what was proposed', async () => {
    const { node } = await startNode((self) => [self]);
    await node.awaitLeadership();
    const buffer = new Uint8Array(3);
    const proposed: Array<Promise<unknown>> = [];
    for (let round = 1; round <= 3; round += 1) {
      buffer.fill(round); // an encoder reusing its output buffer within one synchronous run
      proposed.push(node.propose(buffer));
    }
    const entries = (await Promise.all(proposed)) as Array<{ command: Uint8Array }>;
    expect(entries.map((entry) => [...entry.command])).toEqual([
      [1, 1, 1],
      [2, 2, 2],
      [3, 3, 3],
    ]);
    await node.close();
  });
});
