import 'fake-indexeddb/auto';
import { describe, it, expect } from 'vitest';
import { InMemoryRaftStorage, IndexedDbRaftStorage, nodeId, clientId, type RaftStorage, type LogEntry } from '../../index.ts';

const E = (index: number, term: number, extra: Partial<LogEntry> = {}): LogEntry => ({ index, term, command: new Uint8Array([index, 7]), isNoOp: false, ...extra });
let n = 0;
const kinds: [string, () => Promise<{ s: RaftStorage; reopen: () => Promise<RaftStorage>; close: () => void }>][] = [
  ['InMemory', async () => { const s = new InMemoryRaftStorage(); return { s, reopen: async () => s, close: () => {} }; }],
  ['IndexedDb', async () => {
    const name = `bb-${n++}`;
    let s = await IndexedDbRaftStorage.open(name);
    return { s, reopen: async () => { s.close(); s = await IndexedDbRaftStorage.open(name); return s; }, close: () => s.close() };
  }],
];

for (const [kind, make] of kinds) {
  describe(`RaftStorage semantics: ${kind}`, () => {
    it('fresh state, hard state, pin', async () => {
      const { s, reopen, close } = await make();
      expect(await s.term()).toBe(0);
      expect(await s.votedFor()).toBeNull();
      expect(await s.leaderForTerm()).toBeNull();
      expect(await s.entries()).toEqual([]);
      expect(await s.loadSnapshot()).toBeNull();
      await s.saveTermAndVotedFor(3, nodeId('b'));
      await s.saveLeaderForTerm(3, nodeId('c'));
      const t = await reopen();
      expect(await t.term()).toBe(3);
      expect(await t.votedFor()).toBe('b');
      expect(await t.leaderForTerm()).toEqual({ term: 3, leaderId: 'c' });
      await t.saveTermAndVotedFor(4, null);
      expect(await t.votedFor()).toBeNull();
      close();
    });
    it('log append, entries(from), truncate, fields round trip', async () => {
      const { s, reopen, close } = await make();
      const cfg = { old: { voters: [nodeId('a')] }, new: { voters: [nodeId('a'), nodeId('b')], learners: [nodeId('c')] } };
      await s.appendEntries([
        { index: 1, term: 1, command: new Uint8Array(), isNoOp: true },
        E(2, 1, { dedupKey: { clientId: clientId('k'), requestId: 9 } }),
        { index: 3, term: 1, command: new Uint8Array(), isNoOp: false, config: cfg },
      ]);
      await s.appendEntries([E(4, 2), E(5, 2)]);
      const t = await reopen();
      const all = await t.entries();
      expect(all.map((e) => e.index)).toEqual([1, 2, 3, 4, 5]);
      expect(all[0]!.isNoOp).toBe(true);
      expect(all[1]!.dedupKey).toEqual({ clientId: 'k', requestId: 9 });
      expect(all[2]!.config).toEqual(cfg);
      expect([...all[3]!.command]).toEqual([4, 7]);
      expect((await t.entries(4)).map((e) => e.index)).toEqual([4, 5]);
      expect(await t.entries(6)).toEqual([]);
      await t.truncateFrom(4);
      expect((await t.entries()).map((e) => e.index)).toEqual([1, 2, 3]);
      await t.appendEntries([E(4, 3)]);
      const u = await reopen();
      expect((await u.entries()).map((e) => [e.index, e.term])).toEqual([[1, 1], [2, 1], [3, 1], [4, 3]]);
      close();
    });
    it('snapshot and prefix discard', async () => {
      const { s, reopen, close } = await make();
      await s.appendEntries([E(1, 1), E(2, 1), E(3, 2), E(4, 2), E(5, 2)]);
      const meta = { lastIncludedIndex: 3, lastIncludedTerm: 2, config: { old: null, new: { voters: [nodeId('a')] } } };
      await s.saveSnapshot(meta, new Uint8Array([1, 2, 3]));
      await s.discardLogPrefix(3);
      const t = await reopen();
      const snap = await t.loadSnapshot();
      expect(snap!.meta).toEqual(meta);
      expect([...snap!.state]).toEqual([1, 2, 3]);
      expect((await t.entries()).map((e) => e.index)).toEqual([4, 5]);
      expect((await t.entries(1)).map((e) => e.index)).toEqual([4, 5]);
      await t.appendEntries([E(6, 3)]);
      expect((await t.entries(5)).map((e) => e.index)).toEqual([5, 6]);
      close();
    });
  });
}
