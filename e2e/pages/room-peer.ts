// The page side of e2e/rooms.spec.ts: one room peer through joinRoom — WebSocket signaling, the
// WebRTC transport, IndexedDB storage, the node id in this context's localStorage and the default
// document visibility source — with a counter store. The spec drives it through `window.roomPeer`.
/// <reference types="vite/client" />
import { IndexedDbRaftStorage, joinRoom, type Room } from '../../src/index.ts';
import { createWebRtcTransport, createWebSocketSignalingClient } from '../../src/webrtc.ts';

export interface RoomPeerConfig {
  readonly signalingUrl: string;
  readonly room: string;
  readonly secret: string;
}

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
}

declare global {
  interface Window {
    roomPeer: RoomPeerApi;
  }
}

let room: Room<Counter, Command> | null = null;
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
      signaling: ({ roomId, nodeId, secret }) => createWebSocketSignalingClient({ url: config.signalingUrl, roomId, nodeId, ...(secret === undefined ? {} : { secret }) }),
      createTransport: (signaling) => createWebRtcTransport({ signaling, secret: config.secret, iceServers: [] }),
      storage: (id) => IndexedDbRaftStorage.open(`e2e-room:${config.room}:${id}`),
      store: { initialState: { total: 0, by: [] }, apply: (state, command) => ({ total: state.total + 1, by: [...state.by, command.by] }) },
      // Slow elections: three Chromium processes share two loaded cores. A reload must not look
      // like a departure, so members count as lost only after a long absence.
      raftConfig: { electionTimeoutMin: 1_000, electionTimeoutMax: 2_000, heartbeatInterval: 100 },
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
};

// Vite's dev server reloads a page when a file it imports changes (others edit this tree while
// tests run): keep the running peer across such updates.
import.meta.hot?.accept();
window.roomPeer ??= api;
