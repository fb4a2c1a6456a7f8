import { describe, expect, it } from 'vitest';
import { nodeId, type LogEntry } from '../core/types.ts';
import { InMemoryRaftStorage } from './in-memory-storage.ts';

const entry = (index: number, term = 1, text = `e${index}`): LogEntry => ({ index, term, command: new TextEncoder().encode(text), isNoOp: false });
const range = (from: number, to: number, term = 1): LogEntry[] => Array.from({ length: to - from + 1 }, (_, position) => entry(from + position, term));
const indices = (entries: readonly LogEntry[]): number[] => entries.map((stored) => stored.index);

describe('InMemoryRaftStorage', () => {
  it('starts empty: term 0, no vote, no leader pin, no entries, no snapshot', async () => {
    const storage = new InMemoryRaftStorage();
    expect(await storage.term()).toBe(0);
    expect(await storage.votedFor()).toBeNull();
    expect(await storage.leaderForTerm()).toBeNull();
    expect(await storage.entries()).toEqual([]);
    expect(await storage.loadSnapshot()).toBeNull();
  });

  it('keeps term and vote together, and the leader pin', async () => {
    const storage = new InMemoryRaftStorage();
    await storage.saveTermAndVotedFor(3, nodeId('b'));
    await storage.saveLeaderForTerm(3, nodeId('c'));
    expect(await storage.term()).toBe(3);
    expect(await storage.votedFor()).toBe('b');
    const pin = await storage.leaderForTerm();
    expect(pin).toEqual({ term: 3, leaderId: 'c' });
    (pin as { term: number }).term = 99;
    expect(await storage.leaderForTerm()).toEqual({ term: 3, leaderId: 'c' });
  });

  it('appends contiguously and reads from an index', async () => {
    const storage = new InMemoryRaftStorage();
    await storage.appendEntries(range(1, 3));
    await storage.appendEntries(range(4, 5, 2));
    expect(indices(await storage.entries())).toEqual([1, 2, 3, 4, 5]);
    expect(indices(await storage.entries(4))).toEqual([4, 5]);
    expect(indices(await storage.entries(9))).toEqual([]);
    expect((await storage.entries(5))[0]?.term).toBe(2);
  });

  it('refuses an append that leaves a gap or overlaps, changing nothing', async () => {
    const storage = new InMemoryRaftStorage();
    await storage.appendEntries(range(1, 2));
    await expect(storage.appendEntries([entry(4)])).rejects.toThrow(/expected index 3, got 4/);
    await expect(storage.appendEntries([entry(2)])).rejects.toThrow(/contiguous/);
    await expect(storage.appendEntries([entry(3), entry(5)])).rejects.toThrow(/expected index 4, got 5/);
    expect(indices(await storage.entries())).toEqual([1, 2]);
  });

  it('returns copies: mutating a returned array or snapshot changes nothing stored', async () => {
    const storage = new InMemoryRaftStorage();
    await storage.appendEntries(range(1, 2));
    const read = await storage.entries();
    read.pop();
    expect(indices(await storage.entries())).toEqual([1, 2]);
    const state = new Uint8Array([1, 2, 3]);
    await storage.saveSnapshot({ lastIncludedIndex: 2, lastIncludedTerm: 1 }, state);
    state[0] = 9;
    const loaded = await storage.loadSnapshot();
    expect([...(loaded?.state ?? [])]).toEqual([1, 2, 3]);
    loaded?.state.fill(0);
    expect([...((await storage.loadSnapshot())?.state ?? [])]).toEqual([1, 2, 3]);
  });

  it('truncateFrom removes the index and everything after it', async () => {
    const storage = new InMemoryRaftStorage();
    await storage.appendEntries(range(1, 5));
    await storage.truncateFrom(4);
    expect(indices(await storage.entries())).toEqual([1, 2, 3]);
    await storage.truncateFrom(10);
    expect(indices(await storage.entries())).toEqual([1, 2, 3]);
    await storage.appendEntries([entry(4, 3)]);
    expect(indices(await storage.entries())).toEqual([1, 2, 3, 4]);
  });

  it('discardLogPrefix removes through the index; appends continue after the floor', async () => {
    const storage = new InMemoryRaftStorage();
    await storage.appendEntries(range(1, 6));
    await storage.discardLogPrefix(3);
    expect(indices(await storage.entries())).toEqual([4, 5, 6]);
    expect(indices(await storage.entries(1))).toEqual([4, 5, 6]);
    expect(indices(await storage.entries(5))).toEqual([5, 6]);
    await storage.discardLogPrefix(2);
    expect(indices(await storage.entries())).toEqual([4, 5, 6]);
    await storage.discardLogPrefix(10);
    expect(await storage.entries()).toEqual([]);
    await expect(storage.appendEntries([entry(7)])).rejects.toThrow(/expected index 11/);
    await storage.appendEntries([entry(11)]);
    expect(indices(await storage.entries())).toEqual([11]);
  });

  it('an empty log accepts the first entry after a stored snapshot', async () => {
    const storage = new InMemoryRaftStorage();
    await storage.saveSnapshot({ lastIncludedIndex: 40, lastIncludedTerm: 2 }, new Uint8Array([7]));
    await storage.appendEntries([entry(41, 2), entry(42, 2)]);
    expect(indices(await storage.entries())).toEqual([41, 42]);
    await expect(storage.appendEntries([entry(41, 2)])).rejects.toThrow(/expected index 43/);
  });

  it('writeBatch applies hard state, pin, truncation and append in one step', async () => {
    const storage = new InMemoryRaftStorage();
    await storage.appendEntries(range(1, 5));
    await storage.writeBatch({ hardState: { term: 4, votedFor: nodeId('a') }, leaderForTerm: { term: 4, leaderId: nodeId('a') }, truncateFrom: 3, entries: [entry(3, 4), entry(4, 4)] });
    expect(await storage.term()).toBe(4);
    expect(await storage.votedFor()).toBe('a');
    expect(await storage.leaderForTerm()).toEqual({ term: 4, leaderId: 'a' });
    expect((await storage.entries()).map((stored) => `${stored.index}:${stored.term}`)).toEqual(['1:1', '2:1', '3:4', '4:4']);
  });

  it('writeBatch is all or nothing: an invalid append changes nothing', async () => {
    const storage = new InMemoryRaftStorage();
    await storage.appendEntries(range(1, 5));
    await expect(storage.writeBatch({ hardState: { term: 9, votedFor: null }, truncateFrom: 3, entries: [entry(5, 9)] })).rejects.toThrow(/expected index 3/);
    expect(await storage.term()).toBe(0);
    expect(indices(await storage.entries())).toEqual([1, 2, 3, 4, 5]);
  });

  it('writeBatch is atomic to concurrent readers (no half-applied state is visible)', async () => {
    const storage = new InMemoryRaftStorage();
    await storage.appendEntries(range(1, 5));
    const write = storage.writeBatch({ truncateFrom: 2, entries: [entry(2, 2), entry(3, 2)] });
    const read = storage.entries();
    await write;
    expect((await read).map((stored) => `${stored.index}:${stored.term}`)).toEqual(['1:1', '2:2', '3:2']);
  });

  it('writeBatch truncating below the compaction floor empties the log and appends at the floor', async () => {
    const storage = new InMemoryRaftStorage();
    await storage.appendEntries(range(1, 5));
    await storage.discardLogPrefix(2);
    await storage.writeBatch({ truncateFrom: 1, entries: [entry(3, 5)] });
    expect((await storage.entries()).map((stored) => `${stored.index}:${stored.term}`)).toEqual(['3:5']);
  });

  it('handles a long log quickly (array offset, no per-entry copies)', async () => {
    const storage = new InMemoryRaftStorage();
    const batch = range(1, 1_000);
    for (let round = 0; round < 200; round += 1) {
      await storage.appendEntries(batch.map((stored) => ({ ...stored, index: stored.index + round * 1_000 })));
    }
    expect((await storage.entries(199_999)).length).toBe(2);
    await storage.discardLogPrefix(150_000);
    expect((await storage.entries()).length).toBe(50_000);
  });
});
