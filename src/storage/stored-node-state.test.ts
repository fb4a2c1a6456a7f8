// readStoredNodeState: what joinRoom decides a start on (a log or not, the term, the latest stored
// configuration), read from any RaftStorage; the snapshot, whose state can be megabytes, only
// when the log holds no configuration.
import { describe, expect, it } from 'vitest';
import { nodeId, type ConfigPayload, type LogEntry, type NodeId } from '../core/types.ts';
import { InMemoryRaftStorage } from './in-memory-storage.ts';
import { readStoredNodeState } from './stored-node-state.ts';

const [a, b, c] = ['a', 'b', 'c'].map(nodeId) as [NodeId, NodeId, NodeId];

function entry(index: number, config?: ConfigPayload): LogEntry {
  return { index, term: 2, command: new Uint8Array([index]), isNoOp: false, ...(config === undefined ? {} : { config }) };
}

/** Counts snapshot loads, to show the log answers alone when it can. */
function counted(storage: InMemoryRaftStorage): { readonly storage: InMemoryRaftStorage; loads: () => number } {
  let loads = 0;
  const load = storage.loadSnapshot.bind(storage);
  storage.loadSnapshot = () => ((loads += 1), load());
  return { storage, loads: () => loads };
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

  it('the last configuration entry of the log wins, and the snapshot is not loaded for it', async () => {
    const { storage, loads } = counted(new InMemoryRaftStorage());
    await storage.saveTermAndVotedFor(3, null);
    await storage.saveSnapshot({ lastIncludedIndex: 1, lastIncludedTerm: 2, config: { old: null, new: { voters: [a] } } }, new Uint8Array(8));
    await storage.appendEntries([entry(2, { old: null, new: { voters: [a, b] } }), entry(3, { old: { voters: [a, b] }, new: { voters: [a, c], learners: [b] } }), entry(4)]);
    expect(await readStoredNodeState(storage)).toEqual({ holdsLog: true, term: 3, configurations: [{ voters: [a, c], learners: [b] }, { voters: [a, b] }] });
    expect(loads()).toBe(0);
  });

  it("a log without a configuration entry falls back to the snapshot's; neither gives none", async () => {
    const { storage, loads } = counted(new InMemoryRaftStorage());
    await storage.saveSnapshot({ lastIncludedIndex: 5, lastIncludedTerm: 2, config: { old: null, new: { voters: [a, b, c] } } }, new Uint8Array(8));
    await storage.appendEntries([entry(6)]);
    expect(await readStoredNodeState(storage)).toEqual({ holdsLog: true, term: 0, configurations: [{ voters: [a, b, c] }] });
    expect(loads()).toBe(1);
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
