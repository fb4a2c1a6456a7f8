// How a peer with no cluster on its storage finds the one it should join. It listens to the
// room's hellos: a member that has seen a commit names its cluster's voters, and the newcomer
// starts with those voters as its bootstrap configuration, as a learner (it is in none of them),
// so it accepts the leader's frames and the leader's policy admits it. Only when it has heard no
// member at all, after `discoveryMs`, does the newcomer with the smallest id bootstrap a
// one-voter cluster of itself; the others wait for its hellos. A peer that signaling lists but
// the transport cannot reach blocks every bootstrap: it may hold the room's cluster (or be the
// smallest id, about to start one), and starting a second cluster beside it would split the
// room's state without anyone noticing (README "Rooms"). The room reports such peers instead,
// and the application may choose to start without them. Only the page whose user chose starts:
// its hellos say so, a reachable newcomer with a smaller id that hears it defers (says so, and
// from then on only joins), and the chooser waits for that promise instead of the smaller id.
// Another page's choice never makes this one bootstrap: anyone in the room can claim to have
// chosen, and a page starting on a stranger's word split the room (review 31).
import type { Clock } from '../core/config.ts';
import type { ClusterConfig, NodeId } from '../core/types.ts';
import { defaultSignalingClientLimits, signalingProtocolLimits } from '../signaling/limits.ts';
import { sleep } from './propose-with-retries.ts';
import type { RoomHello } from './room-channel.ts';
import type { RoomPresence, SelfDescription } from './room-presence.ts';

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
   * window starts when it turns true, so a peer that reaches the server late (or never) does not
   * take an empty list for an empty room and bootstrap a second cluster beside the room's: the
   * room would stay split for good. A member heard meanwhile (over a BroadcastChannel, say) is
   * joined all the same.
   */
  readonly ready?: () => boolean;
  /**
   * Opens the window anyway this long after discovery began without signaling ready (a server
   * that is down, where same-origin tabs meeting over a BroadcastChannel may start a room
   * offline). Absent: never. The risk is the application's: members it cannot see may exist.
   */
  readonly readyGraceMs?: number;
  /** The reason signaling stopped for good (refused, or gave up), or null: discovery cannot go on without it. */
  readonly signalingFailure?: () => Error | null;
  /**
   * The application's way out of a wait that may never end (JoinRoomOptions): while it returns
   * true, listed peers the transport cannot reach stop blocking a bootstrap. Reachable peers and
   * any member heard still count.
   */
  readonly startDespiteUnreachable?: () => boolean;
  /** How long peers listed before a signaling reconnect still block after it (default heldPeersGraceMs + discoveryMs). */
  readonly heldPeersGraceMs?: number;
  /** True once the signaling client stopped for good (its `closed` settled): listed peers are no longer held. */
  readonly signalingClosed?: () => boolean;
}

/**
 * The application's choice, asked safely: a callback that throws counts as "no" (keep waiting,
 * the safe side) and its error is re-raised apart, as emitSafely does, instead of failing the join.
 */
function choseToStartAnyway(options: DiscoveryOptions): boolean {
  if (options.startDespiteUnreachable === undefined) return false;
  try {
    return options.startDespiteUnreachable() === true;
  } catch (error) {
    void Promise.reject(error);
    return false;
  }
}

/**
 * What discovery remembers between two looks. `metMember` is set once any member was heard: from
 * then on this peer waits for a member rather than bootstrapping a second cluster beside one that
 * exists (and may hold committed data) but is away right now. `deferredTo` holds the reachable
 * peers heard saying they start anyway on their user's choice while this one had not chosen:
 * while any of them may still start (reachable, or still listed by signaling), this peer has
 * promised in its hellos not to bootstrap, so it only joins.
 */
export interface DiscoveryMemory {
  metMember: boolean;
  readonly deferredTo: Set<NodeId>;
}

export const freshDiscoveryMemory = (): DiscoveryMemory => ({ metMember: false, deferredTo: new Set() });

/** Whether this peer has promised not to bootstrap (its hellos say `deferring`). */
export const isDeferring = (memory: DiscoveryMemory): boolean => memory.deferredTo.size > 0;

/**
 * One look at what the room said; null while it is too early to decide (see DiscoveryMemory for
 * what it remembers between looks).
 */
export function judgeDiscovery(options: DiscoveryOptions, elapsedMs: number, memory: DiscoveryMemory = freshDiscoveryMemory()): Discovery | null {
  const recent = options.presence.recent();
  for (const { hello } of recent.values()) if (hello.member) memory.metMember = true;
  const reachable = options.peers();
  const chose = choseToStartAnyway(options);
  trackDeferral(options, memory, recent, reachable, chose);
  let best: { voters: readonly NodeId[]; term: number } | null = null;
  for (const { hello } of recent.values()) {
    if (hello.voters === null) continue;
    if (best === null || hello.term > best.term) best = { voters: hello.voters, term: hello.term };
  }
  if (best !== null) {
    if (best.voters.includes(options.selfId)) return { type: 'identityReused' };
    return { type: 'join', bootstrap: { voters: [...best.voters] } };
  }
  if (elapsedMs < options.discoveryMs || memory.metMember || isDeferring(memory)) return null;
  // Only this page's own user frees it from the peers it cannot reach.
  const startingAnyway = chose;
  const listed = startingAnyway ? [] : (options.listed?.() ?? []);
  const room = new Set([...listed, ...reachable]);
  room.delete(options.selfId);
  // A member that has not seen a commit yet (restarting, or a bootstrap in progress): wait for it.
  if ([...room].some((peer) => recent.get(peer)?.hello.member === true)) return null;
  if (options.mayBootstrap === false) return null;
  if ([...room].some((peer) => blocksBootstrap(options, peer, elapsedMs, reachable.has(peer), recent.get(peer)?.hello, startingAnyway))) return null;
  return { type: 'bootstrap', bootstrap: { voters: [options.selfId] } };
}

/** Deferred-to peers are bounded by what one signaling list may hold. */
const maxDeferredTo = 256;

function trackDeferral(options: DiscoveryOptions, memory: DiscoveryMemory, recent: ReadonlyMap<NodeId, { readonly hello: RoomHello }>, reachable: ReadonlySet<NodeId>, chose: boolean): void {
  // A page that chose first does not defer: between choosers the smallest id starts, as ever.
  if (!chose || isDeferring(memory)) {
    for (const [peer, { hello }] of recent) {
      if (hello.startingAnyway === true && !hello.member && reachable.has(peer) && memory.deferredTo.size < maxDeferredTo) memory.deferredTo.add(peer);
    }
  }
  // A chooser that may still start keeps the promise alive; one gone from the link and from the
  // room's list (closed before starting, or started and left) releases it, as an empty room would.
  const listed = options.listed?.() ?? reachable;
  for (const peer of memory.deferredTo) if (!reachable.has(peer) && !listed.has(peer)) memory.deferredTo.delete(peer);
}

/**
 * Whether `peer` keeps this newcomer from bootstrapping now. Only the smallest id of the room may
 * bootstrap, so a smaller id blocks whether we hear it or not (never "ignored after a while": a
 * peer we cannot hear may be starting its own cluster), unless this page starts on its user's
 * choice and the smaller peer, reachable, says it defers (it has promised to only join). Every
 * other peer must be accounted for: heard saying it is a newcomer, or reachable but silent for
 * twice the discovery time (a member says so as soon as a link forms, so a long silence on a
 * live link is not a member). A peer signaling lists but the transport cannot reach is never
 * accounted for: it may be a member.
 */
function blocksBootstrap(options: DiscoveryOptions, peer: NodeId, elapsedMs: number, reachable: boolean, hello: RoomHello | undefined, chose: boolean): boolean {
  const mayBootstrap = options.neverBootstrap?.has(peer) !== true;
  if (mayBootstrap && peer < options.selfId) return !(chose && reachable && hello?.deferring === true);
  if (hello !== undefined) return false;
  return !reachable || elapsedMs < 2 * options.discoveryMs;
}

/**
 * How long peers listed before a signaling reconnect keep blocking once signaling is ready again
 * without them, beyond `discoveryMs`. After a server restart every page reconnects on its own
 * backoff (full jitter, capped at the WebSocket client's reconnectDelayMaxMs, 30 s by default):
 * the first page back sees a partial list, and a peer missing from it may only be sleeping out
 * its delay. A client configured with a longer maximum delay is not covered (see README "Rooms").
 */
export const heldPeersGraceMs = defaultSignalingClientLimits.reconnectDelayMaxMs;
/** The held set never exceeds what one signaling list may hold. */
const maxHeldPeers = signalingProtocolLimits.maxPeersListed;

export interface ListedAcrossReconnectsOptions {
  readonly listed: () => ReadonlySet<NodeId>;
  readonly ready: () => boolean;
  readonly clock: Clock;
  /** How long held peers still block after signaling is ready again (heldPeersGraceMs + discoveryMs). */
  readonly holdMs: number;
  /** True once the signaling client stopped for good: nobody can reappear, so nothing is held. */
  readonly closedForGood?: () => boolean;
}

/**
 * The listed peers discovery counts, across signaling reconnects. A reconnecting client lists
 * nobody until it has joined again (SignalingClient.peers), and the first list after a server
 * restart may hold only the pages that reconnected first: neither may read as the whole room
 * (every waiting page would bootstrap alone). The peers listed while signaling was last ready are
 * held while it is not, and after it is ready again until each reappears in its list or `holdMs`
 * passes (they really left). Peers that come and go while it was never ready (a server down from
 * the start, tabs meeting over a BroadcastChannel) count as listed now. Bounded by maxHeldPeers.
 */
export function listedAcrossReconnects(options: ListedAcrossReconnectsOptions): () => ReadonlySet<NodeId> {
  let listedWhileReady: ReadonlySet<NodeId> = new Set();
  let held = new Set<NodeId>();
  let wasReady = false;
  let holdUntil: number | null = null;
  return () => {
    const now = options.listed();
    if (options.closedForGood?.() === true) {
      held = new Set();
      return now;
    }
    if (options.ready()) {
      if (!wasReady && held.size > 0) holdUntil = options.clock.now() + options.holdMs;
      wasReady = true;
      listedWhileReady = now;
      for (const peer of now) held.delete(peer);
      if (holdUntil !== null && (held.size === 0 || options.clock.now() >= holdUntil)) {
        held = new Set();
        holdUntil = null;
      }
      return held.size === 0 ? now : new Set([...held, ...now]);
    }
    if (wasReady) {
      // Not ready again (another restart, maybe while still holding): the grace restarts once it is.
      for (const peer of listedWhileReady) if (held.size < maxHeldPeers) held.add(peer);
      listedWhileReady = new Set();
      wasReady = false;
      holdUntil = null;
    }
    return held.size === 0 ? now : new Set([...held, ...now]);
  };
}

export async function discoverCluster(options: DiscoveryOptions): Promise<Discovery> {
  const started = options.clock.now();
  const graceMs = options.readyGraceMs ?? Number.POSITIVE_INFINITY;
  const ready = options.ready ?? (() => true);
  const listed = listedAcrossReconnects({
    listed: options.listed ?? options.peers,
    ready,
    clock: options.clock,
    holdMs: options.heldPeersGraceMs ?? heldPeersGraceMs + options.discoveryMs,
    ...(options.signalingClosed === undefined ? {} : { closedForGood: options.signalingClosed }),
  });
  let windowStart: number | null = null;
  let wasReady = false;
  let announced: { startingAnyway: boolean; deferring: boolean } = { startingAnyway: false, deferring: false };
  const memory = freshDiscoveryMemory();
  for (;;) {
    const now = options.clock.now();
    const readyNow = ready();
    // Ready again after a reconnect: the list is the room's once more, so listen to it afresh.
    if (readyNow && !wasReady) windowStart = now;
    wasReady = readyNow;
    if (windowStart === null && now - started >= graceMs) windowStart = started + graceMs;
    const startingAnyway = choseToStartAnyway(options);
    // Sampled every poll, so a reconnect between two looks still finds the peers listed before it.
    const listedNow = listed();
    // Before the window opens only a member's hello can decide (join it); never a bootstrap.
    const verdict = judgeDiscovery({ ...options, listed: () => listedNow, startDespiteUnreachable: () => startingAnyway }, windowStart === null ? -1 : now - windowStart, memory);
    if (verdict !== null) return verdict;
    // Reachable peers must hear the choice (a smaller one defers to it) and the promise to defer
    // (a larger chooser starts on it). A deferring page does not also claim to start.
    const deferring = isDeferring(memory);
    const next = { startingAnyway: startingAnyway && !deferring, deferring };
    if (next.startingAnyway !== announced.startingAnyway || next.deferring !== announced.deferring) {
      announced = next;
      const description: SelfDescription = { member: false, voters: null, term: 0, leader: null, ...(next.startingAnyway ? { startingAnyway: true } : {}), ...(next.deferring ? { deferring: true } : {}) };
      options.presence.describeSelf(() => description);
    }
    // Signaling stopped for good (a wrong room secret, say) with nobody heard and nobody reachable:
    // this peer can meet no one, and a cluster of its own would take writes nobody else ever
    // sees. Said so. A peer already heard or reached over the transport may still name its
    // cluster (a member restarting), so then the wait goes on.
    const failure = options.signalingFailure?.() ?? null;
    if (failure !== null && !memory.metMember && options.presence.recent().size === 0 && options.peers().size === 0) throw failure;
    await sleep(options.clock, options.pollMs, options.signal);
  }
}
