// The page of `npm run bench:stored-state` (bench/stored-state-read.ts): what joinRoom's read of an
// id's stored state costs, made the two ways it can be. On the page: open the IndexedDB storage,
// read it (readStoredNodeState), close it, as joinRoom does when given `storage`. In a worker:
// workerNodeFactory's readStoredState, a worker of its own that opens, reads, closes and ends, as
// joinRoom does without `storage`. Each round makes both, one after the other, on one database a
// worker node filled first; a 1 ms timer on the page measures its longest gap during each read
// (how long the page could not run anything else). Then what joinRoom does next, the node's start:
// read and start with a fresh worker for the node (keepReaderMs 0, as before 2026-12-06), and read
// and start on the read's own worker (the default since), timed from the read to the started node.
import { createLoopbackNetwork, IndexedDbRaftStorage, InMemoryRaftStorage, nodeId, type RaftNode } from '../../src/index.ts';
import { readStoredNodeState } from '../../src/storage/stored-node-state.ts';
import { createWorkerRaftNode, workerNodeFactory, type WorkerNodeFactory } from '../../src/worker.ts';

export interface StoredStateReadResult {
  /** Elapsed ms of each round's read, and the page's longest timer gap during it. */
  readonly onPage: readonly { readonly elapsedMs: number; readonly longestGapMs: number }[];
  readonly inWorker: readonly { readonly elapsedMs: number; readonly longestGapMs: number }[];
  /** Elapsed ms of each round's read and node start, the node on a fresh worker, and on the reader. */
  readonly startOnFreshWorker: readonly number[];
  readonly startOnReader: readonly number[];
}

declare global {
  interface Window {
    storedStateRead: { run(entries: number, snapshotBytes: number, rounds: number): Promise<StoredStateReadResult> };
  }
}

/** Commits `count` 100-byte commands, 256 in flight; the last index. */
async function fill(node: RaftNode, count: number): Promise<number> {
  let last = 0;
  for (let done = 0; done < count; done += 256) {
    const batch = Array.from({ length: Math.min(256, count - done) }, () => node.propose(new Uint8Array(100)));
    last = Math.max(...(await Promise.all(batch)).map((entry) => entry.index));
  }
  return last;
}

/** `entries` commands, after as many more compacted into a snapshot of `snapshotBytes` when that is above 0. */
async function filledDatabase(entries: number, snapshotBytes: number): Promise<string> {
  const id = nodeId('bench');
  const name = `stored-state-read-${crypto.randomUUID()}`;
  const node = await createWorkerRaftNode({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage: { type: 'indexeddb', name } });
  try {
    await node.awaitLeadership();
    if (snapshotBytes > 0) {
      const through = await fill(node, entries);
      // A snapshot covers applied entries only: consume the stream through them first.
      for await (const item of node.committedFrom(1)) {
        if ((item.type === 'entry' ? item.entry.index : item.type === 'internal' ? item.index : 0) >= through) break;
      }
      node.publishSnapshot({ throughIndex: through, state: new Uint8Array(snapshotBytes) });
      while (node.compactionFloor.value < through) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await fill(node, entries);
  } finally {
    await node.close();
  }
  return name;
}

async function timed(read: () => Promise<unknown>): Promise<{ elapsedMs: number; longestGapMs: number }> {
  let longestGapMs = 0;
  let previous = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    longestGapMs = Math.max(longestGapMs, now - previous);
    previous = now;
  }, 1);
  const start = performance.now();
  try {
    await read();
    const elapsedMs = performance.now() - start;
    longestGapMs = Math.max(longestGapMs, performance.now() - previous);
    return { elapsedMs, longestGapMs };
  } finally {
    clearInterval(ticker);
  }
}

/** Reads the id's stored state and starts its node, as joinRoom does; ms until the node is started (its close is not counted). */
async function readAndStart(engine: WorkerNodeFactory): Promise<number> {
  const id = nodeId('bench');
  const start = performance.now();
  const stored = await engine.readStoredState(id);
  if (!stored.holdsLog) throw new Error('the database should hold a log');
  const node = await engine({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage: new InMemoryRaftStorage() });
  const elapsedMs = performance.now() - start;
  await node.close();
  return elapsedMs;
}

window.storedStateRead = {
  async run(entries, snapshotBytes, rounds) {
    const name = await filledDatabase(entries, snapshotBytes);
    const engine = workerNodeFactory({ storage: () => ({ type: 'indexeddb', name }) });
    const freshEngine = workerNodeFactory({ storage: () => ({ type: 'indexeddb', name }), keepReaderMs: 0 });
    const onPage: StoredStateReadResult['onPage'][number][] = [];
    const inWorker: StoredStateReadResult['inWorker'][number][] = [];
    const startOnFreshWorker: number[] = [];
    const startOnReader: number[] = [];
    try {
      for (let round = 0; round < rounds; round += 1) {
        onPage.push(
          await timed(async () => {
            const storage = await IndexedDbRaftStorage.open(name);
            try {
              return await readStoredNodeState(storage);
            } finally {
              storage.close();
            }
          }),
        );
        inWorker.push(await timed(() => freshEngine.readStoredState(nodeId('bench'))));
        // Alternating which goes first, so neither always meets a cache the other warmed.
        if (round % 2 === 0) {
          startOnFreshWorker.push(await readAndStart(freshEngine));
          startOnReader.push(await readAndStart(engine));
        } else {
          startOnReader.push(await readAndStart(engine));
          startOnFreshWorker.push(await readAndStart(freshEngine));
        }
      }
    } finally {
      await IndexedDbRaftStorage.destroy(name);
    }
    return { onPage, inWorker, startOnFreshWorker, startOnReader };
  },
};
