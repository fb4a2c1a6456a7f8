// A lone peer's room on a virtual clock, whose node's metric callback the test holds so that it can
// report a wedge by hand (wedge-report.test-support.ts): the set-up of the rejoin tests.
import type { RaftMetric } from '../core/events.ts';
import type { NodeId } from '../core/types.ts';
import { createRaftNode } from '../driver/create-raft-node.ts';
import { deriveSeed, seededRandom } from '../testing/seeded-random.ts';
import { createSimulatedNetwork, reliableNetwork } from '../testing/simulated-network.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { joinRoom } from './join-room.ts';
import type { Room } from './join-room-options.ts';
import type { RoomEvent } from './room-events.ts';
import { memoryKeyValueStore } from './room-identity.ts';
import type { KvCommand } from '../testing/kv-command.ts';
import { kvReducer, type KvState } from './room-simulation-peers.test-support.ts';
import { currentEndpoint, stubSignaling } from './simulated-room-endpoints.test-support.ts';
import { manualVisibility } from './visibility.ts';

export interface LoneRoom {
  readonly clock: VirtualClock;
  readonly room: Room<KvState, KvCommand>;
  /** Every event the room emitted, in order (before `onEvent` sees it). */
  readonly events: RoomEvent[];
  /** The metric callback of the node started last. */
  report(metric: RaftMetric): void;
}

/** Joins alone and waits until joined; `onEvent` runs after the event is recorded (it may throw). */
export async function joinLoneRoom(seed: number, room: string, onEvent: (event: RoomEvent) => void = () => undefined): Promise<LoneRoom> {
  const clock = new VirtualClock(0);
  const network = createSimulatedNetwork(clock, seededRandom(deriveSeed(seed, 'network')), reliableNetwork);
  const events: RoomEvent[] = [];
  let reportMetric: ((metric: RaftMetric) => void) | undefined;
  const endpoints = new Map<NodeId, RaftTransport>();
  const endpoint = (id: NodeId): RaftTransport => currentEndpoint(network, endpoints, id);
  const joining = joinRoom({
    room,
    signaling: ({ roomId, nodeId }) => stubSignaling(roomId, nodeId, endpoint(nodeId)),
    createTransport: (signaling) => endpoint(signaling.selfId),
    createNode: async (nodeOptions) => {
      reportMetric = nodeOptions.onMetric;
      return createRaftNode(nodeOptions);
    },
    identityStore: memoryKeyValueStore(),
    visibility: manualVisibility(true),
    store: { initialState: {}, apply: kvReducer },
    raftConfig: { clock, random: seededRandom(seed), heartbeatInterval: 100, electionTimeoutMin: 300, electionTimeoutMax: 600 },
    discoveryMs: 400,
    gossipIntervalMs: 300,
    onEvent: (event) => {
      events.push(event);
      onEvent(event);
    },
  });
  let joined = false;
  void joining.then(() => (joined = true));
  await clock.runUntil(() => joined, { timeoutMs: 5_000 });
  return { clock, room: await joining, events, report: (metric) => reportMetric?.(metric) };
}
