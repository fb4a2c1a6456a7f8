// The page side of bench/indexeddb.ts: how fast IndexedDbRaftStorage persists entries in this
// browser, per batch size and durability, and what batch size the driver achieves under load.
import { createLoopbackNetwork, createRaftNode, IndexedDbRaftStorage, nodeId, type LogEntry, type StorageBatch } from '../../src/index.ts';

declare global {
  interface Window {
    indexedDbBench: {
      storageRate(batchSize: number, durability: 'strict' | 'relaxed', totalEntries: number): Promise<{ entriesPerSecond: number; batchesPerSecond: number }>;
      driverUnderLoad(durability: 'strict' | 'relaxed', inFlight: number, seconds: number): Promise<{ commitsPerSecond: number; meanBatch: number; p50Batch: number; p90Batch: number; writes: number }>;
    };
  }
}

const command = new Uint8Array(100).fill(7);
let runs = 0;

function entries(first: number, count: number): LogEntry[] {
  return Array.from({ length: count }, (_, offset) => ({ index: first + offset, term: 1, command, isNoOp: false }));
}

window.indexedDbBench = {
  async storageRate(batchSize, durability, totalEntries) {
    const name = `bench-rate-${(runs += 1)}-${Date.now()}`;
    const storage = await IndexedDbRaftStorage.open(name, { durability });
    // Warm-up: the first transactions of a new database are slower.
    for (let index = 1; index <= 20 * batchSize; index += batchSize) await storage.writeBatch({ entries: entries(index, batchSize) });
    let next = 20 * batchSize + 1;
    const batches = Math.max(1, Math.floor(totalEntries / batchSize));
    const started = performance.now();
    for (let batch = 0; batch < batches; batch += 1) {
      await storage.writeBatch({ hardState: { term: 1, votedFor: null }, entries: entries(next, batchSize) });
      next += batchSize;
    }
    const seconds = (performance.now() - started) / 1000;
    storage.close();
    await IndexedDbRaftStorage.destroy(name);
    return { entriesPerSecond: (batches * batchSize) / seconds, batchesPerSecond: batches / seconds };
  },

  async driverUnderLoad(durability, inFlight, seconds) {
    const name = `bench-driver-${(runs += 1)}-${Date.now()}`;
    const storage = await IndexedDbRaftStorage.open(name, { durability });
    const batchSizes: number[] = [];
    // Count the entries of every write the driver issues (its merged batches).
    const writeBatch = storage.writeBatch.bind(storage);
    storage.writeBatch = (batch: StorageBatch) => {
      if (batch.entries.length > 0) batchSizes.push(batch.entries.length);
      return writeBatch(batch);
    };
    const id = nodeId('bench');
    const node = await createRaftNode({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage });
    await node.awaitLeadership();
    let commits = 0;
    let running = true;
    const lane = async (): Promise<void> => {
      while (running) {
        await node.propose(command);
        commits += 1;
      }
    };
    const lanes = Array.from({ length: inFlight }, lane);
    await new Promise((resolve) => setTimeout(resolve, 500)); // warm-up
    const startCommits = commits;
    const startBatches = batchSizes.length;
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const elapsed = (performance.now() - started) / 1000;
    const measured = commits - startCommits;
    const sizes = batchSizes.slice(startBatches).sort((left, right) => left - right);
    running = false;
    await Promise.all(lanes);
    await node.close();
    storage.close();
    await IndexedDbRaftStorage.destroy(name);
    const at = (fraction: number): number => sizes[Math.min(sizes.length - 1, Math.floor(sizes.length * fraction))] ?? 0;
    return { commitsPerSecond: measured / elapsed, meanBatch: sizes.reduce((sum, size) => sum + size, 0) / Math.max(1, sizes.length), p50Batch: at(0.5), p90Batch: at(0.9), writes: sizes.length };
  },
};
