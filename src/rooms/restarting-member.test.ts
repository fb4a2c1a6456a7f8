// A member that reloads is still a member while it restarts. Before its node runs again it
// listens for up to `discoveryMs` (was it removed while away?); a newcomer that hears it then
// must wait for it, not take it for another newcomer and start a second cluster beside it.
import { describe, expect, it } from 'vitest';
import type { NodeId } from '../core/types.ts';
import { deriveSeed, seededRandom } from '../testing/seeded-random.ts';
import { createSimulatedNetwork, reliableNetwork } from '../testing/simulated-network.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import { nodeId } from '../core/types.ts';
import { settleOnVirtualClock } from '../testing/settle-on-clock.test-support.ts';
import type { RoomEvent } from './room-events.ts';
import { arrive, createPeerRegistry, depart, type PeerEnvironment, type SimulatedPeer } from './room-simulation-peers.test-support.ts';
import { roomTimings } from './room-simulation.test-support.ts';

function restartRoom(seed: number, extra: Partial<Pick<PeerEnvironment, 'onEvent' | 'witness'>> = {}) {
  const clock = new VirtualClock(0);
  const network = createSimulatedNetwork(clock, seededRandom(deriveSeed(seed, 'network')), reliableNetwork);
  const environment: PeerEnvironment = { seed, clock, network, timings: roomTimings, onEvent: () => {}, onJoined: () => {}, ...extra };
  const { peer, all } = createPeerRegistry(environment);
  const leaders = (): NodeId[] => all().filter((each) => each.room?.node.role.value === 'leader').map((each) => each.id);
  return { clock, environment, peer, leaders, close: async () => {
    for (const each of all()) depart(environment, each);
    await clock.advance(100);
  } };
}

describe('a member reloading while a newcomer discovers the room', () => {
  it('a smaller newcomer that arrives just before the only member reloads joins its cluster instead of starting a second one', async () => {
    const test = restartRoom(911);
    const s = test.peer('s');
    arrive(test.environment, s); // alone: it bootstraps the room's cluster and commits
    expect(await test.clock.runUntil(() => s.room !== null && s.room.node.commitIndex.value > 0, { timeoutMs: 5_000 })).toBe(true);
    await s.room!.store.dispatch({ type: 'put', key: 'x', value: 'kept' });
    depart(test.environment, s);
    await test.clock.advance(1_000);

    const a = test.peer('a');
    arrive(test.environment, a);
    await test.clock.advance(100);
    arrive(test.environment, s); // a reload: same id, same storage
    await test.clock.advance(10 * roomTimings.discoveryMs);
    // Before the fix s said "newcomer" while it checked whether it had been removed, a (the
    // smaller id) bootstrapped, s restarted its own cluster: two leaders for good.
    expect(test.leaders()).toEqual(['s']);
    expect(a.room?.node.leader.value).toBe('s');
    expect(await test.clock.runUntil(() => a.room?.store.state.value['x'] === 'kept', { timeoutMs: 5_000 })).toBe(true);
    await test.close();
  });
});

// Campaign seed 62 (README "Rooms under faults"): the witness came back on its old id while the
// room was removing it, and was of no use for 36 s. The room's leader was a voter promoted while
// it was away: its stored configuration did not list that leader, so its node refused every frame
// of the leader (SPEC "Leader authority"), and nobody told it who led, until its wedge detector
// reported after wedgeSuspicionTimeouts election timeouts and it rejoined under a fresh id. Now
// the engine asks: a voter campaigns and the voters it knows deny it naming the leader; a witness
// (or a learner), which never campaigns, asks them with a probe once per election timeout
// (src/core/elections.ts). Either way it follows the leader on its own id, and the room, which
// still lists it, needs no change of membership.
describe('a member returning on its old id while the room is led by a voter promoted in its absence', () => {
  for (const returning of ['w', 'c']) {
    it(`${returning === 'w' ? 'the witness' : 'an ordinary member'} is back as a working member within a second, on its own id, still a voter`, async () => {
      const events: RoomEvent[] = [];
      let promoted = false;
      const test = restartRoom(921, {
        witness: nodeId('w'),
        onEvent: (_peer, event) => {
          events.push(event);
          if (promoted || event.type !== 'membershipChanged' || event.decision.type !== 'replaceVoter' || event.decision.promoted !== 'e') return;
          promoted = true;
          // Leadership moves to e (a hidden leader hands it to a visible voter): one that the
          // returning member's stored configuration does not list.
          for (const name of ['a', 'b', 'c']) test.peer(name).visibility.visible.set(false);
        },
      });
      for (const name of ['a', 'b', 'c', 'd', 'w', 'e']) {
        arrive(test.environment, test.peer(name));
        await test.clock.advance(300);
      }
      const leader = (): SimulatedPeer | undefined => ['a', 'b', 'c', 'd', 'w', 'e'].map(test.peer).find((each) => each.room?.node.role.value === 'leader');
      expect(await test.clock.runUntil(() => leader()?.room?.node.membership.value.voters.length === 5 && leader()?.room?.node.membership.value.learners?.length === 1, { timeoutMs: 10_000 })).toBe(true);
      expect(leader()?.room?.node.membership.value.learners).toEqual(['e']);
      const written = await settleOnVirtualClock(test.clock, leader()!.room!.store.dispatch({ type: 'put', key: 'x', value: 'kept' }), 5_000);
      expect(written.status).toBe('fulfilled');
      const member = test.peer(returning);
      // Another voter goes away, then it does; the room replaces the other by e, which then leads.
      // It leaves a second later than d, so it is back within the policy's wait: e counts its
      // absence from the later of its own count and the old leader's, not from its own election.
      depart(test.environment, test.peer('d'));
      await test.clock.advance(1_000);
      depart(test.environment, member);
      expect(await test.clock.runUntil(() => test.leaders().join() === 'e', { timeoutMs: 5_000 })).toBe(true);
      // Back (same id, same storage) while the room still lists it as a voter.
      await test.clock.advance(500);
      expect(test.peer('e').room!.node.membership.value.voters).toContain(returning);
      const storedVoters = (await test.peer(returning).storages.get(nodeId(returning))!.entries()).filter((entry) => entry.config !== undefined).at(-1)?.config?.new.voters;
      expect(storedVoters).not.toContain('e'); // what it comes back on does not know the leader
      arrive(test.environment, member);
      const working = (): boolean => {
        const room = member.room;
        const leading = test.peer('e').room!.node;
        return room !== null && room.node.leader.value === 'e' && room.node.commitIndex.value >= leading.commitIndex.value && room.store.state.value['x'] === 'kept';
      };
      expect(await test.clock.runUntil(working, { timeoutMs: 1_000 })).toBe(true);
      expect(member.room!.id).toBe(returning);
      expect(test.peer('e').room!.node.membership.value.voters).toContain(returning);
      expect(events.filter((event) => event.type === 'wedged')).toEqual([]);
      await test.close();
    });
  }
});
