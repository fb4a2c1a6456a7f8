// A node stops for good while its page stays (its storage failed: a quota, a database another tab
// deleted; its worker crashed). The room must not go on counting it: its connections and hellos
// once kept it reachable and "a member" for good, so a voter whose node had stopped was never
// replaced (the room stalled after one more departure) and a learner whose node had stopped was
// promoted to voter (review s52). Now the incarnation closes its connections when its node stops
// and says so (`nodeStopped`), and the policy takes a member that stops answering the leader for
// `silentAfterMs` for a lost one, whatever its connections say.
import { describe, expect, it } from 'vitest';
import { RaftStorageError } from '../core/errors.ts';
import type { NodeId } from '../core/types.ts';
import { nodeId } from '../core/types.ts';
import { arrive, depart } from './room-simulation-peers.test-support.ts';
import { failingStorage, settleWithin, simulatedRoom } from './simulated-room.test-support.ts';

describe('a voter whose node stopped while its page stays connected', () => {
  it('is replaced like a departed voter, so the room still survives one more departure', async () => {
    const test = simulatedRoom(5201);
    const names = ['a', 'b', 'c', 'd'];
    // c's node runs on a storage that will fail (disk full, the database deleted by another tab).
    const { storage, failure } = failingStorage();
    test.peer('c').storages.set(nodeId('c'), storage);
    for (const name of ['a', 'b', 'c']) {
      arrive(test.environment, test.peer(name));
      await test.clock.advance(300);
    }
    const voters = (): readonly NodeId[] => test.leaderOf(names)?.room?.node.membership.value.voters ?? [];
    expect(await test.clock.runUntil(() => voters().length === 3 && voters().includes(nodeId('c')), { timeoutMs: 10_000 })).toBe(true);
    // c's storage fails: its node stops for good; the page (and its connections) stays.
    if (test.leaderOf(names)?.id === 'c') throw new Error('seed: c leads, pick another');
    failure.set(new RaftStorageError('the database was deleted', { reason: 'databaseDeleted' }));
    expect(await test.clock.runUntil(() => test.peer('c').room?.node.stopped.value !== null, { timeoutMs: 1_000 })).toBe(true);
    // A newcomer arrives and catches up: it could take c's place.
    arrive(test.environment, test.peer('d'));
    await test.clock.advance(30_000);
    // Expected: c (a voter that will never answer again) is replaced by d.
    const afterWait = [...voters()].sort();
    // Then b leaves: a 3-voter room must survive one departure.
    depart(test.environment, test.peer('b'));
    await test.clock.advance(5_000);
    // a's store forwards to whoever leads; the write must commit within 30 s.
    const settled = await settleWithin(test.clock, test.peer('a').room!.store.dispatch({ type: 'put', key: 'x', value: 'after' }), 30_000);
    expect({ afterWait, writeAfterOneDeparture: settled }).toEqual({ afterWait: ['a', 'b', 'd'], writeAfterOneDeparture: 'fulfilled' });
    await test.close();
  });
});

describe('a learner whose node stopped while its page stays connected', () => {
  it('is not promoted to voter (it will never acknowledge anything)', async () => {
    const test = simulatedRoom(5204);
    const names = ['a', 'b', 'c'];
    const { storage, failure } = failingStorage();
    test.peer('b').storages.set(nodeId('b'), storage);
    const config = () => test.leaderOf(names)?.room?.node.membership.value;
    arrive(test.environment, test.peer('a'));
    expect(await test.clock.runUntil(() => test.peer('a').room?.node.role.value === 'leader', { timeoutMs: 5_000 })).toBe(true);
    arrive(test.environment, test.peer('b'));
    // b is a caught-up learner (one voter and one learner: the policy keeps the count odd).
    expect(await test.clock.runUntil(() => config()?.learners?.includes(nodeId('b')) === true && (test.peer('a').room?.node.replicationProgress?.().get(nodeId('b')) ?? 0) > 0, { timeoutMs: 10_000 })).toBe(true);
    failure.set(new RaftStorageError('the database was deleted', { reason: 'databaseDeleted' }));
    expect(await test.clock.runUntil(() => test.peer('b').room?.node.stopped.value !== null, { timeoutMs: 1_000 })).toBe(true);
    arrive(test.environment, test.peer('c'));
    await test.clock.advance(15_000);
    const voters = [...(config()?.voters ?? [])].sort();
    // Then c leaves: had b been promoted, a alone is no majority of [a, b, c] and the room stalls.
    depart(test.environment, test.peer('c'));
    await test.clock.advance(5_000);
    const settled = await settleWithin(test.clock, test.peer('a').room!.store.dispatch({ type: 'put', key: 'x', value: 'after' }), 30_000);
    expect({ voters, votersIncludeStoppedB: voters.includes(nodeId('b')), writeAfterCLeft: settled }).toEqual({ voters: expect.any(Array), votersIncludeStoppedB: false, writeAfterCLeft: 'fulfilled' });
    await test.close();
  });
});

describe('a node that stops for good under a running room', () => {
  /** a, b, c form three voters, c's node on a storage that then fails; returns once c's node stopped. */
  async function stoppedVoter(seed: number) {
    const test = simulatedRoom(seed);
    const names = ['a', 'b', 'c', 'd'];
    const { storage, failure } = failingStorage();
    test.peer('c').storages.set(nodeId('c'), storage);
    for (const name of ['a', 'b', 'c']) {
      arrive(test.environment, test.peer(name));
      await test.clock.advance(300);
    }
    const voters = (): readonly NodeId[] => test.leaderOf(names)?.room?.node.membership.value.voters ?? [];
    expect(await test.clock.runUntil(() => voters().length === 3 && test.leaderOf(names) !== test.peer('c'), { timeoutMs: 10_000 })).toBe(true);
    failure.set(new RaftStorageError('the database was deleted', { reason: 'databaseDeleted' }));
    expect(await test.clock.runUntil(() => test.events.some(({ peer, event }) => peer === 'c' && event.type === 'nodeStopped'), { timeoutMs: 1_000 })).toBe(true);
    return { test, voters };
  }

  it('says why, closes its connections (the room sees it leave), and still leaves cleanly', async () => {
    const { test } = await stoppedVoter(5206);
    const stopped = test.events.filter(({ peer, event }) => peer === 'c' && event.type === 'nodeStopped').map(({ event }) => event);
    expect(stopped).toEqual([{ type: 'nodeStopped', id: 'c', reason: expect.stringMatching(/RaftStorageError: .*the database was deleted/), at: expect.any(Number) }]);
    await test.clock.advance(100);
    const reaches = (name: string): boolean => test.peer(name).transports.get(nodeId(name))?.peers.value.has(nodeId('c')) ?? false;
    expect({ a: reaches('a'), b: reaches('b') }).toEqual({ a: false, b: false });
    depart(test.environment, test.peer('c'));
    await test.clock.advance(1_000);
    // Only the stop said so: a leave is no news, nor is the node's close during it.
    expect(test.events.filter(({ event }) => event.type === 'nodeStopped')).toHaveLength(1);
    await test.close();
  });

  it('is replaced once it has not answered for silentAfterMs even where its connections stay open (a transport that cannot close them)', async () => {
    const { test, voters } = await stoppedVoter(5207);
    // The page's transport ignores the close: c stays reachable, says nothing, answers nothing.
    test.network.setDown(nodeId('c'), false);
    arrive(test.environment, test.peer('d'));
    await test.clock.advance(20_000);
    expect([...voters()].sort()).toEqual(['a', 'b', 'c']);
    // joinRoom's default silentAfterMs (30 s) after the leader first found c silent.
    expect(await test.clock.runUntil(() => [...voters()].sort().join() === 'a,b,d', { timeoutMs: 15_000 })).toBe(true);
    await test.close();
  });
});
