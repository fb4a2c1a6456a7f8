import { describe, it, expect } from 'vitest';
import { createRaftNode, InMemoryRaftStorage, nodeId, createLoopbackNetwork, VirtualClock, seededRandom, type LogEntry, type RaftStorage, type StoredSnapshot, type NodeId } from '../../index.ts';

const E = (index: number, term: number, extra: Partial<LogEntry> = {}): LogEntry => ({ index, term, command: new Uint8Array([index]), isNoOp: false, ...extra });

function fake(state: { term?: number; votedFor?: NodeId | null; entries?: LogEntry[]; snapshot?: StoredSnapshot | null; pin?: { term: number; leaderId: NodeId } | null }): RaftStorage {
  const base = new InMemoryRaftStorage();
  let entries = state.entries ?? [];
  let term = state.term ?? 5;
  let voted = state.votedFor ?? null;
  let snap = state.snapshot ?? null;
  let pin = state.pin ?? null;
  return {
    term: async () => term,
    votedFor: async () => voted,
    saveTermAndVotedFor: async (t, v) => { term = t; voted = v; },
    leaderForTerm: async () => pin,
    saveLeaderForTerm: async (t, l) => { pin = { term: t, leaderId: l }; },
    appendEntries: async (es) => { entries = [...entries, ...es]; },
    entries: async (from = 1) => entries.filter((e) => e.index >= from),
    truncateFrom: async (i) => { entries = entries.filter((e) => e.index < i); },
    saveSnapshot: async (meta, s) => { snap = { meta, state: s }; },
    loadSnapshot: async () => snap,
    discardLogPrefix: async (t) => { entries = entries.filter((e) => e.index > t); },
  } satisfies RaftStorage;
  void base;
}

async function open(storage: RaftStorage) {
  const net = createLoopbackNetwork();
  const clock = new VirtualClock();
  const ids = ['a', 'b', 'c'].map(nodeId);
  try {
    const n = await createRaftNode({ id: ids[0]!, clusterConfig: { voters: ids }, transport: net.transport(ids[0]!), storage, raftConfig: { clock, random: seededRandom(3) } });
    const p = n.close(); await clock.advance(50); await p;
    return null;
  } catch (e) { return e as Error; }
}

describe('SPEC Storage contract: restore refuses corrupted state', () => {
  it('accepts a sane log', async () => {
    expect(await open(fake({ term: 3, entries: [E(1, 1), E(2, 2), E(3, 3)] }))).toBeNull();
    expect(await open(fake({ term: 3, snapshot: { meta: { lastIncludedIndex: 4, lastIncludedTerm: 2 }, state: new Uint8Array() }, entries: [E(5, 2), E(6, 3)] }))).toBeNull();
  });
  const bad: [string, Parameters<typeof fake>[0]][] = [
    ['gap in entries', { entries: [E(1, 1), E(2, 1), E(4, 1)] }],
    ['duplicate index', { entries: [E(1, 1), E(2, 1), E(2, 1)] }],
    ['decreasing terms', { entries: [E(1, 2), E(2, 1)] }],
    ['log starts after 1 with no snapshot', { entries: [E(3, 1), E(4, 1)] }],
    ['entry term above stored term', { term: 2, entries: [E(1, 1), E(2, 4)] }],
    ['snapshot term above stored term', { term: 2, snapshot: { meta: { lastIncludedIndex: 3, lastIncludedTerm: 4 }, state: new Uint8Array() } }],
    ['vote for empty id', { term: 2, votedFor: '' as NodeId }],
    ['entries do not follow the snapshot', { snapshot: { meta: { lastIncludedIndex: 5, lastIncludedTerm: 1 }, state: new Uint8Array() }, entries: [E(8, 1)] }],
    ['entry term below snapshot term', { snapshot: { meta: { lastIncludedIndex: 5, lastIncludedTerm: 3 }, state: new Uint8Array() }, entries: [E(6, 2)] }],
    ['snapshot negative index', { snapshot: { meta: { lastIncludedIndex: -1, lastIncludedTerm: 1 }, state: new Uint8Array() } }],
    ['snapshot NaN term', { snapshot: { meta: { lastIncludedIndex: 3, lastIncludedTerm: NaN }, state: new Uint8Array() } }],
    ['snapshot fractional index', { snapshot: { meta: { lastIncludedIndex: 2.5, lastIncludedTerm: 1 }, state: new Uint8Array() } }],
    ['term beyond safe integers', { term: 2 ** 60 }],
    ['negative term', { term: -1 }],
    ['fractional term', { term: 1.5 }],
    ['entry term beyond safe integers', { term: 5, entries: [E(1, 2 ** 60)] }],
    ['entry term NaN', { entries: [E(1, NaN)] }],
    ['entry fractional index', { entries: [E(1.5, 1)] }],
  ];
  for (const [name, st] of bad) {
    it(`refuses: ${name}`, async () => {
      const e = await open(fake(st));
      expect(e).toBeInstanceOf(Error);
      expect(e!.message.length).toBeGreaterThan(10);
    });
  }
});
