// readStoredNodeState: what joinRoom decides a start on (a log or not, the term, the latest stored
// configuration), read from any RaftStorage, counting only entries past the snapshot.
import { describe, expect, it } from 'vitest';
import { nodeId, type ConfigPayload, type LogEntry, type NodeId } from '../core/types.ts';
import { InMemoryRaftStorage } from './in-memory-storage.ts';
import { readStoredNodeState } from './stored-node-state.ts';

const [a, b, c] = ['a', 'b', 'c'].map(nodeId) as [NodeId, NodeId, NodeId];

function entry(index: number, config?: ConfigPayload): LogEntry {
  return { index, term: 2, command: new Uint8Array([index]), isNoOp: false, ...(config === undefined ? {} : { config }) };
}

describe('readStoredNodeState', () => {
  it('empty storage: no log, term 0, no configuration', async () => {
    expect(await readStoredNodeState(new InMemoryRaftStorage())).toEqual({ holdsLog: false, term: 0, configurations: [] });
  });

  it('a term and a vote without a log is still no log (a peer that only voted)', async () => {
    const storage = new InMemoryRaftStorage();
    await storage.saveTermAndVotedFor(4, b);
    expect(await readStoredNodeState(storage)).toEqual({ holdsLog: false, term: 4, configurations: [] });
  });

  it('the last configuration entry of the log past the snapshot wins over the snapshot', async () => {
    const storage = new InMemoryRaftStorage();
    await storage.saveTermAndVotedFor(3, null);
    await storage.saveSnapshot({ lastIncludedIndex: 1, lastIncludedTerm: 2, config: { old: null, new: { voters: [a] } } }, new Uint8Array(8));
    await storage.appendEntries([entry(2, { old: null, new: { voters: [a, b] } }), entry(3, { old: { voters: [a, b] }, new: { voters: [a, c], learners: [b] } }), entry(4)]);
    expect(await readStoredNodeState(storage)).toEqual({ holdsLog: true, term: 3, configurations: [{ voters: [a, c], learners: [b] }, { voters: [a, b] }] });
  });

  it("entries left at or below the snapshot (a compaction cut short) do not count: the snapshot's configuration is the latest", async () => {
    const storage = new InMemoryRaftStorage();
    // An older leader's configuration entry at 4, then a snapshot through 5 installed from the
    // current leader, and the node stopped before it discarded its log through 5.
    await storage.appendEntries([entry(1), entry(2), entry(3), entry(4, { old: null, new: { voters: [a, b] } })]);
    await storage.saveSnapshot({ lastIncludedIndex: 5, lastIncludedTerm: 3, config: { old: null, new: { voters: [b, c] } } }, new Uint8Array(8));
    expect(await readStoredNodeState(storage)).toEqual({ holdsLog: true, term: 0, configurations: [{ voters: [b, c] }] });
  });

  it("a log without a configuration entry falls back to the snapshot's; neither gives none", async () => {
    const storage = new InMemoryRaftStorage();
    await storage.saveSnapshot({ lastIncludedIndex: 5, lastIncludedTerm: 2, config: { old: null, new: { voters: [a, b, c] } } }, new Uint8Array(8));
    await storage.appendEntries([entry(6)]);
    expect(await readStoredNodeState(storage)).toEqual({ holdsLog: true, term: 0, configurations: [{ voters: [a, b, c] }] });
    const bare = new InMemoryRaftStorage();
    await bare.appendEntries([entry(1)]);
    expect(await readStoredNodeState(bare)).toEqual({ holdsLog: true, term: 0, configurations: [] });
  });

  it('a snapshot alone is a log, and the answer is a copy that structured cloning takes', async () => {
    const storage = new InMemoryRaftStorage();
    const voters = [a, b];
    await storage.saveSnapshot({ lastIncludedIndex: 9, lastIncludedTerm: 2, config: { old: null, new: { voters } } }, new Uint8Array(8));
    const state = await readStoredNodeState(storage);
    expect(state).toEqual({ holdsLog: true, term: 0, configurations: [{ voters: [a, b] }] });
    expect(state.configurations[0]?.voters).not.toBe(voters);
    expect(structuredClone(state)).toEqual(state);
  });
});
