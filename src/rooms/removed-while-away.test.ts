import { describe, expect, it } from 'vitest';
import { nodeId, type NodeId } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { readStoredNodeState } from '../storage/stored-node-state.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import type { RoomHello } from './room-channel.ts';
import type { HeardHello, RoomPresence } from './room-presence.ts';
import { removedWhileAway } from './removed-while-away.ts';

const [a, b, c] = ['a', 'b', 'c'].map(nodeId) as [NodeId, NodeId, NodeId];

function presenceOf(hellos: Record<string, Partial<RoomHello>>): RoomPresence {
  const recent = new Map<NodeId, HeardHello>(
    Object.entries(hellos).map(([peer, hello]) => [nodeId(peer), { hello: { type: 'hello', visible: true, member: true, voters: null, term: 0, leader: null, ...hello }, at: 0 }]),
  );
  return { heard: (peer) => recent.get(peer), recent: () => recent, describeSelf: () => {}, close: () => {} };
}

/** Storage of a voter `a` in {a, b} at term 3. */
async function voterStorage(): Promise<InMemoryRaftStorage> {
  const storage = new InMemoryRaftStorage();
  await storage.saveTermAndVotedFor(3, null);
  await storage.appendEntries([{ index: 1, term: 3, command: new Uint8Array(), isNoOp: false, config: { old: null, new: { voters: [a, b] } } }]);
  return storage;
}

async function check(storage: InMemoryRaftStorage, hellos: Record<string, Partial<RoomHello>>): Promise<boolean> {
  const clock = new VirtualClock();
  const verdict = removedWhileAway({ selfId: a, stored: await readStoredNodeState(storage), bootstrap: { voters: [a] }, presence: presenceOf(hellos), clock, waitMs: 1_000, pollMs: 100 });
  await clock.advance(1_100);
  return verdict;
}

describe('removedWhileAway', () => {
  it('a voter whose room now names voters without it, in a newer term, was removed', async () => {
    expect(await check(await voterStorage(), { b: { voters: [b, c], term: 5 } })).toBe(true);
  });

  it('was removed when one member says so, though a member that has yet to learn of the change (heard first) still lists it', async () => {
    // Stored voters {a, b, c}: b lags, c has the change that removed a.
    const storage = new InMemoryRaftStorage();
    await storage.saveTermAndVotedFor(3, null);
    await storage.appendEntries([{ index: 1, term: 3, command: new Uint8Array(), isNoOp: false, config: { old: null, new: { voters: [a, b, c] } } }]);
    expect(await check(storage, { b: { voters: [a, b, c], term: 4 }, c: { voters: [b, c], term: 4 } })).toBe(true);
  });

  it('still listed, an older term, nobody heard, or a learner: start as before', async () => {
    expect(await check(await voterStorage(), { b: { voters: [a, b], term: 5 } })).toBe(false);
    expect(await check(await voterStorage(), { b: { voters: [b, c], term: 2 } })).toBe(false);
    expect(await check(await voterStorage(), {})).toBe(false);
    const learner = new InMemoryRaftStorage();
    await learner.appendEntries([{ index: 1, term: 3, command: new Uint8Array(), isNoOp: false, config: { old: null, new: { voters: [b], learners: [a] } } }]);
    expect(await check(learner, { b: { voters: [b, c], term: 5 } })).toBe(false);
  });

  it('a peer its stored configuration does not list is not believed: a hello is a claim anyone reachable can make', async () => {
    expect(await check(await voterStorage(), { z: { voters: [nodeId('z')], term: 1_000_000 } })).toBe(false);
    // A learner of its configuration is a member it knows.
    const withLearner = new InMemoryRaftStorage();
    await withLearner.saveTermAndVotedFor(3, null);
    await withLearner.appendEntries([{ index: 1, term: 3, command: new Uint8Array(), isNoOp: false, config: { old: null, new: { voters: [a, b], learners: [c] } } }]);
    expect(await check(withLearner, { c: { voters: [b, c], term: 5 } })).toBe(true);
  });
});
