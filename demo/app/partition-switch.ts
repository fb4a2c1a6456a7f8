// The panel's "disconnect this peer" button: a transport wrapper that, while switched off, drops
// everything this peer sends and receives and reports no reachable peers, exactly like a network
// partition around this one tab. The WebRTC connections stay up underneath, so reconnecting is
// instant and the partition is the only thing the test changes.
//
// It also carries the demo's status gossip: every peer tells the others its role, term, commit
// index and log end twice a second in frames tagged 0xB5 (the codec's first byte is its version,
// 1; rooms use 0xA7), so every page can draw the whole cluster. Those frames never reach Raft.
import { createEmitter, createWatchable, type NodeId, type RaftEnvelope, type RaftTransport, type Subscribable, type Watchable } from '../../src/index.ts';

export const statusFrameTag = 0xb5;

export interface PeerStatus {
  readonly role: string;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly leader: string | null;
  readonly visible: boolean;
  readonly name: string;
}

export interface PartitionSwitch {
  readonly transport: RaftTransport;
  readonly connected: Watchable<boolean>;
  setConnected(connected: boolean): void;
  readonly statuses: Subscribable<{ from: NodeId; status: PeerStatus }>;
  broadcastStatus(status: PeerStatus): void;
  close(): void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function createPartitionSwitch(inner: RaftTransport): PartitionSwitch {
  const connected = createWatchable(true);
  const peers = createWatchable<ReadonlySet<NodeId>>(inner.peers.value);
  const incoming = createEmitter<RaftEnvelope>();
  const statuses = createEmitter<{ from: NodeId; status: PeerStatus }>();
  const refreshPeers = (): void => peers.set(connected.value ? inner.peers.value : new Set());
  const unsubscribePeers = inner.peers.subscribe(refreshPeers);
  const unsubscribeIncoming = inner.incoming.subscribe((envelope) => {
    if (!connected.value) return;
    if (envelope.bytes[0] === statusFrameTag) {
      if (envelope.bytes.length > 4096) return;
      try {
        statuses.emit({ from: envelope.from, status: JSON.parse(decoder.decode(envelope.bytes.subarray(1))) as PeerStatus });
      } catch {
        // a malformed status frame is ignored: it is display-only
      }
      return;
    }
    incoming.emit(envelope);
  });
  const transport: RaftTransport = {
    selfId: inner.selfId,
    peers,
    incoming,
    ...(inner.maxPayloadBytes === undefined ? {} : { maxPayloadBytes: inner.maxPayloadBytes }),
    // The engine keeps replication batches within it (a batch overtaking the one before it is
    // refused and resent); without it the engine took every frame for in order.
    ...(inner.orderedFrameBytes === undefined ? {} : { orderedFrameBytes: inner.orderedFrameBytes }),
    // No serveDataChannelsTo: frames handed to the engine's worker would bypass this switch.
    send(to, bytes) {
      if (connected.value) inner.send(to, bytes);
    },
    // joinRoom closes the transport it stops using (leaving, or an id given up): the WebRTC
    // connections underneath must close with it, or peers go on seeing this page's old id.
    close() {
      unsubscribePeers();
      unsubscribeIncoming();
      inner.close?.();
    },
  };
  return {
    transport,
    connected,
    setConnected(value) {
      connected.set(value);
      refreshPeers();
    },
    statuses,
    broadcastStatus(status) {
      if (!connected.value) return;
      const text = encoder.encode(JSON.stringify(status));
      const frame = new Uint8Array(text.length + 1);
      frame[0] = statusFrameTag;
      frame.set(text, 1);
      for (const peer of inner.peers.value) inner.send(peer, frame);
    },
    close() {
      unsubscribePeers();
      unsubscribeIncoming();
    },
  };
}
