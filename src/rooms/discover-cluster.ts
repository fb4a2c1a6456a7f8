// How a peer with no cluster on its storage finds the one it should join. It listens to the
// room's hellos: a member that has seen a commit names its cluster's voters, and the newcomer
// starts with those voters as its bootstrap configuration, as a learner (it is in none of them),
// so it accepts the leader's frames and the leader's policy admits it. Only when it has heard no
// member at all, after `discoveryMs`, does the newcomer with the smallest id bootstrap a
// one-voter cluster of itself; the others wait for its hellos. A peer that signaling lists but
// the transport cannot reach blocks every bootstrap: it may hold the room's cluster (or be the
// smallest id, about to start one), and starting a second cluster beside it would split the
// room's state without anyone noticing (README "Rooms"). The room reports such peers instead.
import type { Clock } from '../core/config.ts';
import type { ClusterConfig, NodeId } from '../core/types.ts';
import { sleep } from './propose-with-retries.ts';
import type { RoomPresence } from './room-presence.ts';

export type Discovery =
  | { readonly type: 'join'; readonly bootstrap: ClusterConfig }
  | { readonly type: 'bootstrap'; readonly bootstrap: ClusterConfig }
  /** Another peer lists our id as a member, but our storage holds no cluster: the id must not be reused. */
  | { readonly type: 'identityReused' };

export interface DiscoveryOptions {
  readonly selfId: NodeId;
  readonly presence: RoomPresence;
  /** Peers the transport reaches now. */
  readonly peers: () => ReadonlySet<NodeId>;
  /** Peers signaling lists in the room, reachable or not (default: `peers`). */
  readonly listed?: () => ReadonlySet<NodeId>;
  readonly clock: Clock;
  readonly discoveryMs: number;
  readonly pollMs: number;
  readonly signal?: AbortSignal | undefined;
  /** False for a witness: it never leads, so a cluster it bootstrapped alone could never commit. */
  readonly mayBootstrap?: boolean;
  /** Peers that never bootstrap (the room's witness): a newcomer does not wait for them to. */
  readonly neverBootstrap?: ReadonlySet<NodeId>;
  /**
   * Whether signaling has the room's real peer list yet (SignalingClient.ready). The listening
   * window starts when it turns true — or after `readyGraceMs` without it (a server that is down:
   * same-origin tabs still meet over a BroadcastChannel) — so a peer that reaches the server late
   * does not take an empty list for an empty room and bootstrap a second cluster.
   */
  readonly ready?: () => boolean;
  readonly readyGraceMs?: number;
  /**
   * The application's way out of a wait that may never end (JoinRoomOptions): while it returns
   * true, listed peers the transport cannot reach stop blocking a bootstrap. Reachable peers and
   * any member heard still count.
   */
  readonly startDespiteUnreachable?: () => boolean;
}

/**
 * One look at what the room said; null while it is too early to decide. `metMember` is set once
 * any member was heard: from then on this peer waits for a member rather than bootstrapping a
 * second cluster beside one that exists (and may hold committed data) but is away right now.
 */
export function judgeDiscovery(options: DiscoveryOptions, elapsedMs: number, memory: { metMember: boolean } = { metMember: false }): Discovery | null {
  const recent = options.presence.recent();
  for (const { hello } of recent.values()) if (hello.member) memory.metMember = true;
  let best: { voters: readonly NodeId[]; term: number } | null = null;
  for (const { hello } of recent.values()) {
    if (hello.voters === null) continue;
    if (best === null || hello.term > best.term) best = { voters: hello.voters, term: hello.term };
  }
  if (best !== null) {
    if (best.voters.includes(options.selfId)) return { type: 'identityReused' };
    return { type: 'join', bootstrap: { voters: [...best.voters] } };
  }
  if (elapsedMs < options.discoveryMs || memory.metMember) return null;
  const reachable = options.peers();
  const listed = options.startDespiteUnreachable?.() === true ? [] : (options.listed?.() ?? []);
  const room = new Set([...listed, ...reachable]);
  room.delete(options.selfId);
  // A member that has not seen a commit yet (restarting, or a bootstrap in progress): wait for it.
  if ([...room].some((peer) => recent.get(peer)?.hello.member === true)) return null;
  if (options.mayBootstrap === false) return null;
  if ([...room].some((peer) => blocksBootstrap(options, peer, elapsedMs, reachable.has(peer), recent.has(peer)))) return null;
  return { type: 'bootstrap', bootstrap: { voters: [options.selfId] } };
}

/**
 * Whether `peer` keeps this newcomer from bootstrapping now. Only the smallest id of the room may
 * bootstrap, so a smaller id blocks whether we hear it or not (never "ignored after a while": a
 * peer we cannot hear may be starting its own cluster). Every other peer must be accounted for:
 * heard saying it is a newcomer, or reachable but silent for twice the discovery time (a member
 * says so as soon as a link forms, so a long silence on a live link is not a member). A peer
 * signaling lists but the transport cannot reach is never accounted for: it may be a member.
 */
function blocksBootstrap(options: DiscoveryOptions, peer: NodeId, elapsedMs: number, reachable: boolean, heard: boolean): boolean {
  const mayBootstrap = options.neverBootstrap?.has(peer) !== true;
  if (mayBootstrap && peer < options.selfId) return true;
  if (heard) return false;
  return !reachable || elapsedMs < 2 * options.discoveryMs;
}

/**
 * The listed peers discovery counts, across signaling reconnects. A reconnecting client lists
 * nobody until it has joined again (SignalingClient.peers), and that empty list must not read as
 * an empty room (every waiting page would bootstrap alone): the peers listed while signaling was
 * last ready stay listed until it is ready again, when its list is the room's again. Peers that
 * come and go while it was never ready (a server down from the start, tabs meeting over a
 * BroadcastChannel) count as listed now. Bounded by the listed set (at most 1,024 peers).
 */
export function listedAcrossReconnects(listed: () => ReadonlySet<NodeId>, ready: () => boolean): () => ReadonlySet<NodeId> {
  let listedWhileReady: ReadonlySet<NodeId> = new Set();
  let held: ReadonlySet<NodeId> = new Set();
  return () => {
    const now = listed();
    if (ready()) {
      listedWhileReady = now;
      held = new Set();
      return now;
    }
    if (listedWhileReady.size > 0) {
      held = new Set([...held, ...listedWhileReady]);
      listedWhileReady = new Set();
    }
    return held.size === 0 ? now : new Set([...held, ...now]);
  };
}

export async function discoverCluster(options: DiscoveryOptions): Promise<Discovery> {
  const started = options.clock.now();
  const graceMs = options.readyGraceMs ?? 5_000;
  const ready = options.ready ?? (() => true);
  const listed = listedAcrossReconnects(options.listed ?? options.peers, ready);
  let windowStart: number | null = null;
  const memory = { metMember: false };
  for (;;) {
    const now = options.clock.now();
    if (windowStart === null && ready()) windowStart = now;
    if (windowStart === null && now - started >= graceMs) windowStart = started + graceMs;
    // Sampled every poll, so a reconnect between two looks still finds the peers listed before it.
    const listedNow = listed();
    // Before the window opens only a member's hello can decide (join it); never a bootstrap.
    const verdict = judgeDiscovery({ ...options, listed: () => listedNow }, windowStart === null ? -1 : now - windowStart, memory);
    if (verdict !== null) return verdict;
    await sleep(options.clock, options.pollMs, options.signal);
  }
}
