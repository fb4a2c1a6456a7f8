// A member that reloads is still a member while it restarts. Before its node runs again it
// listens for up to `discoveryMs` (was it removed while away?); a newcomer that hears it then
// must wait for it, not take it for another newcomer and start a second cluster beside it.
import { describe, expect, it } from 'vitest';
import type { NodeId } from '../core/types.ts';
import { deriveSeed, seededRandom } from '../testing/seeded-random.ts';
import { createSimulatedNetwork, reliableNetwork } from '../testing/simulated-network.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import { arrive, createSimulatedPeer, depart, type PeerEnvironment, type SimulatedPeer } from './room-simulation-peers.test-support.ts';
import { roomTimings } from './room-simulation.test-support.ts';

function restartRoom(seed: number) {
  const clock = new VirtualClock(0);
  const network = createSimulatedNetwork(clock, seededRandom(deriveSeed(seed, 'network')), reliableNetwork);
  const environment: PeerEnvironment = { seed, clock, network, timings: roomTimings, onEvent: () => {}, onJoined: () => {} };
  const peers = new Map<string, SimulatedPeer>();
  const peer = (name: string): SimulatedPeer => {
    const existing = peers.get(name);
    if (existing !== undefined) return existing;
    const created = createSimulatedPeer(environment, name);
    peers.set(name, created);
    return created;
  };
  const leaders = (): NodeId[] => [...peers.values()].filter((each) => each.room?.node.role.value === 'leader').map((each) => each.id);
  return { clock, environment, peer, leaders, close: async () => {
    for (const each of peers.values()) depart(environment, each);
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
