import { describe, expect, it } from 'vitest';
import { nodeId, type NodeId } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import type { RoomHello } from './room-channel.ts';
import type { HeardHello, RoomPresence } from './room-presence.ts';
import { restartVerdict, type RestartVerdict } from './removed-while-away.ts';

const [a, b, c, e] = ['a', 'b', 'c', 'e'].map(nodeId) as [NodeId, NodeId, NodeId, NodeId];

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

async function check(storage: InMemoryRaftStorage, hellos: Record<string, Partial<RoomHello>>, giveUpIfLeaderUnknown = true): Promise<RestartVerdict> {
  const clock = new VirtualClock();
  const verdict = restartVerdict({ selfId: a, storage, bootstrap: { voters: [a] }, presence: presenceOf(hellos), clock, waitMs: 1_000, pollMs: 100, giveUpIfLeaderUnknown });
  await clock.advance(1_100);
  return verdict;
}

/** Storage of a learner `a` of the voters {b} at term 3. */
async function learnerStorage(): Promise<InMemoryRaftStorage> {
  const storage = new InMemoryRaftStorage();
  await storage.saveTermAndVotedFor(3, null);
  await storage.appendEntries([{ index: 1, term: 3, command: new Uint8Array(), isNoOp: false, config: { old: null, new: { voters: [b], learners: [a] } } }]);
  return storage;
}

describe('restartVerdict: removed while away', () => {
  it('a voter whose room now names voters without it, in a newer term, was removed', async () => {
    expect(await check(await voterStorage(), { b: { voters: [b, c], term: 5 } })).toBe('removedWhileAway');
  });

  it('still listed, an older term, nobody heard, or a learner: start as before', async () => {
    expect(await check(await voterStorage(), { b: { voters: [a, b], term: 5 } })).toBe('restart');
    expect(await check(await voterStorage(), { b: { voters: [b, c], term: 2 } })).toBe('restart');
    expect(await check(await voterStorage(), {})).toBe('restart');
    expect(await check(await learnerStorage(), { b: { voters: [b, c], term: 5 } })).toBe('restart');
  });
});

// The room's leader e was promoted while `a` was away: a's stored configuration {a, b} does not
// list it, so a's node would refuse its every frame (SPEC "Leader authority") and follow no one.
describe('restartVerdict: a leader the stored configuration does not know', () => {
  it('gives the id up though the room still lists it as a voter (before the fix: restart, then a wedge window)', async () => {
    expect(await check(await voterStorage(), { b: { voters: [a, b, e], term: 5, leader: e }, e: { voters: [a, b, e], term: 5, leader: e } })).toBe('leaderUnknown');
  });

  it('a learner too', async () => {
    expect(await check(await learnerStorage(), { e: { voters: [b, e], term: 5, leader: e } })).toBe('leaderUnknown');
  });

  it('waits for the named leader own hello rather than restart on a member word that it is listed', async () => {
    const clock = new VirtualClock();
    const hellos = new Map<NodeId, HeardHello>([[b, { hello: { type: 'hello', visible: true, member: true, voters: [a, b, e], term: 5, leader: e }, at: 0 }]]);
    const presence: RoomPresence = { heard: (peer) => hellos.get(peer), recent: () => hellos, describeSelf: () => {}, close: () => {} };
    let verdict: RestartVerdict | null = null;
    void restartVerdict({ selfId: a, storage: await voterStorage(), bootstrap: { voters: [a] }, presence, clock, waitMs: 1_000, pollMs: 100, giveUpIfLeaderUnknown: true }).then((value) => (verdict = value));
    await clock.advance(300);
    expect(verdict).toBeNull();
    hellos.set(e, { hello: { type: 'hello', visible: true, member: true, voters: [a, b, e], term: 5, leader: e }, at: 300 });
    await clock.advance(200);
    expect(verdict).toBe('leaderUnknown');
    // And with no word from that leader, it restarts once the wait is over, as before.
    expect(await check(await voterStorage(), { b: { voters: [a, b, e], term: 5, leader: e } })).toBe('restart');
  });

  it('keeps the id while any leader it would follow speaks (a zombie elsewhere), for its pinned leader, for an older term, and for a fixed id', async () => {
    const zombieToo = { b: { voters: [a, b], term: 6, leader: b }, e: { voters: [a, b, e], term: 5, leader: e } };
    expect(await check(await voterStorage(), zombieToo)).toBe('restart');
    const pinned = await voterStorage();
    await pinned.saveTermAndVotedFor(5, null);
    await pinned.saveLeaderForTerm(5, e);
    expect(await check(pinned, { e: { voters: [a, b, e], term: 5, leader: e } })).toBe('restart');
    expect(await check(await voterStorage(), { e: { voters: [a, b, e], term: 2, leader: e } })).toBe('restart');
    expect(await check(await voterStorage(), { e: { voters: [a, b, e], term: 5, leader: e } }, false)).toBe('restart');
  });
});
