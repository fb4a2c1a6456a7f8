// Hellos that name a peer's own id (README "Lying hellos"). A peer on empty storage whose id the
// room still lists must not run under it (SPEC "Wedge": it could vote again in terms it voted
// in), so discovery gives such an id up; but a hello is anyone's word. Review s52 found both
// sides open: only the newest claim was checked, so a stranger claiming a higher term made a
// wiped member run under its old id, and a stranger naming each fresh id a newcomer took made it
// give every one up and fail its join. Now any claim listing an id that may have run a node
// gives it up, and a claim listing an id that never ran one is known to be false.
import { describe, expect, it } from 'vitest';
import type { NodeId } from '../core/types.ts';
import { nodeId } from '../core/types.ts';
import { encodeHello } from './room-channel.ts';
import { bootstrapKey } from './room-identity.ts';
import { arrive, depart, type PeerEnvironment } from './room-simulation-peers.test-support.ts';
import { settleWithin, simulatedRoom } from './simulated-room.test-support.ts';

/** a, b, c arrive and form three voters; `joinedAs` records every id c joins under. */
async function threeVoters(seed: number) {
  const test = simulatedRoom(seed);
  const joinedAs: NodeId[] = [];
  const environment: PeerEnvironment = { ...test.environment, onJoined: (peer, room) => void (peer.id === 'c' ? joinedAs.push(room.id) : undefined) };
  const names = ['a', 'b', 'c'];
  for (const name of names) {
    arrive(environment, test.peer(name));
    await test.clock.advance(300);
  }
  const voters = (): readonly NodeId[] => test.leaderOf(names)?.room?.node.membership.value.voters ?? [];
  expect(await test.clock.runUntil(() => voters().length === 3, { timeoutMs: 10_000 })).toBe(true);
  return { test, environment, joinedAs, names, voters };
}

/** a, b, c form three voters and acknowledge a write; c leaves and its node storage is wiped (its identity kept), unless `keepStorage`. */
async function wipedMember(seed: number, { keepStorage = false } = {}) {
  const { test, environment, joinedAs, names, voters } = await threeVoters(seed);
  expect(await settleWithin(test.clock, test.leaderOf(names)!.room!.store.dispatch({ type: 'put', key: 'x', value: 'acknowledged' }), 5_000)).toBe('fulfilled');
  await test.clock.advance(500);
  joinedAs.length = 0;
  depart(environment, test.peer('c'));
  if (!keepStorage) test.peer('c').storages.delete(nodeId('c')); // the log, term and vote gone; the saved id kept
  await test.clock.advance(1_000);
  return { test, environment, joinedAs, voters };
}

describe("a member back on wiped storage under its old id, while a stranger's hello claims a newer cluster", () => {
  it('with no stranger, c is refused its old id and joins under a fresh one', async () => {
    const { test, environment, joinedAs } = await wipedMember(5202);
    arrive(environment, test.peer('c'));
    expect(await test.clock.runUntil(() => joinedAs.length > 0, { timeoutMs: 20_000 })).toBe(true);
    expect(joinedAs[0]).not.toBe('c');
    await test.close();
  });

  it('a stranger claiming a cluster in a higher term does not make c start a node under its old id on empty storage', async () => {
    const { test, environment, joinedAs, voters } = await wipedMember(5202);
    // Anyone the transport reaches (an open room: anyone who knows its name).
    test.liar('z', { type: 'hello', visible: true, member: true, voters: [nodeId('z')], term: 1_000_000, leader: nodeId('z') });
    arrive(environment, test.peer('c'));
    expect(await test.clock.runUntil(() => joinedAs.length > 0, { timeoutMs: 20_000 })).toBe(true);
    // The room still lists c as a voter: a node under c on empty storage is what SPEC "Wedge" forbids.
    expect(voters()).toContain(nodeId('c'));
    expect(joinedAs[0]).not.toBe('c');
    await test.close();
  });
});

describe('an id whose identity store holds no bootstrap, taken for one no node ever ran under', () => {
  it('is one no longer once its node restarted from a log: wiped after, it is refused as any member is', async () => {
    const { test, environment, joinedAs } = await wipedMember(5208, { keepStorage: true });
    // c's identity store lost its bootstrap record (a store restored in part, or a log from elsewhere).
    await test.peer('c').identity.delete(bootstrapKey('sim'));
    arrive(environment, test.peer('c'));
    expect(await test.clock.runUntil(() => joinedAs.length > 0, { timeoutMs: 20_000 })).toBe(true);
    expect(joinedAs[0]).toBe('c');
    await test.clock.advance(1_000);
    depart(environment, test.peer('c'));
    test.peer('c').storages.delete(nodeId('c'));
    await test.clock.advance(1_000);
    arrive(environment, test.peer('c'));
    expect(await test.clock.runUntil(() => joinedAs.length > 1, { timeoutMs: 20_000 })).toBe(true);
    expect(joinedAs[1]).not.toBe('c');
    await test.close();
  });
});

describe('a member back on wiped storage under its old id, while a stranger names the real voters without it in a higher term', () => {
  it('is never left running under its old id as one of the room voters (it would vote again in terms it voted in)', async () => {
    const { test, environment, joinedAs, voters } = await threeVoters(5203);
    joinedAs.length = 0;
    depart(environment, test.peer('c'));
    test.peer('c').storages.delete(nodeId('c'));
    await test.clock.advance(1_000);
    // The lie names the room's real voters a and b (so c follows their leader) and leaves c out.
    const liar = test.liar('z', { type: 'hello', visible: true, member: true, voters: [nodeId('a'), nodeId('b'), nodeId('z')], term: 1_000_000, leader: nodeId('a') });
    arrive(environment, test.peer('c'));
    expect(await test.clock.runUntil(() => joinedAs.length > 0, { timeoutMs: 20_000 })).toBe(true);
    liar.stop();
    await test.clock.advance(20_000);
    const c = test.peer('c').room;
    expect({ id: c?.id, aVoterOfTheRoom: c !== null && c !== undefined && voters().includes(c.id), emptyStorageUnderOldId: joinedAs[0] === 'c' }).toEqual({ id: expect.not.stringMatching(/^c$/), aVoterOfTheRoom: true, emptyStorageUnderOldId: false });
    await test.close();
  });
});

describe("a stranger whose hello names each newcomer's id as a voter", () => {
  it('does not keep newcomers out of the room for good (each join burns its ids and fails)', async () => {
    const test = simulatedRoom(5205);
    const names = ['a', 'b', 'c'];
    for (const name of names) {
      arrive(test.environment, test.peer(name));
      await test.clock.advance(300);
    }
    const config = () => test.leaderOf(names)?.room?.node.membership.value;
    expect(await test.clock.runUntil(() => config()?.voters.length === 3, { timeoutMs: 10_000 })).toBe(true);
    // The stranger runs no node; to each peer that becomes reachable (any fresh id the newcomer
    // takes next included) it says that peer is a voter of a cluster in a high term.
    const stranger = test.network.transport(nodeId('z'));
    stranger.incoming.subscribe(() => {});
    const members = new Set(names);
    const tell = (to: NodeId): void => void stranger.send(to, encodeHello({ type: 'hello', visible: true, member: true, voters: [to, nodeId('z')], term: 1_000_000, leader: nodeId('z') }));
    let known = new Set<NodeId>(stranger.peers.value);
    stranger.peers.subscribe((peers) => {
      for (const to of peers) if (!known.has(to) && !members.has(to)) tell(to);
      known = new Set(peers);
    });
    const repeat = (): void => {
      for (const to of stranger.peers.value) if (!members.has(to)) tell(to);
      test.clock.setTimeout(repeat, 100);
    };
    repeat();
    const newcomer = test.peer('n');
    arrive(test.environment, newcomer);
    const admitted = (): boolean => {
      const id = newcomer.room?.id;
      const current = config();
      return id !== undefined && current !== undefined && [...current.voters, ...(current.learners ?? [])].includes(id);
    };
    const ok = await test.clock.runUntil(admitted, { timeoutMs: 30_000 });
    const discarded = test.events.filter(({ peer, event }) => peer === 'n' && event.type === 'storageDiscarded').length;
    expect({ admitted: ok, idsGivenUp: discarded }).toEqual({ admitted: true, idsGivenUp: 0 });
    await test.close();
  });
});
