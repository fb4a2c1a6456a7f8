// In real Chromium: workerNodeFactory reads an id's IndexedDB storage in a module worker and then
// starts the id's node on that same worker (what joinRoom does on every start with an engine in a
// worker). The node must find the log the read saw, across a restart, after full garbage
// collections between the read and the start: Comlink releases the worker's endpoint once the
// page's last proxy for it is collected, so a reader whose proxy were let go while it waited would
// never answer its node's start.
import { describe, expect, it } from 'vitest';
import { nodeId } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { IndexedDbRaftStorage } from '../storage/indexeddb-storage.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';
import { createEntryWorker, type WorkerEndpoint } from './worker-client.ts';
import { workerNodeFactory } from './worker-node-factory.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/**
 * Full collections (the browser project runs Chromium with --expose-gc), each followed by a pause
 * in which FinalizationRegistry callbacks, Comlink's release among them, run.
 */
async function collectGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  expect(typeof gc).toBe('function');
  for (let round = 0; round < 3; round += 1) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('workerNodeFactory in Chromium: the reader hosts the node', () => {
  it('read, start on the reader, write, close; read again, start again on that reader, and the log is there', async () => {
    const name = `reader-reuse-${crypto.randomUUID()}`;
    const created: WorkerEndpoint[] = [];
    const factory = workerNodeFactory({
      storage: () => ({ type: 'indexeddb', name }),
      worker: () => {
        const worker = createEntryWorker('reader-reuse test');
        created.push(worker);
        return worker;
      },
    });
    const id = nodeId('tab');
    const start = () => factory({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage: new InMemoryRaftStorage() });
    try {
      expect(await factory.readStoredState(id)).toEqual({ holdsLog: false, term: 0, configurations: [] });
      await collectGarbage();
      const first = await start();
      await first.awaitLeadership();
      const written = await first.propose(bytes('before the reload'));
      await first.close();
      expect(await factory.readStoredState(id)).toMatchObject({ holdsLog: true });
      await collectGarbage();
      const again = await start();
      await again.awaitLeadership();
      expect((await again.propose(bytes('after the reload'))).index).toBeGreaterThan(written.index);
      await again.close();
      // One worker per read, each of which hosted the node that followed it.
      expect(created).toHaveLength(2);
    } finally {
      await IndexedDbRaftStorage.destroy(name);
    }
  });

  it('a read of an id whose database does not exist creates none (a join aborted after its read left it behind, empty)', async () => {
    const name = `reader-absent-${crypto.randomUUID()}`;
    const factory = workerNodeFactory({ storage: () => ({ type: 'indexeddb', name }), keepReaderMs: 0 });
    expect(await factory.readStoredState(nodeId('never-ran'))).toEqual({ holdsLog: false, term: 0, configurations: [] });
    const names = (await indexedDB.databases()).map((database) => database.name);
    expect(names.filter((each) => each?.includes(name))).toEqual([]);
  });
});
