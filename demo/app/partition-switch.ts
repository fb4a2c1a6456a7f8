// The panel's "disconnect this peer" button: a transport wrapper that, while switched off, drops
// everything this peer sends and receives and reports no reachable peers, exactly like a network
// partition around this one tab. The WebRTC connections stay up underneath, so reconnecting is
// instant and the partition is the only thing the test changes.
//
// One switch serves the page for its whole life. joinRoom asks for a new transport whenever the
// page rejoins under a fresh id (after a wedge), and the switch is attached in front of each: a
// page cut off stays cut off across the rejoin, and the button, the reachable peers and the
// status gossip act on the transport in use, not on the first one (they did, before 2026-12-02).
//
// It also carries the demo's status gossip: every peer tells the others its role, term, commit
// index and log end twice a second in frames tagged 0xB5 (the codec's first byte is its version,
// 1; rooms use 0xA7), so every page can draw the whole cluster. Those frames never reach Raft.
//
// Each status also says which release of the board the page runs and, when its store stopped at a
// newer release's entry, where (peer-release.ts): the other pages' panels mark such a member.
//
// And it tells who each frame it lets through came from (`frames`): what a page receives is how
// the panel knows a connected member has gone silent (last-heard.ts).
import { createEmitter, createWatchable, type NodeId, type RaftEnvelope, type RaftTransport, type Subscribable, type Watchable } from 'raftmesh';
import { peerReleaseOf, type PeerRelease } from './peer-release.ts';

export const statusFrameTag = 0xb5;

export interface PeerStatus {
  readonly role: string;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly leader: string | null;
  readonly visible: boolean;
  readonly name: string;
  /**
   * The release of the board the page runs, and where its store stopped if it met a newer one
   * (peer-release.ts). Absent from the gossip of pages older than it: unknown.
   */
  readonly release?: PeerRelease;
}

export interface PartitionSwitch {
  /**
   * Puts the switch in front of a transport joinRoom asked for, and returns what joinRoom should
   * use. The switch follows the latest one attached; an earlier one obeys it until closed.
   */
  attach(inner: RaftTransport): RaftTransport;
  /** The latest transport's reachable peers; none while disconnected or before any is attached. */
  readonly peers: Watchable<ReadonlySet<NodeId>>;
  readonly connected: Watchable<boolean>;
  setConnected(connected: boolean): void;
  /** Status gossip from every attached transport not yet closed. */
  readonly statuses: Subscribable<{ from: NodeId; status: PeerStatus }>;
  /** The sender of every frame let through (Raft or status gossip), from every attached transport not yet closed. */
  readonly frames: Subscribable<NodeId>;
  /** Sends this page's status to the latest transport's reachable peers (nothing while disconnected). */
  broadcastStatus(status: PeerStatus): void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const nobody: ReadonlySet<NodeId> = new Set();
/** Status frames are a few hundred bytes of JSON; anything larger is not ours. */
const maxStatusFrameBytes = 4096;

export function createPartitionSwitch(): PartitionSwitch {
  /**
   * The switch: `connected` reads it, and it changes before the reachable peers are refreshed,
   * while `connected` is announced after them, so a listener of either reads the other already
   * switched. (A plain watchable announced first: a listener of `connected` read the peers of
   * before the switch, and a reconnecting page's banner briefly blamed the network for them.)
   */
  let on = true;
  const switched = createEmitter<boolean>();
  const connected: Watchable<boolean> = {
    get value() {
      return on;
    },
    subscribe: (listener) => switched.subscribe(listener),
  };
  const peers = createWatchable<ReadonlySet<NodeId>>(nobody);
  const statuses = createEmitter<{ from: NodeId; status: PeerStatus }>();
  const frames = createEmitter<NodeId>();
  let latest: RaftTransport | null = null;
  /** Each attached transport's refresh of what it reports reachable, until it closes. */
  const refreshes = new Set<() => void>();

  const attach = (inner: RaftTransport): RaftTransport => {
    latest = inner;
    const innerPeers = createWatchable<ReadonlySet<NodeId>>(connected.value ? inner.peers.value : nobody);
    const refresh = (): void => {
      const reachable = connected.value ? inner.peers.value : nobody;
      innerPeers.set(reachable);
      if (latest === inner) peers.set(reachable);
    };
    refreshes.add(refresh);
    const incoming = createEmitter<RaftEnvelope>();
    const unsubscribePeers = inner.peers.subscribe(refresh);
    const unsubscribeIncoming = inner.incoming.subscribe((envelope) => {
      if (!connected.value) return;
      frames.emit(envelope.from);
      if (envelope.bytes[0] === statusFrameTag) {
        if (envelope.bytes.length > maxStatusFrameBytes) return;
        // A malformed status frame is ignored: it is display-only.
        const status = statusOfFrame(envelope.bytes);
        if (status !== null) statuses.emit({ from: envelope.from, status });
        return;
      }
      incoming.emit(envelope);
    });
    refresh();
    return {
      selfId: inner.selfId,
      peers: innerPeers,
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
        refreshes.delete(refresh);
        if (latest === inner) {
          latest = null;
          peers.set(nobody);
        }
        inner.close?.();
      },
    };
  };

  return {
    attach,
    peers,
    connected,
    setConnected(value) {
      const changed = value !== on;
      on = value;
      for (const refresh of [...refreshes]) refresh();
      if (changed) switched.emit(value);
    },
    statuses,
    frames,
    broadcastStatus(status) {
      if (!connected.value || latest === null) return;
      const text = encoder.encode(JSON.stringify(status));
      const frame = new Uint8Array(text.length + 1);
      frame[0] = statusFrameTag;
      frame.set(text, 1);
      for (const peer of latest.peers.value) latest.send(peer, frame);
    },
  };
}

/** A status frame's PeerStatus, or null when it is not JSON. */
function statusOfFrame(bytes: Uint8Array): PeerStatus | null {
  try {
    return peerStatusOf(JSON.parse(decoder.decode(bytes.subarray(1))));
  } catch {
    return null;
  }
}

/**
 * A status frame's JSON as a PeerStatus, or null when any field is missing or of another type: a
 * peer's JSON is not trusted to have the fields the panel reads (a name that was not a string
 * broke the model).
 */
export function peerStatusOf(value: unknown): PeerStatus | null {
  if (typeof value !== 'object' || value === null) return null;
  const { role, term, commitIndex, appliedIndex, leader, visible, name, release } = value as Record<string, unknown>;
  const count = (field: unknown): field is number => typeof field === 'number' && Number.isSafeInteger(field) && field >= 0;
  if (typeof role !== 'string' || !count(term) || !count(commitIndex) || !count(appliedIndex) || typeof visible !== 'boolean' || typeof name !== 'string') return null;
  if (leader !== null && typeof leader !== 'string') return null;
  const status = { role, term, commitIndex, appliedIndex, leader, visible, name };
  // Absent: a page from before releases were gossiped, whose release is unknown.
  if (release === undefined) return status;
  const known = peerReleaseOf(release);
  return known === null ? null : { ...status, release: known };
}

