// The page side of the rooms fault campaign (e2e/room-chaos/): one peer that joins a room the way
// the demo does (demo/app/start-peer.ts) — WebSocket signaling, WebRTC with no ICE servers, the
// demo's partition switch under joinRoom, the engine and its IndexedDB storage (strict durability)
// in a Web Worker, an id's stored state read and the storage of an id given up deleted in
// workers too (the page never opens the database) — with a store whose state is the list of
// operation ids applied, in log order, so a duplicate or a lost command is visible, not just a
// wrong sum. The runner drives it through `window.roomChaos` (e2e/room-chaos/page-api.ts).
/// <reference types="vite/client" />
import { joinRoom, nodeId, type ClusterConfig, type NodeId, type RaftNode, type Room, type RoomEvent } from '../../src/index.ts';
import { createWebRtcTransport, createWebSocketSignalingClient } from '../../src/webrtc.ts';
import { workerNodeFactory } from '../../src/worker.ts';
import { createPartitionSwitch } from '../../demo/app/partition-switch.ts';
import { storeOptions, type AppliedIds, type IncrementCommand as Command } from '../room-chaos/applied-ids-store.ts';
import { digestOf } from '../room-chaos/digest.ts';
import { maxConfigurationsSeen, maxLeadersSeen, maxPendingCommands, type ChaosPeerStatus, type ChaosRoomSettings, type ConfigurationSighting, type DispatchAnswer, type RoomChaosApi, type SeenEvent } from '../room-chaos/page-api.ts';
import { chaosRaftTiming } from '../room-chaos/room-timing.ts';

/** The campaign's timing (room-timing.ts: slower than the defaults on two loaded cores). */
const raftConfig = { ...chaosRaftTiming };
const maxEventsKept = 500;

let room: Room<AppliedIds, Command> | null = null;
/** One for the page's life, as in the demo: a tab cut off stays cut off if it rejoins under a fresh id. */
const partition = createPartitionSwitch();
const seen: SeenEvent[] = [];
/** Ids any of this page's nodes named leader (a rejoin brings a new node: each one is watched). */
const leadersSeen = new Set<string>();
/** Every configuration this page's nodes adopted, in order (the report names the voters of a stall by them). */
const configurationsSeen: ConfigurationSighting[] = [];
let watchedNode: RaftNode | null = null;

const databaseNameFor = (roomName: string, id: NodeId): string => `room-chaos:${roomName}:${id}`;
const errorText = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

function noteConfiguration(config: ClusterConfig): void {
  const voters = [...config.voters].sort();
  const learners = [...(config.learners ?? [])].sort();
  const last = configurationsSeen[configurationsSeen.length - 1];
  if (last !== undefined && last.voters.join() === voters.join() && last.learners.join() === learners.join()) return;
  configurationsSeen.push({ atMs: Date.now(), voters, learners });
  if (configurationsSeen.length > maxConfigurationsSeen) configurationsSeen.splice(0, configurationsSeen.length - maxConfigurationsSeen);
}

/** Watches the room's current node for leaders and configurations, once per node (called on start and on every status). */
function watchNode(current: Room<AppliedIds, Command>): void {
  if (watchedNode === current.node) return;
  watchedNode = current.node;
  const note = (leader: string | null): void => {
    if (leader !== null && leadersSeen.size < maxLeadersSeen) leadersSeen.add(leader);
  };
  note(current.node.leader.value);
  current.node.leader.subscribe(note);
  noteConfiguration(current.node.membership.value);
  current.node.membership.subscribe(noteConfiguration);
}

function remember(event: RoomEvent): void {
  if (event.type === 'peersUnreachable' && event.count === 0) return;
  const { type, at: _at, ...rest } = event;
  seen.push({ type, atMs: Date.now(), detail: JSON.stringify(rest).slice(0, 400) });
  if (seen.length > maxEventsKept) seen.splice(0, seen.length - maxEventsKept);
}

const running = (): Room<AppliedIds, Command> => {
  if (room === null) throw new Error('start() first');
  return room;
};

/**
 * Only a refusal that provably never reached a leader is a definite failure: the store's queue
 * was full (thrown before proposing), or the room said this peer is outside and no attempt had
 * reached a leader. Anything else may have committed.
 */
function classify(error: unknown): DispatchAnswer {
  if (error instanceof RangeError) return { outcome: 'failed', error: errorText(error) };
  if (error instanceof Error && error.name === 'NotMemberError' && (error as { outcomeUnknown?: unknown }).outcomeUnknown === false) {
    return { outcome: 'failed', error: errorText(error) };
  }
  return { outcome: 'unknown', error: errorText(error) };
}

const api: RoomChaosApi = {
  async start(settings: ChaosRoomSettings) {
    const engine = workerNodeFactory({ storage: (id) => ({ type: 'indexeddb', name: databaseNameFor(settings.room, id), durability: 'strict' }) });
    room = await joinRoom<AppliedIds, Command>({
      room: settings.room,
      secret: settings.secret,
      ...(settings.witness === undefined ? {} : { witness: nodeId(settings.witness) }),
      signaling: (context) => createWebSocketSignalingClient({ url: settings.signalingUrl, ...context }),
      createTransport: (signaling) => partition.attach(createWebRtcTransport({ signaling, iceServers: [], secret: settings.secret })),
      // As the demo: no page-side storage; the factory reads an id's stored state (on every
      // restart and rejoin the campaign causes) and deletes a given-up id's database in workers.
      createNode: engine,
      discardStorage: engine.discardStorage,
      store: { ...storeOptions, maxPendingCommands },
      raftConfig,
      policy: { unreachableAfterMs: settings.unreachableAfterMs, targetVoters: settings.targetVoters },
      discoveryMs: 2_000,
      gossipIntervalMs: 500,
      onEvent: (event) => {
        remember(event);
        if (event.type === 'rejoined' && room !== null) watchNode(room);
      },
    });
    watchNode(room);
    return room.id;
  },
  async dispatch(operationId, timeoutMs) {
    try {
      const { index, state } = await running().store.dispatch({ type: 'increment', id: operationId }, { signal: AbortSignal.timeout(timeoutMs) });
      return { outcome: 'ok', index, length: state.applied.length, digest: digestOf(state.applied) };
    } catch (error) {
      return classify(error);
    }
  },
  async read(timeoutMs) {
    try {
      const state = await running().store.read({ signal: AbortSignal.timeout(timeoutMs) });
      return { outcome: 'ok', length: state.applied.length, digest: digestOf(state.applied) };
    } catch (error) {
      return { outcome: 'failed', error: errorText(error) };
    }
  },
  status(): ChaosPeerStatus {
    const current = running();
    watchNode(current);
    const config = current.node.membership.value;
    const applied = current.store.state.value.applied;
    return {
      id: current.id,
      role: current.node.role.value,
      leader: current.node.leader.value,
      term: current.node.term.value,
      voters: [...config.voters].sort(),
      learners: [...(config.learners ?? [])].sort(),
      commitIndex: current.node.commitIndex.value,
      appliedIndex: current.store.appliedIndex.value,
      connected: partition.connected.value,
      reachable: [...partition.peers.value].sort(),
      leadersSeen: [...leadersSeen].sort(),
      length: applied.length,
      digest: digestOf(applied),
    };
  },
  appliedIds: () => running().store.state.value.applied,
  events: () => [...seen],
  configurations: () => [...configurationsSeen],
  setConnected(connected) {
    running();
    partition.setConnected(connected);
  },
  async leave() {
    await room?.leave();
    room = null;
  },
};

window.roomChaos = api;
