// joinRoom's body: signaling -> transport -> node -> membership policy -> replicated store. A peer
// meets the room through its signaling client, finds the room's cluster (or bootstraps one),
// starts its node on its own storage under an id that survives reloads, and runs the room's
// coordinator (policy and visibility hand-off) beside an application store. This file keeps the
// room's identity across ids (a wedge means a fresh id on empty storage); one id's stay is
// room-incarnation.ts, its connections room-plumbing.ts, the options join-room-options.ts. It
// names no engine: the root's joinRoom (join-room.ts) gives createRaftNode as the default, and
// `raftmesh/rooms`'s (join-room-without-engine.ts) requires the caller's, so a page that runs its
// engine in a worker need not ship one.
import { createIncarnationFollowers } from './incarnation-followers.ts';
import { resolveRaftConfig, type Clock } from '../core/config.ts';
import { nodeId, type NodeId } from '../core/types.ts';
import { realClock } from '../driver/node-options.ts';
import { watchAbort } from '../driver/abort-watch.ts';
import { claimLost, defaultKeyValueStore, forgetNodeClaim, identityKey, loadBootstrap, loadOrMintNodeIdentity, mintNodeIdentity, saveNodeIdentity, type KeyValueStore } from './room-identity.ts';
import type { DurableIdentityStore } from './durable-identity-store.ts';
import { emitSafely, reasonOf } from './room-events.ts';
import { canClaimTabSlots, claimTabSlot, type TabSlot } from './tab-identity.ts';
import { createWedgeWatch, wedgeTimings, type WedgeTimings } from './wedge-verdict.ts';
import { roomTimings, validateBeforeJoining, type JoinRoomOptions, type JoinRoomOptionsWithNode, type NodeFactory, type Room } from './join-room-options.ts';
import { joinAs, type Incarnation, type WedgeMetric } from './room-incarnation.ts';

/** Rejoining under a fresh id happens at most this often in one call (an id found reused). */
const maxIdentityAttempts = 3;

/**
 * Browser tabs: an identity slot held by a Web Lock (or, without Web Locks, by an IndexedDB
 * version lock) over a durable store in IndexedDB (tab-identity.ts), from the join until the room
 * is left, so two tabs of one profile are two members and a reloaded tab, or a join after a leave,
 * is the same one. Elsewhere (null): localStorage if present, else memory.
 */
async function claimDefaultSlot(room: string, signal: AbortSignal | undefined): Promise<TabSlot | null> {
  const hasLocalStorage = (globalThis as { localStorage?: unknown }).localStorage !== undefined;
  return canClaimTabSlots() && hasLocalStorage ? claimTabSlot(room, signal) : null;
}

/**
 * Joins the room with `given.createNode`, or with `defaultCreateNode` when the options name none
 * (null: they must, and are refused before anything opens when they do not).
 */
export async function joinRoomWith<State, Command>(given: JoinRoomOptions<State, Command>, defaultCreateNode: NodeFactory | null): Promise<Room<State, Command>> {
  validateBeforeJoining(given);
  const createNode = given.createNode ?? defaultCreateNode;
  // Still before anything opens.
  if (createNode === null) {
    throw new TypeError("joinRoom from 'raftmesh/rooms' carries no engine: pass createNode, e.g. workerNodeFactory({ storage }) from 'raftmesh/worker', or createRaftNode (or use joinRoom from 'raftmesh', whose default is createRaftNode)");
  }
  const options: JoinRoomOptionsWithNode<State, Command> = { ...given, createNode };
  if (options.identityStore !== undefined) return joinHoldingSlot(options, options.identityStore, null);
  const slot = await claimDefaultSlot(options.room, options.signal);
  if (slot === null) return joinHoldingSlot(options, defaultKeyValueStore(), null);
  // An abort while joining ends the join (it fails, or leaves at once): a join meanwhile in this
  // tab waits for the slot to come back (tab-identity.ts).
  const stopWatching = options.signal === undefined ? () => undefined : watchAbort(options.signal, () => slot.announceRelease());
  try {
    return await joinHoldingSlot(options, slot.store, slot);
  } catch (error) {
    // Whatever the failed join opened is closed by now (joinAs): the slot's id may run again.
    slot.announceRelease();
    await slot.release();
    throw error;
  } finally {
    stopWatching();
  }
}

/** The join itself, under `identityStore`; the room's leave() gives `slot` back once the node has closed. */
async function joinHoldingSlot<State, Command>(options: JoinRoomOptionsWithNode<State, Command>, identityStore: KeyValueStore, slot: TabSlot | null): Promise<Room<State, Command>> {
  const givenClient = typeof options.signaling === 'function' ? null : options.signaling;
  const fixedId = givenClient?.selfId ?? options.nodeId ?? null;
  const clock = options.raftConfig?.clock ?? realClock;
  let current: Incarnation<State, Command>;
  let left = false;
  let rejoining = false;
  /** The rejoin under way, which leave() waits for: nothing may open or delete storage after it. */
  let rejoinInFlight: Promise<void> = Promise.resolve();
  /** Aborted by leave(): stops a rejoin's discovery, which may otherwise wait on peers for long. */
  const leaving = new AbortController();
  const followers = createIncarnationFollowers<State, Command>();
  options.signal?.addEventListener('abort', () => leaving.abort(options.signal?.reason), { once: true });

  const rejoin = async (wedged: Incarnation<State, Command>, metric: WedgeMetric): Promise<void> => {
    emitSafely(options.onEvent, { type: 'wedged', id: wedged.id, refusedFrom: metric.from, gate: metric.gate, voters: metric.voters, at: clock.now() });
    // A fixed id (given, or the signaling client's) cannot change: the application decides.
    if (fixedId !== null || left || rejoining || wedged !== current) return;
    // Wedged only if it follows no leader, or only the one it refuses, while that sender is still
    // refused, for longer than an election takes (wedge-verdict.ts). The node reports a sender
    // once, so a report dismissed now is looked at again while this id runs: the leader it names
    // may turn out stale, or go.
    const intervalMs = roomTimings(options).gossipIntervalMs;
    const timings = wedgeTimings(resolveRaftConfig(options.raftConfig).electionTimeoutMaxMs, intervalMs);
    if (!(await stillWedged(wedged, metric, () => !left && !rejoining && wedged === current, clock, intervalMs, timings))) return;
    if (left || rejoining || wedged !== current) return;
    rejoining = true;
    const run = async (): Promise<void> => {
      try {
        // Closes the wedged id's storage too: one still open would keep its database from being deleted.
        await wedged.leave();
        // Left meanwhile: the wedged id stays saved, and the next join deals with it.
        if (left) return;
        const fresh = await freshId(options, identityStore, wedged.id);
        discardAbandoned(options, wedged.id);
        if (left) return;
        // The refused sender led a cluster this node could not follow: prefer the cluster whose
        // hellos name it as leader, whatever term another hello claims (lying-hello.test.ts).
        const joined = await joinWithRetries({ ...options, signal: leaving.signal }, identityStore, { id: fresh, fixed: false, neverRanNode: true }, rejoin, metric.from);
        if (left) {
          await joined.leave();
          return;
        }
        current = joined;
        followers.moved(current);
        emitSafely(options.onEvent, { type: 'rejoined', previousId: wedged.id, id: current.id, at: clock.now() });
      } catch (error) {
        // A rejoin that leave() cut short is not a failure the application needs to hear of.
        if (!left) emitSafely(options.onEvent, { type: 'rejoinFailed', reason: error instanceof Error ? error.message : String(error), at: clock.now() });
      } finally {
        rejoining = false;
      }
    };
    rejoinInFlight = run();
    await rejoinInFlight;
  };

  // A fixed id may have run a node with another identity store: the store says nothing of it.
  const first = fixedId === null ? await loadUsableNodeId(options, identityStore) : { id: await checkFixedId(options, identityStore, fixedId, givenClient !== null), fixed: true, neverRanNode: false };
  current = await joinWithRetries(options, identityStore, first, rejoin);
  const room: Room<State, Command> = {
    get id() {
      return current.id;
    },
    get node() {
      return current.node;
    },
    get store() {
      return current.store;
    },
    get signaling() {
      return current.signaling;
    },
    follow: (subscribe) => followers.add(subscribe, current),
    leave: async () => {
      left = true;
      followers.stopAll();
      slot?.announceRelease();
      leaving.abort(new Error('the room was left'));
      try {
        await rejoinInFlight;
        await current.leave();
      } finally {
        // After the node and the storage joinRoom opened are closed: a join that takes the slot
        // next starts the same id, and must not find its storage still held.
        await slot?.release();
      }
    },
  };
  if (options.signal?.aborted === true) {
    await room.leave();
    throw options.signal.reason;
  }
  options.signal?.addEventListener('abort', () => void room.leave(), { once: true });
  return room;
}

/**
 * How many times a dismissed wedge report is looked at again (one per gossip interval: minutes).
 * A report that counts at the last of them is looked at until it is a verdict or breaks: the
 * verdict needs four election timeouts of counting, and with long election timeouts and a short
 * gossip interval (2 s and 10 ms) that outlasted all the rechecks, so a node wedged from the
 * first look was never found so.
 */
const maxWedgeRechecks = 600;

/** Whether the incarnation is found wedged while `watching()`; false once the node stops, or the rechecks run out while the report does not count. */
async function stillWedged<State, Command>(
  incarnation: Incarnation<State, Command>,
  metric: WedgeMetric,
  watching: () => boolean,
  clock: Clock,
  intervalMs: number,
  timings: WedgeTimings,
): Promise<boolean> {
  const wedgedFor = createWedgeWatch(timings);
  for (let recheck = 0; recheck <= maxWedgeRechecks || wedgedFor.counting; recheck += 1) {
    if (!watching() || incarnation.node.stopped.value !== null) return false;
    const view = { selfId: incarnation.id, following: incarnation.node.leader.value, term: incarnation.node.term.value, refused: metric.from, hellos: incarnation.presence.recent() };
    if (wedgedFor(clock.now(), view, incarnation.refusals.lastRefused(metric.from))) return true;
    await new Promise<void>((resolve) => clock.setTimeout(resolve, intervalMs));
  }
  return false;
}

/** The id a join starts under: whether the application fixed it, and whether no node has ever run under it (discover-cluster.ts `neverRanNode`). */
interface FirstId {
  readonly id: NodeId;
  readonly fixed: boolean;
  readonly neverRanNode: boolean;
}

/**
 * The saved id, or a fresh one. A saved claimed id whose claim the store no longer holds (a
 * partial restore, a store that kept only some keys) can never pass a signaling server again, so
 * it is given up like a wedged id: a fresh id, and its storage discarded (`storageDiscarded`).
 * No node has run under an id minted here, nor under one saved in a store that has never started
 * a node in the room (it holds no bootstrap: room-identity.ts).
 */
async function loadUsableNodeId<State, Command>(options: JoinRoomOptions<State, Command>, identityStore: KeyValueStore): Promise<FirstId> {
  const { id, minted } = await loadOrMintNodeIdentity(identityStore, options.room, options.raftConfig?.random);
  reportLostIdentity(options, identityStore);
  if (!(await claimLost(identityStore, options.room, id))) return { id, fixed: false, neverRanNode: minted || (await loadBootstrap(identityStore, options.room)) === null };
  const fresh = await freshId(options, identityStore, id);
  discardAbandoned(options, id);
  return { id: fresh, fixed: false, neverRanNode: true };
}

/**
 * The tab's saved id went with the origin's IndexedDB (durable-identity-store.ts; the id read
 * above is then a fresh one): the same loss as a node database the browser deleted, said with the
 * same event, and the lost id's storage discarded in case anything of it is left.
 */
function reportLostIdentity<State, Command>(options: JoinRoomOptions<State, Command>, identityStore: KeyValueStore): void {
  const lostText = (identityStore as Partial<DurableIdentityStore>).lostValue?.(identityKey(options.room)) ?? null;
  let lost: NodeId;
  try {
    if (lostText === null) return;
    lost = nodeId(lostText);
  } catch {
    return; // not an id any node could have had: nothing to report or discard
  }
  const clock = options.raftConfig?.clock ?? realClock;
  const reason = "the browser no longer holds this tab's IndexedDB databases (it deletes all of a site's databases when it finds them torn after a crash, or they were cleared): the tab's identity and its node's log, term and vote are gone";
  emitSafely(options.onEvent, { type: 'storageLost', id: lost, reason, at: clock.now() });
  discardAbandoned(options, lost);
  // Best effort, not awaited: the claim's copy of an id gone for good only takes a few bytes.
  void Promise.resolve()
    .then(() => forgetNodeClaim(identityStore, options.room, lost))
    .catch(() => undefined);
}

/** A fixed id cannot be replaced: a claimed one without its claim is refused here, naming the store. */
async function checkFixedId<State, Command>(options: JoinRoomOptions<State, Command>, identityStore: KeyValueStore, id: NodeId, clientGiven: boolean): Promise<NodeId> {
  // A client the application made carries what it was given; only a factory gets the store's claim.
  if (clientGiven || !(await claimLost(identityStore, options.room, id))) return id;
  throw new RangeError(`joinRoom: nodeId ${JSON.stringify(id)} is a claimed id (peer-k…), and the identity store holds no claim for it in room ${JSON.stringify(options.room)}: a signaling server refuses it without one. Pass the identityStore it was minted with, or leave nodeId out to have joinRoom mint one`);
}

/** A fresh claimed id, saved with its claim in place of `abandoned`, whose claim is then forgotten. */
async function freshId<State, Command>(options: JoinRoomOptions<State, Command>, identityStore: KeyValueStore, abandoned: NodeId): Promise<NodeId> {
  const identity = mintNodeIdentity(options.raftConfig?.random);
  await saveNodeIdentity(identityStore, options.room, identity);
  // Best effort: an orphaned claim only takes a few bytes, and a store whose delete fails must not
  // fail a rejoin whose fresh id is already saved.
  await Promise.resolve()
    .then(() => forgetNodeClaim(identityStore, options.room, abandoned))
    .catch(() => undefined);
  return identity.id;
}

async function joinWithRetries<State, Command>(
  options: JoinRoomOptionsWithNode<State, Command>,
  identityStore: KeyValueStore,
  first: FirstId,
  onWedged: (incarnation: Incarnation<State, Command>, metric: WedgeMetric) => Promise<void>,
  preferClusterOf?: NodeId,
): Promise<Incarnation<State, Command>> {
  const clock = options.raftConfig?.clock ?? realClock;
  const fixedId = first.fixed;
  let id = first.id;
  // Every id after the first is minted below: no node has run under it.
  let neverRanNode = first.neverRanNode;
  for (let attempt = 1; ; attempt += 1) {
    const outcome = await joinAs(options, identityStore, id, onWedged, { neverRanNode, preferClusterOf });
    if (outcome.type === 'joined') return outcome.incarnation;
    if (outcome.type === 'storageLost') {
      // The application hears of it even when it cannot go on (a fixed id): it is data loss.
      emitSafely(options.onEvent, { type: 'storageLost', id, reason: outcome.error.message, at: clock.now() });
      // A fixed id cannot change: the storage's own refusal says what was lost and what to do.
      if (fixedId) throw outcome.error;
    } else if (fixedId) {
      throw new Error(`joinRoom: ${id} cannot rejoin under its id (the room lists it as a voter or a learner while this peer's storage is empty, or it was removed while away); give a fresh nodeId`);
    }
    if (attempt >= maxIdentityAttempts) {
      throw new Error(`joinRoom: ${id}, the last of the ${maxIdentityAttempts} ids one join may try, cannot be used either (${outcome.type === 'storageLost' ? 'its storage lost what it held' : 'the room lists it as a member while its storage is empty, or it was removed while away'}); it stays saved for the next join, and the room or this peer's storage keeps refusing fresh ids`);
    }
    // SPEC "Wedge": the way back is a fresh id on empty storage, admitted by the policy. joinAs
    // closed the old id's storage; it is discarded once the fresh id is saved. A lost storage is
    // given up the same way: an empty log under the old id would vote again in terms it voted in.
    const abandoned = id;
    id = await freshId(options, identityStore, abandoned);
    neverRanNode = true;
    discardAbandoned(options, abandoned);
  }
}

/** Hands an id given up for good to `discardStorage` (once), reporting the outcome without waiting for it. */
function discardAbandoned<State, Command>(options: JoinRoomOptions<State, Command>, id: NodeId): void {
  const discard = options.discardStorage;
  if (discard === undefined) return;
  const clock = options.raftConfig?.clock ?? realClock;
  const report = (failure: string | null): void => emitSafely(options.onEvent, { type: 'storageDiscarded', id, failure, at: clock.now() });
  let pending: void | Promise<void>;
  try {
    pending = discard(id);
  } catch (error) {
    report(reasonOf(error));
    return;
  }
  // Not awaited: deleting a large database takes a while (or waits on a connection another tab
  // still holds), and the join under the fresh id needs nothing from it.
  Promise.resolve(pending).then(
    () => report(null),
    (error: unknown) => report(reasonOf(error)),
  );
}
