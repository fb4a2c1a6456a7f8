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
  /** How long peers keep a hello of ours as recent (RoomPresence: four gossip intervals); default 4 × discoveryMs. */
  readonly helloLifetimeMs?: number;
  /**
   * After a wedge, the sender this peer refused (its frames kept coming). Of the clusters members
   * name, one whose hello names it as leader is joined, whatever term another claims: a hello is
   * anyone's word, and a made-up cluster in a huge term would otherwise take a newcomer back to
   * the same wedge on every fresh id. Absent, or named leader by no hello: the highest term, as
   * ever.
   */
  readonly preferClusterOf?: NodeId;
  /** Told each time the chooser this peer promised to join changes (null: no promise). */
  readonly onDeferral?: (chooser: NodeId | null) => void;
  /**
   * No node has ever run under this id: joinRoom minted it during this join, or its identity store
   * has never started a node in the room (room-identity.ts, saveBootstrap). Such an id cannot be
   * "reused", so a claim that lists it is not taken as `identityReused`, and one that lists it as
   * a voter is a lie (a learner becomes a voter only once it has acknowledged entries), ignored:
   * otherwise a stranger naming every fresh id a newcomer takes made it give each up in turn, and
   * kept it out of the room (review s52). Absent: the id may have run (the safe side).
   */
  readonly neverRanNode?: boolean;
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
 * exists (and may hold committed data) but is away right now. `deferringTo` is the chooser this
 * peer promised (in its hellos) not to bootstrap for: a reachable newcomer heard saying it starts
 * anyway on its user's choice, while this peer had not chosen and was held back by listed peers
 * it cannot reach (the smallest such chooser when several); or, if it chose too, the chooser a
 * smaller reachable page has already promised. The promise names it, so another chooser does not
 * take it for its own, and holds while it may still start: until it takes its choice back (says
 * so over a live link, no member), or it has been gone from the links and from signaling's list
 * for `discoveryMs` plus `helloLifetimeMs`. Released, the peer still waits out `helloLifetimeMs`
 * (`releasedAt`) before it may bootstrap, so no chooser still holds its last hello saying it
 * defers.
 */
export interface DiscoveryMemory {
  metMember: boolean;
  deferringTo: NodeId | null;
  chooserGoneSince: number | null;
  releasedAt: number | null;
}

export const freshDiscoveryMemory = (): DiscoveryMemory => ({ metMember: false, deferringTo: null, chooserGoneSince: null, releasedAt: null });

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
  const selfId = options.selfId;
  const claims = [...recent.values()].flatMap(({ hello }) => (hello.voters === null ? [] : [{ voters: hello.voters, learners: hello.learners ?? [], term: hello.term, leader: hello.leader }]));
  // Any claim that lists this id, whatever its term, and before choosing a cluster (review s52):
  // a node started on empty storage under an id the room's members still list may vote again in
  // terms it voted in (SPEC "Wedge"), and only the newest claim was checked, so a stranger's hello
  // in a higher term without the id made a wiped member run under its old id. As removedWhileAway
  // puts removal first, the unsafe reading loses: a fresh id costs only the id. A learner counts
  // too (review 2026-12-06): back on empty storage under its old id, the leader's match index for
  // it stayed where its lost log ended, and the policy promoted it without a log. Its own hellos
  // keep it from being listed while it decides: the policy does not admit a peer whose hello says
  // it runs no node yet. A peer of an earlier version lists no learners: only voters count.
  const neverRan = options.neverRanNode === true;
  if (!neverRan && claims.some((claim) => claim.voters.includes(selfId) || claim.learners.includes(selfId))) return { type: 'identityReused' };
  // An id that never ran is no voter of any honest cluster: such a claim is a lie, and starting on
  // it would make this node a voter of a cluster that does not have it.
  const believed = neverRan ? claims.filter((claim) => !claim.voters.includes(selfId)) : claims;
  const { preferClusterOf } = options;
  // Only a claim that names it as the leader: a removed member campaigning on its old
  // configuration (refused too) lists itself among voters, but leads nothing.
  const preferred = preferClusterOf === undefined ? [] : believed.filter((claim) => claim.leader === preferClusterOf && claim.voters.includes(preferClusterOf));
  let best: { voters: readonly NodeId[]; term: number } | null = null;
  for (const claim of preferred.length > 0 ? preferred : believed) {
    if (best === null || claim.term > best.term) best = { voters: claim.voters, term: claim.term };
  }
  if (best !== null) return { type: 'join', bootstrap: { voters: [...best.voters] } };
  if (elapsedMs < options.discoveryMs || memory.metMember || memory.deferringTo !== null) return null;
  if (memory.releasedAt !== null && options.clock.now() - memory.releasedAt < helloLifetimeOf(options)) return null;
  // Only this page's own user frees it from the peers it cannot reach.
  const listed = chose ? [] : (options.listed?.() ?? []);
  const room = new Set([...listed, ...reachable]);
  room.delete(options.selfId);
  // A member that has not seen a commit yet (restarting, or a bootstrap in progress): wait for it.
  if ([...room].some((peer) => recent.get(peer)?.hello.member === true)) return null;
  if (options.mayBootstrap === false) return null;
  if ([...room].some((peer) => blocksBootstrap(options, peer, elapsedMs, reachable.has(peer), recent.get(peer)?.hello, chose))) return null;
  return { type: 'bootstrap', bootstrap: { voters: [options.selfId] } };
}

/** How long a hello stays recent at a peer (RoomPresence); default four discovery periods. */
const helloLifetimeOf = (options: DiscoveryOptions): number => options.helloLifetimeMs ?? 4 * options.discoveryMs;

function trackDeferral(options: DiscoveryOptions, memory: DiscoveryMemory, recent: ReadonlyMap<NodeId, { readonly hello: RoomHello }>, reachable: ReadonlySet<NodeId>, chose: boolean): void {
  const now = options.clock.now();
  const chooser = memory.deferringTo;
  if (chooser === null) {
    // A page that never bootstraps (a witness) has nothing to promise.
    if (options.mayBootstrap === false) return;
    const isChooser = (peer: NodeId): boolean => {
      const hello = recent.get(peer)?.hello;
      return hello?.startingAnyway === true && !hello.member && reachable.has(peer) && options.neverBootstrap?.has(peer) !== true;
    };
    let choosers: NodeId[];
    if (!chose) {
      // Only a page held back by peers it cannot reach has a promise to make: one that is not
      // (a brand-new room, all in reach) starts or joins as ever, so a stranger's claim to start
      // anyway cannot hold a whole room waiting (s33 documentation review).
      const listed = options.listed?.() ?? reachable;
      const heldBack = [...listed].some((peer) => peer !== options.selfId && !reachable.has(peer));
      choosers = heldBack ? [...recent.keys()].filter(isChooser) : [];
    } else {
      // A page that chose does not defer (between choosers the smallest starts), except to a
      // chooser that a smaller reachable page has already promised: that page blocks it for good,
      // and the other chooser starts on the promise (s33 review: two choosers a click apart
      // waited on each other).
      choosers = [...recent]
        .flatMap(([peer, { hello }]) => (peer < options.selfId && reachable.has(peer) && hello.deferringTo !== undefined && hello.deferringTo !== options.selfId ? [hello.deferringTo] : []))
        .filter(isChooser);
    }
    const smallest = choosers.sort()[0];
    if (smallest !== undefined) {
      memory.deferringTo = smallest;
      memory.chooserGoneSince = null;
    }
    return;
  }
  const release = (): void => {
    memory.deferringTo = null;
    memory.chooserGoneSince = null;
    memory.releasedAt = now;
  };
  const hello = recent.get(chooser)?.hello;
  // It took its choice back: a live link carries its newer hello, and it has not started.
  if (reachable.has(chooser) && hello !== undefined && hello.startingAnyway !== true && !hello.member) return release();
  const listed = options.listed?.() ?? reachable;
  if (reachable.has(chooser) || listed.has(chooser)) {
    memory.chooserGoneSince = null;
    return;
  }
  // Gone from the links and the list (closed before starting, or started and left): released, as
  // an empty room would be, but not on a blip.
  memory.chooserGoneSince ??= now;
  if (now - memory.chooserGoneSince >= options.discoveryMs + helloLifetimeOf(options)) release();
}

/**
 * Whether `peer` keeps this newcomer from bootstrapping now. Only the smallest id of the room may
 * bootstrap, so a smaller id blocks whether we hear it or not (never "ignored after a while": a
 * peer we cannot hear may be starting its own cluster), unless this page starts on its user's
 * choice and the smaller peer, reachable, says it defers to this page (it has promised to only
 * join). Every other peer must be accounted for: heard saying it is a newcomer, or reachable but
 * silent for twice the discovery time (a member says so as soon as a link forms, so a long
 * silence on a live link is not a member). A peer signaling lists but the transport cannot reach
 * is never accounted for: it may be a member.
 */
function blocksBootstrap(options: DiscoveryOptions, peer: NodeId, elapsedMs: number, reachable: boolean, hello: RoomHello | undefined, chose: boolean): boolean {
  const mayBootstrap = options.neverBootstrap?.has(peer) !== true;
  if (mayBootstrap && peer < options.selfId) return !(chose && reachable && hello?.deferringTo === options.selfId);
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
  let announced: { startingAnyway: boolean; deferringTo: NodeId | null } = { startingAnyway: false, deferringTo: null };
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
    // (the chooser it names starts on it). A deferring page does not also claim to start, nor does
    // a page that never bootstraps (a witness): a smaller page would wait on it for good.
    const deferringTo = memory.deferringTo;
    const next = { startingAnyway: startingAnyway && deferringTo === null && options.mayBootstrap !== false, deferringTo };
    if (next.startingAnyway !== announced.startingAnyway || next.deferringTo !== announced.deferringTo) {
      const previous = announced.deferringTo;
      announced = next;
      const description: SelfDescription = { member: false, voters: null, term: 0, leader: null, ...(next.startingAnyway ? { startingAnyway: true } : {}), ...(next.deferringTo === null ? {} : { deferringTo: next.deferringTo }) };
      options.presence.describeSelf(() => description);
      if (next.deferringTo !== previous) options.onDeferral?.(next.deferringTo);
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
