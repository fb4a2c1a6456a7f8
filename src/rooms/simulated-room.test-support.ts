// A room on a reliable simulated network for scenarios about one peer's fate: peers by name
// (room-simulation-peers.test-support.ts), who leads among some of them, a stranger that only
// gossips a hello of its choice, a storage whose failure the test reports, and a wait for a
// promise on virtual time that never hangs on one that never settles.
import type { RaftStorageError } from '../core/errors.ts';
import { createWatchable, type WritableWatchable } from '../core/observable.ts';
import type { NodeId } from '../core/types.ts';
import { nodeId } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { deriveSeed, seededRandom } from '../testing/seeded-random.ts';
import { createSimulatedNetwork, reliableNetwork } from '../testing/simulated-network.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import { encodeHello } from './room-channel.ts';
import type { RoomEvent } from './room-events.ts';
import { createPeerRegistry, depart, type PeerEnvironment, type SimulatedPeer } from './room-simulation-peers.test-support.ts';
import { roomTimings } from './room-simulation.test-support.ts';

export function simulatedRoom(seed: number) {
  const clock = new VirtualClock(0);
  const network = createSimulatedNetwork(clock, seededRandom(deriveSeed(seed, 'network')), reliableNetwork);
  const events: { peer: NodeId; event: RoomEvent }[] = [];
  const environment: PeerEnvironment = { seed, clock, network, timings: roomTimings, onEvent: (peer, event) => void events.push({ peer, event }), onJoined: () => {} };
  const { peer, all } = createPeerRegistry(environment);
  const leaderOf = (names: readonly string[]): SimulatedPeer | undefined => names.map(peer).find((each) => each.present && each.room?.node.role.value === 'leader');
  /** A peer that runs no node and only gossips `lie` to everyone it reaches, every 100 ms. */
  const liar = (name: string, lie: Parameters<typeof encodeHello>[0]): { stop(): void } => {
    const transport = network.transport(nodeId(name));
    transport.incoming.subscribe(() => {});
    let stopped = false;
    // Like a room peer, it also tells each peer as soon as it becomes reachable.
    let known = new Set(transport.peers.value);
    transport.peers.subscribe((peers) => {
      if (!stopped) for (const to of peers) if (!known.has(to)) transport.send(to, encodeHello(lie));
      known = new Set(peers);
    });
    const tell = (): void => {
      if (stopped) return;
      for (const to of transport.peers.value) transport.send(to, encodeHello(lie));
      clock.setTimeout(tell, 100);
    };
    tell();
    return { stop: () => void ((stopped = true), network.setDown(nodeId(name), true)) };
  };
  const close = async (): Promise<void> => {
    for (const each of all()) depart(environment, each);
    await clock.advance(100);
  };
  return { clock, network, environment, events, peer, leaderOf, liar, close };
}

/** How the promise settled within `timeoutMs` of virtual time, or 'pending' (never hangs on a promise that never settles). */
export async function settleWithin(clock: VirtualClock, promise: Promise<unknown>, timeoutMs: number): Promise<'fulfilled' | 'rejected' | 'pending'> {
  let status: 'fulfilled' | 'rejected' | 'pending' = 'pending';
  promise.then(
    () => void (status = 'fulfilled'),
    () => void (status = 'rejected'),
  );
  await clock.runUntil(() => status !== 'pending', { timeoutMs });
  return status;
}

/** A storage whose failure the test reports, as IndexedDB does when the database goes away. */
export function failingStorage(): { storage: InMemoryRaftStorage; failure: WritableWatchable<RaftStorageError | null> } {
  const failure = createWatchable<RaftStorageError | null>(null);
  return { storage: Object.assign(new InMemoryRaftStorage(), { failure }), failure };
}
