import { describe, expect, it } from 'vitest';
import { nodeId, type LogEntry } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { CrashableStorage } from './crashable-storage.ts';
import { seededRandom } from './seeded-random.ts';
import { VirtualClock } from './virtual-clock.ts';

const entry = (index: number, term = 1): LogEntry => ({ index, term, command: new Uint8Array([index]), isNoOp: false });

function setup(maxWriteDelayMs = 10): { clock: VirtualClock; durable: InMemoryRaftStorage; storage: CrashableStorage } {
  const clock = new VirtualClock();
  const durable = new InMemoryRaftStorage();
  return { clock, durable, storage: new CrashableStorage(durable, clock, seededRandom(1), maxWriteDelayMs) };
}

describe('CrashableStorage', () => {
  it('a write reaches the durable store only when its virtual delay has passed, then resolves', async () => {
    const { clock, durable, storage } = setup();
    let done = false;
    void storage.saveTermAndVotedFor(2, nodeId('a')).then(() => (done = true));
    await clock.advance(0);
    expect(await durable.term()).toBe(0);
    expect(await storage.term()).toBe(0);
    expect(done).toBe(false);
    await clock.advance(10);
    expect(done).toBe(true);
    expect(await durable.term()).toBe(2);
  });

  it('applies writes in the order they were issued, whatever their random delays', async () => {
    const { clock, durable, storage } = setup(50);
    const resolved: number[] = [];
    for (let index = 1; index <= 20; index += 1) void storage.appendEntries([entry(index)]).then(() => resolved.push(index));
    await clock.advance(2_000);
    expect(resolved).toEqual(Array.from({ length: 20 }, (_, position) => position + 1));
    expect((await durable.entries()).map((stored) => stored.index)).toEqual(resolved);
  });

  it('crash() loses every write not yet applied; those promises never settle; later calls reject', async () => {
    const { clock, durable, storage } = setup(10);
    await Promise.all([storage.appendEntries([entry(1)]), clock.advance(10)]);
    const settled: string[] = [];
    void storage.appendEntries([entry(2)]).then(
      () => settled.push('resolved'),
      () => settled.push('rejected'),
    );
    expect(storage.pendingWrites).toBe(1);
    storage.crash();
    expect(storage.crashed).toBe(true);
    await clock.advance(100);
    expect(settled).toEqual([]);
    expect((await durable.entries()).map((stored) => stored.index)).toEqual([1]);
    await expect(storage.entries()).rejects.toThrow(/crashed/);
    await expect(storage.truncateFrom(1)).rejects.toThrow(/crashed/);
  });

  it('a restart is a new wrapper on the same durable store: it sees exactly what landed', async () => {
    const { clock, durable, storage } = setup(5);
    void storage.writeBatch({ hardState: { term: 3, votedFor: null }, entries: [entry(1, 3)] });
    await clock.advance(5);
    void storage.appendEntries([entry(2, 3)]);
    storage.crash();
    const restarted = new CrashableStorage(durable, clock, seededRandom(2), 5);
    expect(await restarted.term()).toBe(3);
    expect((await restarted.entries()).map((stored) => stored.index)).toEqual([1]);
  });

  it('a write that breaks the log invariant rejects when it lands', async () => {
    const { clock, storage } = setup(1);
    const outcome = storage.appendEntries([entry(5)]).then(
      () => 'resolved',
      (error: unknown) => String(error),
    );
    await clock.advance(1);
    expect(await outcome).toMatch(/expected index 1/);
  });
  describe('armSnapshotCrash', () => {
    const meta = { lastIncludedIndex: 3, lastIncludedTerm: 1, config: { old: null, new: { voters: [nodeId('a')] } } };

    /** The driver's snapshot sequence (write-queue.ts writeMerged), each write awaited; what completed. */
    async function snapshotSequence(storage: CrashableStorage, clock: VirtualClock): Promise<string[]> {
      const completed: string[] = [];
      const sequence = (async () => {
        await storage.writeBatch({ hardState: { term: 1, votedFor: null }, entries: [] });
        completed.push('batch');
        await storage.saveSnapshot(meta, new Uint8Array([9]));
        completed.push('snapshot');
        await storage.discardLogPrefix(3);
        completed.push('discard');
        await storage.appendEntries([entry(4)]);
        completed.push('append');
      })();
      void sequence;
      await clock.advance(500);
      return completed;
    }

    it('crashes once the given number of writes from the snapshot on have landed; the last one is durable and its caller never hears', async () => {
      for (const writesToLand of [0, 1, 2, 3]) {
        const { clock, durable, storage } = setup(5);
        await Promise.all([storage.appendEntries([entry(1), entry(2), entry(3)]), clock.advance(5)]);
        let crashes = 0;
        storage.armSnapshotCrash(writesToLand, () => {
          crashes += 1;
          storage.crash();
          return true;
        });
        const completed = await snapshotSequence(storage, clock);
        expect(crashes).toBe(1);
        expect(storage.crashed).toBe(true);
        expect(completed).toEqual(['batch', 'snapshot', 'discard', 'append'].slice(0, Math.max(1, writesToLand)));
        // What landed: the snapshot from 1 on, the discard from 2 on, the append at 3.
        expect((await durable.loadSnapshot())?.meta.lastIncludedIndex ?? null).toBe(writesToLand >= 1 ? 3 : null);
        expect((await durable.entries()).map((stored) => stored.index)).toEqual(writesToLand === 0 || writesToLand === 1 ? [1, 2, 3] : writesToLand === 2 ? [] : [4]);
      }
    });

    it('strikes only at a snapshot write, once; disarm() and a crash take it back', async () => {
      const { clock, storage } = setup(5);
      let crashes = 0;
      storage.armSnapshotCrash(0, () => (crashes += 1) > 0);
      await Promise.all([storage.appendEntries([entry(1)]), storage.writeBatch({ entries: [entry(2)] }), clock.advance(20)]);
      expect(crashes).toBe(0);
      storage.disarm();
      await Promise.all([storage.saveSnapshot(meta, new Uint8Array([1])), clock.advance(20)]);
      expect(crashes).toBe(0);
      storage.armSnapshotCrash(0, () => (crashes += 1) > 0);
      storage.crash();
      const restarted = new CrashableStorage(storage.durable, clock, seededRandom(2), 5);
      await Promise.all([restarted.saveSnapshot(meta, new Uint8Array([2])), clock.advance(20)]);
      expect(crashes).toBe(0);
    });

    it('a tripwire whose crash did not happen (the node was down already) answers the write as usual', async () => {
      for (const writesToLand of [0, 1]) {
        const { clock, durable, storage } = setup(5);
        storage.armSnapshotCrash(writesToLand, () => false);
        let answered = false;
        void storage.saveSnapshot(meta, new Uint8Array([3])).then(() => (answered = true));
        await clock.advance(20);
        expect(answered).toBe(true);
        expect((await durable.loadSnapshot())?.meta.lastIncludedIndex).toBe(3);
      }
    });
  });
});
