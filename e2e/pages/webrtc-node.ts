// The page side of e2e/webrtc-cluster.spec.ts: one Raft node (in-memory storage) whose transport
// is WebRTC, introduced by the WebSocket signaling server the spec runs. The spec drives it
// through `window.webrtcNode`.
/// <reference types="vite/client" />
import { createRaftNode, InMemoryRaftStorage, nodeId, type RaftNode } from '../../src/index.ts';
import { createWebRtcTransport, createWebSocketSignalingClient, type WebRtcTransport, type WebRtcTransportCounters } from '../../src/webrtc.ts';

export interface WebRtcNodeConfig {
  readonly id: string;
  readonly voters: readonly string[];
  readonly signalingUrl: string;
  readonly roomId: string;
  readonly secret: string;
  /** First reconnect delay: long enough that the others commit while this node is cut off. */
  readonly reconnectDelayMinMs: number;
}

export interface WebRtcNodeStatus {
  readonly role: string;
  readonly leader: string | null;
  readonly term: number;
  readonly commitIndex: number;
  readonly peers: readonly string[];
  /** Commands this node applied, in order. */
  readonly applied: readonly string[];
  readonly counters: WebRtcTransportCounters;
}

export interface WebRtcNodeApi {
  start(config: WebRtcNodeConfig): Promise<void>;
  status(): WebRtcNodeStatus;
  propose(command: string): Promise<number>;
  /** Closes every connection of this node (it reconnects by itself). */
  cutOff(): void;
  stop(): Promise<void>;
}

declare global {
  interface Window {
    webrtcNode: WebRtcNodeApi;
  }
}

let node: RaftNode | null = null;
let transport: WebRtcTransport | null = null;
let closeSignaling: () => void = () => undefined;
const applied: string[] = [];
const decoder = new TextDecoder();

async function collect(raftNode: RaftNode): Promise<void> {
  for await (const committed of raftNode.committed()) {
    if (committed.type === 'entry') applied.push(decoder.decode(committed.entry.command));
  }
}

const running = (): { node: RaftNode; transport: WebRtcTransport } => {
  if (node === null || transport === null) throw new Error('start() first');
  return { node, transport };
};

const api: WebRtcNodeApi = {
  async start(config) {
    const id = nodeId(config.id);
    const signaling = createWebSocketSignalingClient({ url: config.signalingUrl, roomId: config.roomId, nodeId: id, secret: config.secret });
    closeSignaling = () => signaling.close();
    transport = createWebRtcTransport({ signaling, secret: config.secret, iceServers: [], limits: { reconnectDelayMinMs: config.reconnectDelayMinMs } });
    node = await createRaftNode({
      id,
      clusterConfig: { voters: config.voters.map(nodeId) },
      transport,
      storage: new InMemoryRaftStorage(),
      // Slow elections: three Chromium processes share two loaded cores.
      raftConfig: { electionTimeoutMin: 1_000, electionTimeoutMax: 2_000, heartbeatInterval: 100 },
    });
    void collect(node);
  },
  status() {
    const current = running();
    return {
      role: current.node.role.value,
      leader: current.node.leader.value,
      term: current.node.term.value,
      commitIndex: current.node.commitIndex.value,
      peers: [...current.transport.peers.value].sort(),
      applied: [...applied],
      counters: current.transport.counters,
    };
  },
  async propose(command) {
    return (await running().node.propose(new TextEncoder().encode(command))).index;
  },
  cutOff() {
    const { transport: current } = running();
    for (const peer of current.peers.value) current.disconnect(peer);
  },
  async stop() {
    await node?.close();
    transport?.close();
    closeSignaling();
  },
};

window.webrtcNode ??= api;
