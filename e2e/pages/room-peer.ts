// The page side of e2e/rooms.spec.ts: one room peer through joinRoom — WebSocket signaling, the
// WebRTC transport, IndexedDB storage, the node id in this context's localStorage and the default
// document visibility source — with a counter store, its engine on the page or (`engine:
// 'worker'`) in a Web Worker on the same IndexedDB database. Either way joinRoom reads the
// database it opened on the page: the path of an app that passes `storage` (the demo and the
// chaos pages pass none, and workerNodeFactory reads it in a worker). The spec drives it through
// `window.roomPeer`.
/// <reference types="vite/client" />
import { IndexedDbRaftStorage, joinRoom, type RaftNode, type RaftNodeOptions, type Room } from '../../src/index.ts';
import { createWebRtcTransport, createWebSocketSignalingClient, type WebRtcTransport } from '../../src/webrtc.ts';
import { createWorkerRaftNode } from '../../src/worker.ts';

export interface RoomPeerConfig {
  readonly signalingUrl: string;
  readonly room: string;
  readonly secret: string;
  /** Where the engine runs (default: on the page). */
  readonly engine?: 'page' | 'worker';
}

/** Slow elections: three Chromium processes share two loaded cores. */
const raftConfig = { electionTimeoutMin: 1_000, electionTimeoutMax: 2_000, heartbeatInterval: 100 };

type Command = { readonly type: 'add'; readonly by: string };
interface Counter {
  readonly total: number;
  readonly by: readonly string[];
}

export interface RoomPeerStatus {
  readonly id: string;
  readonly role: string;
  readonly leader: string | null;
  readonly voters: readonly string[];
  readonly learners: readonly string[];
  readonly state: Counter;
  readonly appliedIndex: number;
}

export interface RoomPeerApi {
  start(config: RoomPeerConfig): Promise<string>;
  status(): RoomPeerStatus;
  add(): Promise<number>;
  /** What a browser does when the tab goes to the background. */
  setHidden(hidden: boolean): void;
  leave(): Promise<void>;
  /** The WebRTC transport's counters (connections, and engine channels handed to a worker). */
  transportCounters(): Record<string, number>;
}

declare global {
  interface Window {
    roomPeer: RoomPeerApi;
  }
}

let room: Room<Counter, Command> | null = null;
let transport: WebRtcTransport | null = null;
let hiddenOverride: boolean | null = null;

// Headless pages are always "visible": the spec hides one by overriding the property the default
// visibility source reads and firing the event a browser fires.
Object.defineProperty(document, 'visibilityState', {
  configurable: true,
  get: () => (hiddenOverride === true ? 'hidden' : 'visible'),
});

const running = (): Room<Counter, Command> => {
  if (room === null) throw new Error('start() first');
  return room;
};

const api: RoomPeerApi = {
  async start(config) {
    room = await joinRoom<Counter, Command>({
      room: config.room,
      secret: config.secret,
      signaling: (context) => createWebSocketSignalingClient({ url: config.signalingUrl, ...context }),
      createTransport: (signaling) => (transport = createWebRtcTransport({ signaling, secret: config.secret, iceServers: [] })),
      storage: (id) => IndexedDbRaftStorage.open(databaseName(config.room, id)),
      ...(config.engine === 'worker' ? { createNode: (options: RaftNodeOptions) => startWorkerNode(config.room, options) } : {}),
      store: { initialState: { total: 0, by: [] }, apply: (state, command) => ({ total: state.total + 1, by: [...state.by, command.by] }) },
      // A reload must not look like a departure, so members count as lost only after a long absence.
      raftConfig,
      policy: { unreachableAfterMs: 60_000, targetVoters: 3 },
      discoveryMs: 2_000,
      gossipIntervalMs: 500,
    });
    return room.id;
  },
  status() {
    const current = running();
    const config = current.node.membership.value;
    return {
      id: current.id,
      role: current.node.role.value,
      leader: current.node.leader.value,
      voters: [...config.voters].sort(),
      learners: [...(config.learners ?? [])].sort(),
      state: current.store.state.value,
      appliedIndex: current.store.appliedIndex.value,
    };
  },
  async add() {
    return (await running().store.dispatch({ type: 'add', by: running().id })).state.total;
  },
  setHidden(hidden) {
    hiddenOverride = hidden;
    document.dispatchEvent(new Event('visibilitychange'));
  },
  async leave() {
    await room?.leave();
    room = null;
  },
  transportCounters() {
    return transport === null ? {} : { ...transport.counters };
  },
};

const databaseName = (roomName: string, id: string): string => `e2e-room:${roomName}:${id}`;

/** The engine in a worker on the same database: the page's copy joinRoom opened is closed first. */
async function startWorkerNode(roomName: string, options: RaftNodeOptions): Promise<RaftNode> {
  if (options.storage instanceof IndexedDbRaftStorage) await options.storage.close();
  return createWorkerRaftNode({
    id: options.id,
    clusterConfig: options.clusterConfig,
    transport: options.transport,
    storage: { type: 'indexeddb', name: databaseName(roomName, options.id) },
    raftConfig,
    // The room's policy listens to the node's metrics (removal, wedge).
    ...(options.onMetric === undefined ? {} : { onMetric: options.onMetric }),
    ...(options.identity === undefined ? {} : { identity: options.identity }),
  });
}

window.roomPeer ??= api;
