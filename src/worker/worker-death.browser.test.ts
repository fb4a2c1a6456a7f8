// A worker that ends without an `error` event, in real Chromium: the worker's life lock is released
// by the browser when the worker's context ends, the page's request for it is granted, and the
// page node stops as it does for a crash. Each case prints how long the page took to notice.
import { describe, expect, it } from 'vitest';
import { RaftClosedError } from '../core/errors.ts';
import { nodeId } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { IndexedDbRaftStorage } from '../storage/indexeddb-storage.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';
import { WorkerCrashedError } from './error-transfer.ts';
import { createWorkerRaftNode } from './worker-client.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** Prints a measured figure (the README quotes them). */
const report = (line: string): void => {
  // eslint-disable-next-line no-console -- the figure is this test's second output
  console.log(line);
};

function dyingWorker(): Worker {
  return new Worker(new URL('./crashing-worker.test-support.ts', import.meta.url), { type: 'module' });
}

/** Tells the worker to self.close(); resolves with the moment (page clock) it was about to. */
function closeSilently(worker: Worker): Promise<number> {
  return new Promise((resolve) => {
    worker.addEventListener('message', (event: MessageEvent<{ closingAt?: number }>) => {
      if (typeof event.data?.closingAt === 'number') resolve(event.data.closingAt);
    });
    worker.postMessage({ closeForTest: true });
  });
}

/** The raftmesh life locks held and requested on this origin now. */
async function lifeLocks(): Promise<{ held: string[]; pending: string[] }> {
  const snapshot = await navigator.locks.query();
  const names = (infos: LockInfo[] | undefined): string[] => (infos ?? []).map((info) => info.name ?? '').filter((name) => name.startsWith('raftmesh:worker-life:'));
  return { held: names(snapshot.held), pending: names(snapshot.pending) };
}

/** Until the worker holds its life lock and the page waits for it (the watch is armed). */
async function armed(count = 1): Promise<void> {
  await expect.poll(async () => (await lifeLocks()).pending.length, { timeout: 10_000 }).toBe(count);
}

/** A node with a voter that never exists: no leader, so its calls stay pending. */
function leaderless(worker: Worker, name = 'solo'): Promise<RaftNode> {
  const id = nodeId(name);
  return createWorkerRaftNode({ id, clusterConfig: { voters: [id, nodeId('ghost')] }, transport: createLoopbackNetwork().transport(id), storage: { type: 'memory' }, worker });
}

describe('engine in a worker: a worker that ends without an error event (Chromium)', () => {
  it('self.close() in the worker: a pending propose rejects promptly with WorkerCrashedError, and so do later calls', async () => {
    const worker = dyingWorker();
    let errorEvents = 0;
    worker.addEventListener('error', () => (errorEvents += 1));
    const node = await leaderless(worker);
    await armed();
    const proposal = node.propose(bytes('never commits'));
    const stream = node.committedFrom(1)[Symbol.asyncIterator]().next();
    const closingAt = await closeSilently(worker);
    const error: unknown = await proposal.catch((reason: unknown) => reason);
    const noticedAfterMs = now() - closingAt;
    report(`self.close(): the page rejected the pending propose ${noticedAfterMs.toFixed(1)} ms after the worker closed`);
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect((error as Error).message).toMatch(/without an error event/);
    expect(noticedAfterMs).toBeLessThan(2_000);
    expect(errorEvents).toBe(0); // the path under test: no error event ever came
    expect(node.stopped.value).toBe(error);
    expect(await stream).toEqual({ done: true, value: undefined });
    await expect(node.propose(bytes('later'))).rejects.toBe(error);
    await expect(node.readIndex()).rejects.toBe(error);
    await expect.poll(lifeLocks).toEqual({ held: [], pending: [] }); // the page handed the granted lock back
    await node.close();
  });

  it('a worker terminated behind the client\'s back (the client is told nothing) stops the node too', async () => {
    const worker = dyingWorker();
    const node = await leaderless(worker);
    await armed();
    const proposal = node.propose(bytes('never commits'));
    await sleep(50);
    const terminatedAt = now();
    worker.terminate(); // not through the client: no event reaches it
    await expect(proposal).rejects.toBeInstanceOf(WorkerCrashedError);
    report(`terminate(): the page rejected the pending propose ${(now() - terminatedAt).toFixed(1)} ms after`);
    await node.close();
  });

  it('an orderly close() raises no crash and leaves no life lock held or requested', async () => {
    const worker = dyingWorker();
    const id = nodeId('solo');
    const node = await createWorkerRaftNode({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage: { type: 'memory' }, worker });
    await armed();
    await node.propose(bytes('committed'));
    await sleep(300); // a healthy worker keeps its lock: nothing is raised while it lives
    expect(node.stopped.value).toBeNull();
    expect((await lifeLocks()).held).toHaveLength(1);
    const started = now();
    await node.close();
    expect(now() - started).toBeLessThan(5_000);
    expect(node.stopped.value).toBeInstanceOf(RaftClosedError);
    await expect.poll(lifeLocks).toEqual({ held: [], pending: [] });
    await sleep(100);
    expect(node.stopped.value).toBeInstanceOf(RaftClosedError);
  });

  it('several nodes on one page: only the node whose worker ended stops', async () => {
    const workers = [dyingWorker(), dyingWorker()];
    const nodes = await Promise.all(workers.map((worker, k) => leaderless(worker, `n${k}`)));
    await armed(2);
    await closeSilently(workers[0]!);
    await expect.poll(() => nodes[0]!.stopped.value).toBeInstanceOf(WorkerCrashedError);
    await sleep(200);
    expect(nodes[1]!.stopped.value).toBeNull();
    expect((await lifeLocks()).held).toHaveLength(1);
    await Promise.all(nodes.map((node) => node.close()));
    await expect.poll(lifeLocks).toEqual({ held: [], pending: [] });
  });

  it('a worker that ends while opening its storage rejects createWorkerRaftNode promptly', async () => {
    const name = `held-${Math.random().toString(36).slice(2)}`;
    const blocker = await IndexedDbRaftStorage.open(name); // the worker's open waits for this database lock (5 s bound)
    const worker = dyingWorker();
    const id = nodeId('solo');
    const starting = createWorkerRaftNode({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage: { type: 'indexeddb', name }, worker });
    const outcome = starting.then(() => 'started', (reason: unknown) => reason);
    await armed();
    const closingAt = await closeSilently(worker);
    const error = await outcome;
    report(`self.close() while starting: createWorkerRaftNode rejected ${(now() - closingAt).toFixed(1)} ms after`);
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(now() - closingAt).toBeLessThan(2_000);
    blocker.close();
    await IndexedDbRaftStorage.destroy(name);
  });
});
