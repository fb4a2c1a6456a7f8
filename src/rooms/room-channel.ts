// Room-level gossip shares the Raft transport: each frame of ours starts with a tag byte no
// codec version uses (the codec's first byte is its version, 1), so this wrapper splits the
// incoming stream into Raft frames (for the node) and room hellos (for presence), and any
// transport — WebRTC, loopback, the simulator — carries both without knowing.
// Why not the signaling presence: signaling only introduces peers (its `signal` payloads belong
// to the WebRTC handshake), while visibility and membership hints must reach the peers we are
// actually connected to, at the rate they change.
import { createEmitter, type Subscribable } from '../core/observable.ts';
import type { NodeId, RaftEnvelope } from '../core/types.ts';
import { maxIdLength, nodeId } from '../core/types.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';

export const roomFrameTag = 0xa7;
/**
 * A hello is a few hundred bytes; anything much larger is not one of ours. The bound holds 64
 * voters and 64 learners of the longest ids (256 characters) with room to spare; a peer of an
 * earlier version drops a hello over 16 KiB, which only configurations of very long ids reach.
 */
const maxHelloBytes = 48 * 1024;
/** Voters a hello may list (the signaling protocol lists at most 1024 peers; a config far fewer). */
const maxListedVoters = 64;
/** Learners a hello may list (the membership policy keeps at most 64). */
const maxListedLearners = 64;
/** Unreachable members a hello may list: every voter and learner at most. */
export const maxListedUnreachable = maxListedVoters + maxListedLearners;

export interface RoomHello {
  readonly type: 'hello';
  /** Whether the sender's page is visible (a hidden leader hands leadership to a visible voter). */
  readonly visible: boolean;
  /** Whether the sender runs a node (it has joined or bootstrapped a cluster). */
  readonly member: boolean;
  /**
   * Voters of the configuration the sender follows, once it has seen something committed (a
   * cluster whose only voter never committed anything is not one to join); null before.
   */
  readonly voters: readonly NodeId[] | null;
  readonly term: number;
  readonly leader: NodeId | null;
  /**
   * Present (true) only while the sender, a newcomer, starts despite unreachable peers on its
   * user's choice (JoinRoomOptions.startDespiteUnreachable). A reachable newcomer that hears it
   * defers: it will not bootstrap, and joins the cluster the chooser starts. Sent only when
   * true, so a peer that predates it still decodes the hello.
   */
  readonly startingAnyway?: true;
  /**
   * Present only while the sender, a newcomer, has heard this reachable peer say `startingAnyway`
   * and promises not to bootstrap (discover-cluster.ts): that chooser, and no other, need not
   * wait for the sender's smaller id. Absent otherwise, so a peer that predates it still decodes.
   */
  readonly deferringTo?: NodeId;
  /**
   * Present (true) only when the sender never leads (a witness: RaftConfig.witness), so a hidden
   * leader never hands leadership to it (it would refuse TimeoutNow). Absent otherwise, so a peer
   * that predates it still decodes the hello.
   */
  readonly neverLeads?: true;
  /**
   * Learners of the configuration the sender follows, beside `voters` (absent when none, or from a
   * peer that predates the field): a newcomer on empty storage must not come back under any
   * member's id, a learner's included (discover-cluster.ts identityReused).
   */
  readonly learners?: readonly NodeId[];
  /**
   * Present only from a leader (absent when it reaches every member, or from a peer that predates
   * the field): the members of its configuration it has not reached, each with how long (ms) at
   * sending. The peer that leads next counts a member's absence from the later of this and its
   * own (room-coordinator.ts), so a change of leader neither restarts the policy's clock nor
   * acts on a link between followers that carried no Raft traffic.
   */
  readonly unreachable?: readonly (readonly [NodeId, number])[];
}

export interface ReceivedHello {
  readonly from: NodeId;
  readonly hello: RoomHello;
}

export interface RoomChannel {
  /** The same transport, carrying Raft frames only (give this one to createRaftNode). */
  readonly transport: RaftTransport;
  readonly hellos: Subscribable<ReceivedHello>;
  send(to: NodeId, hello: RoomHello): void;
  /** Stops listening to the underlying transport (it stays the caller's to close). */
  close(): void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * What a peer of the version before learners were listed decodes at most. A hello past it would
 * be dropped there, and a newcomer of that version that hears no member bootstraps a cluster of
 * its own beside the room; a hello of voters alone (at most 9 under the policy) never reaches it.
 */
const legacyMaxHelloBytes = 16 * 1024;

export function encodeHello(hello: RoomHello): Uint8Array {
  let text = encoder.encode(JSON.stringify(hello));
  // The unreachable members go first when a hello would pass what older peers read (without them
  // the next leader only counts afresh), then learners (a review found 64 learners of
  // 240-character ids doing it, 2026-12-06): as many as fit are listed, the rest left out.
  const { unreachable: _unreachable, ...withoutUnreachable } = hello;
  if (text.length + 1 > legacyMaxHelloBytes && hello.unreachable !== undefined) text = encoder.encode(JSON.stringify(withoutUnreachable));
  const learners = hello.learners ?? [];
  for (let listed = learners.length - 1; text.length + 1 > legacyMaxHelloBytes && listed >= 0; listed -= 1) {
    const { learners: _all, ...rest } = withoutUnreachable;
    text = encoder.encode(JSON.stringify(listed === 0 ? rest : { ...rest, learners: learners.slice(0, listed) }));
  }
  const bytes = new Uint8Array(text.length + 1);
  bytes[0] = roomFrameTag;
  bytes.set(text, 1);
  return bytes;
}

/** null for anything that is not a well-formed hello (a peer's bytes are untrusted). */
export function decodeHello(bytes: Uint8Array): RoomHello | null {
  if (bytes[0] !== roomFrameTag || bytes.length > maxHelloBytes) return null;
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes.subarray(1)));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  // Fields this version does not know are ignored, so a newer peer's hello still decodes here.
  const { type, visible, member, voters, term, leader, startingAnyway, deferringTo, neverLeads, learners, unreachable } = value as Record<string, unknown>;
  if (startingAnyway !== undefined && typeof startingAnyway !== 'boolean') return null;
  if (neverLeads !== undefined && typeof neverLeads !== 'boolean') return null;
  if (type !== 'hello' || typeof visible !== 'boolean' || typeof member !== 'boolean' || !Number.isSafeInteger(term) || (term as number) < 0) return null;
  const validId = (id: unknown): id is string => typeof id === 'string' && id.length > 0 && id.length <= maxIdLength;
  if (leader !== null && !validId(leader)) return null;
  if (deferringTo !== undefined && !validId(deferringTo)) return null;
  if (voters !== null && (!Array.isArray(voters) || voters.length === 0 || voters.length > maxListedVoters || !voters.every(validId))) return null;
  // Learners only beside voters (a configuration), and an empty list is sent as no field.
  if (learners !== undefined && (voters === null || !Array.isArray(learners) || learners.length === 0 || learners.length > maxListedLearners || !learners.every(validId))) return null;
  const validAbsence = (entry: unknown): entry is [string, number] =>
    Array.isArray(entry) && entry.length === 2 && validId(entry[0]) && Number.isSafeInteger(entry[1]) && (entry[1] as number) >= 0;
  if (unreachable !== undefined && (!Array.isArray(unreachable) || unreachable.length === 0 || unreachable.length > maxListedUnreachable || !unreachable.every(validAbsence))) return null;
  return {
    type,
    visible,
    member,
    voters: voters === null ? null : voters.map((id: string) => nodeId(id)),
    term: term as number,
    leader: leader === null ? null : nodeId(leader),
    ...(startingAnyway === true ? { startingAnyway } : {}),
    ...(deferringTo === undefined ? {} : { deferringTo: nodeId(deferringTo) }),
    ...(neverLeads === true ? { neverLeads } : {}),
    ...(learners === undefined ? {} : { learners: (learners as string[]).map((id) => nodeId(id)) }),
    ...(unreachable === undefined ? {} : { unreachable: (unreachable as [string, number][]).map(([id, forMs]) => [nodeId(id), forMs] as const) }),
  };
}

export function createRoomChannel(underlying: RaftTransport): RoomChannel {
  const raftFrames = createEmitter<RaftEnvelope>();
  const hellos = createEmitter<ReceivedHello>();
  const unsubscribe = underlying.incoming.subscribe((envelope) => {
    if (envelope.bytes[0] !== roomFrameTag) {
      raftFrames.emit(envelope);
      return;
    }
    const hello = decodeHello(envelope.bytes);
    if (hello !== null) hellos.emit({ from: envelope.from, hello });
  });
  const serveDataChannelsTo = underlying.serveDataChannelsTo?.bind(underlying);
  const transport: RaftTransport = {
    selfId: underlying.selfId,
    peers: underlying.peers,
    send: (to, bytes) => underlying.send(to, bytes),
    incoming: raftFrames,
    ...(underlying.maxPayloadBytes === undefined ? {} : { maxPayloadBytes: underlying.maxPayloadBytes }),
    ...(underlying.orderedFrameBytes === undefined ? {} : { orderedFrameBytes: underlying.orderedFrameBytes }),
    // Channels 2 and 3 carry Raft frames only: room hellos keep to the page's channels.
    ...(serveDataChannelsTo === undefined ? {} : { serveDataChannelsTo }),
  };
  return {
    transport,
    hellos,
    send: (to, hello) => underlying.send(to, encodeHello(hello)),
    close: unsubscribe,
  };
}
