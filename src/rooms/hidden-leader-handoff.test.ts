// A hidden leader hands leadership to a visible tab, never to a peer that cannot lead: the room's
// witness, or an edge peer run as a witness that the room does not name (its hellos say it never
// leads). A review found it handing to the witness again and again on 2026-12-06.
import { describe, expect, it } from 'vitest';
import type { NodeId } from '../core/types.ts';
import { nodeId } from '../core/types.ts';
import { createSimulatedNetwork, reliableNetwork } from '../testing/simulated-network.ts';
import { deriveSeed, seededRandom } from '../testing/seeded-random.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import type { RoomEvent } from './room-coordinator.ts';
import { decodeHello, encodeHello, type RoomHello } from './room-channel.ts';
import { arrive, createPeerRegistry, depart, type PeerEnvironment, type RoomTimings } from './room-simulation-peers.test-support.ts';

const timings: RoomTimings = { unreachableAfterMs: 1_500, discoveryMs: 400, gossipIntervalMs: 300, coordinatorIntervalMs: 100, targetVoters: 5 };

/** Two tabs and an edge peer "edge" (its id sorts before the tabs', as "edge" beside "peer-k…" does). */
function roomWithEdgePeer(seed: number, witness: 'named' | 'unnamed') {
  const clock = new VirtualClock(0);
  const network = createSimulatedNetwork(clock, seededRandom(deriveSeed(seed, 'network')), reliableNetwork);
  const events: { peer: NodeId; event: RoomEvent }[] = [];
  const edge = nodeId('edge');
  const environment: PeerEnvironment = {
    seed,
    clock,
    network,
    timings,
    onEvent: (peer, event) => events.push({ peer, event }),
    onJoined: () => {},
    ...(witness === 'named' ? { witness: edge } : { unnamedWitness: edge }),
  };
  const registry = createPeerRegistry(environment);
  const leader = () => registry.all().find((peer) => peer.room?.node.role.value === 'leader');
  return { clock, environment, events, registry, leader };
}

async function hideTheLeadingTab(seed: number, witness: 'named' | 'unnamed') {
  const test = roomWithEdgePeer(seed, witness);
  for (const name of ['peer-a', 'edge', 'peer-b']) {
    arrive(test.environment, test.registry.peer(name));
    await test.clock.advance(600);
  }
  expect(await test.clock.runUntil(() => test.leader()?.room?.node.membership.value.voters.length === 3, { timeoutMs: 8_000 })).toBe(true);
  await test.clock.advance(1_000);
  const hidden = test.leader()!;
  expect(hidden.id).not.toBe('edge');
  const visibleTab = test.registry.all().find((peer) => peer.id !== 'edge' && peer !== hidden)!;
  const from = test.events.length;
  hidden.visibility.visible.set(false);
  await test.clock.advance(5_000);
  const later = test.events.slice(from).map(({ event }) => event);
  const targets = later.flatMap((event) => (event.type === 'leadershipHandoffStarted' ? [event.target] : []));
  const failures = later.filter((event) => event.type === 'leadershipHandoffFailed').length;
  const outcome = { leader: test.leader()?.id, targets: [...new Set(targets)], failures };
  for (const peer of test.registry.all()) depart(test.environment, peer);
  await test.clock.advance(100);
  return { outcome, visibleTab: visibleTab.id };
}

describe('a hidden leader in a room with a witness', () => {
  it('hands leadership to the visible tab, never to the room\'s witness', async () => {
    const { outcome, visibleTab } = await hideTheLeadingTab(4811, 'named');
    expect(outcome).toEqual({ leader: visibleTab, targets: [visibleTab], failures: 0 });
  });

  it('hands leadership to the visible tab, never to an edge peer whose hellos say it never leads (the room names no witness)', async () => {
    const { outcome, visibleTab } = await hideTheLeadingTab(4812, 'unnamed');
    expect(outcome).toEqual({ leader: visibleTab, targets: [visibleTab], failures: 0 });
  });
});

describe('a hello that says its sender never leads', () => {
  const hello: RoomHello = { type: 'hello', visible: true, member: true, voters: [nodeId('a')], term: 2, leader: nodeId('a') };

  it('round-trips, and is sent only when true, so a hello without it (an earlier version\'s) decodes as one that may lead', () => {
    const witness: RoomHello = { ...hello, neverLeads: true };
    expect(decodeHello(encodeHello(witness))).toEqual(witness);
    expect(new TextDecoder().decode(encodeHello(hello).subarray(1))).not.toContain('neverLeads');
    expect(decodeHello(encodeHello(hello))?.neverLeads).toBeUndefined();
  });

  it('is refused when the field is not a boolean', () => {
    const bytes = encodeHello(hello);
    const text = new TextDecoder().decode(bytes.subarray(1)).replace('"type":"hello"', '"type":"hello","neverLeads":"yes"');
    expect(decodeHello(new Uint8Array([bytes[0]!, ...new TextEncoder().encode(text)]))).toBeNull();
  });
});
