// The page of e2e/worker-death.spec.ts: a worker node whose worker ends without an `error` event
// (self.close() in the worker, or a terminate() the client is not told of), or is closed in order.
// Each round reports what the page saw, so the spec can run it in Chromium and in Firefox alike.
import { createLoopbackNetwork, nodeId, type RaftNode } from '../../src/index.ts';
import { createWorkerRaftNode, WorkerCrashedError } from '../../src/worker.ts';

export type DeathHow = 'self.close' | 'terminate' | 'orderly close';

export interface DeathRound {
  readonly how: DeathHow;
  /** The name of the error the pending propose rejected with ('timeout' if none within 5 s). */
  readonly rejectedWith: string;
  /** From the worker's end (or the close() call) to the propose's rejection, page clock. */
  readonly afterMs: number;
  readonly errorEvents: number;
  readonly stoppedWith: string | null;
  /** raftmesh life locks still held or requested once the round is over. */
  readonly lifeLocksLeft: number;
}

declare global {
  interface Window {
    workerDeathRound: (how: DeathHow) => Promise<DeathRound>;
  }
}

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function lifeLocks(): Promise<{ held: number; pending: number }> {
  const snapshot = await navigator.locks.query();
  const count = (infos: LockInfo[] | undefined): number => (infos ?? []).filter((info) => info.name?.startsWith('raftmesh:worker-life:') === true).length;
  return { held: count(snapshot.held), pending: count(snapshot.pending) };
}

/** Until the worker holds its life lock and the page waits for it. */
async function armed(): Promise<void> {
  for (let attempt = 0; attempt < 500 && (await lifeLocks()).pending === 0; attempt += 1) await sleep(10);
}

/** Tells the test worker to self.close(); resolves with the moment it was about to. */
function closeSilently(worker: Worker): Promise<number> {
  return new Promise((resolve) => {
    worker.addEventListener('message', (event: MessageEvent<{ closingAt?: number }>) => {
      if (typeof event.data?.closingAt === 'number') resolve(event.data.closingAt);
    });
    worker.postMessage({ closeForTest: true });
  });
}

async function end(how: DeathHow, worker: Worker, node: RaftNode): Promise<number> {
  switch (how) {
    case 'self.close':
      return closeSilently(worker);
    case 'terminate':
      worker.terminate(); // behind the client's back: no event reaches it
      return now();
    case 'orderly close': {
      const started = now();
      void node.close();
      return started;
    }
  }
}

window.workerDeathRound = async (how) => {
  const worker = new Worker(new URL('../../src/worker/crashing-worker.test-support.ts', import.meta.url), { type: 'module' });
  let errorEvents = 0;
  worker.addEventListener('error', () => (errorEvents += 1));
  const id = nodeId('solo');
  // A voter that never exists: no leader, so the propose stays pending until the worker ends.
  const node = await createWorkerRaftNode({ id, clusterConfig: { voters: [id, nodeId('ghost')] }, transport: createLoopbackNetwork().transport(id), storage: { type: 'memory' }, worker });
  await armed();
  const proposal = node.propose(new TextEncoder().encode('never commits'));
  await sleep(50);
  const endedAt = await end(how, worker, node);
  const outcome = await Promise.race([proposal.then(() => 'resolved', (error: unknown) => error), sleep(5_000).then(() => 'timeout')]);
  const afterMs = now() - endedAt;
  const stoppedWith = node.stopped.value?.name ?? null;
  await node.close();
  await sleep(200); // the page hands a granted lock back on a later task
  const left = await lifeLocks();
  const rejectedWith = outcome instanceof WorkerCrashedError ? 'WorkerCrashedError' : outcome instanceof Error ? outcome.name : String(outcome);
  return { how, rejectedWith, afterMs: Math.round(afterMs * 10) / 10, errorEvents, stoppedWith, lifeLocksLeft: left.held + left.pending };
};
