// The public shapes of a node (API.md "The node") and option validation.
import { parseAutoClientId } from '../core/auto-client-id.ts';
import type { Clock, RaftConfig } from '../core/config.ts';
import type { RaftMetric, RaftTraceEvent } from '../core/events.ts';
import type { Subscribable, Watchable } from '../core/observable.ts';
import { maxIdLength, type ClientId, type ClientIdentity, type ClusterConfig, type Committed, type LogEntry, type NodeId, type RaftRole, type Snapshot } from '../core/types.ts';
import type { RaftStorage } from '../storage/raft-storage.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';

export interface RaftNodeOptions {
  id: NodeId;
  /** Bootstrap membership, used only when storage holds none. */
  clusterConfig: ClusterConfig;
  transport: RaftTransport;
  storage: RaftStorage;
  raftConfig?: RaftConfig;
  identity?: ClientIdentity;
  onMetric?: (metric: RaftMetric) => void;
  /** Aborting closes the node. */
  signal?: AbortSignal;
}

export interface RaftNode {
  readonly id: NodeId;
  readonly role: Watchable<RaftRole>;
  readonly leader: Watchable<NodeId | null>;
  readonly term: Watchable<number>;
  readonly membership: Watchable<ClusterConfig>;
  readonly commitIndex: Watchable<number>;
  readonly compactionFloor: Watchable<number>;
  readonly trace: Subscribable<RaftTraceEvent>;
  /**
   * null while the node runs; once it stops, the error that stopped it: RaftClosedError after
   * close(), RaftStorageError (with its `reason`) when storage failed, or the broken invariant.
   * `role` keeps its last value (its type is API.md's RaftRole), so this is where "stopped" shows.
   * Announced at once, even while a storage write is still in flight (close() resolves after it):
   * a node created on the same storage object waits for that write before it restores.
   */
  readonly stopped: Watchable<Error | null>;
  committed(): AsyncIterable<Committed>;
  committedFrom(fromIndex: number): AsyncIterable<Committed>;
  propose(command: Uint8Array, options?: { requestId?: number; signal?: AbortSignal }): Promise<LogEntry>;
  readIndex(options?: { signal?: AbortSignal }): Promise<number>;
  changeMembership(target: ClusterConfig, options?: { signal?: AbortSignal }): Promise<ClusterConfig>;
  transferLeadership(target: NodeId, options?: { signal?: AbortSignal }): Promise<void>;
  cancelTransfer(): void;
  awaitLeadership(options?: { signal?: AbortSignal }): Promise<void>;
  publishSnapshot(snapshot: Snapshot): void;
  close(): Promise<void>;
  /**
   * On the leader: each peer's match index (how much of the leader's log it holds); empty on
   * any other role. Optional so other RaftNode implementations (a worker proxy) may omit it;
   * a room's membership policy needs it to promote only caught-up learners.
   */
  replicationProgress?(): ReadonlyMap<NodeId, number>;
  /**
   * On the leader: the peers that have not answered it within the last election timeout (or
   * never, since it took office or since they joined); empty on any other role. Optional like
   * replicationProgress; a room's membership policy needs it to free a learner slot held by a
   * peer that does not answer.
   */
  silentPeers?(): ReadonlySet<NodeId>;
  /**
   * The highest index applied here (committed, and in this node's own storage): the most a
   * snapshot may cover (publishSnapshot). Optional like replicationProgress; a worker node's page
   * checks publishSnapshot against it.
   */
  appliedIndex?(): number;
  /**
   * appliedIndex() as a watchable, announced with the step's other observables. Optional like
   * replicationProgress; a worker reports it to its page as it moves, which a follower's does
   * with no other observable changing (its write of entries it knew committed ends).
   */
  readonly applied?: Watchable<number>;
  /**
   * The client id this node stamps its proposals' dedup keys with (null for identity `none`): an
   * auto id is minted at every start, and again if another writer's entry turns up under it. It
   * tells this incarnation's entries from an earlier one's, which share the node id (a replicated
   * store needs that). Optional like replicationProgress.
   */
  readonly clientId?: Watchable<ClientId | null>;
}

/** The default clock: real timers, monotonic time from performance.now(). */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export function validateNodeOptions(options: RaftNodeOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('createRaftNode needs an options object');
  if (typeof options.id !== 'string' || options.id.length === 0 || options.id.length > maxIdLength) {
    throw new RangeError(`RaftNodeOptions.id must be a NodeId of 1 to ${maxIdLength} characters (nodeId("a")), got ${JSON.stringify(options.id) ?? String(options.id)}`);
  }
  if (options.transport === undefined || typeof options.transport.send !== 'function') throw new TypeError('RaftNodeOptions.transport must be a RaftTransport');
  if (options.transport.selfId !== options.id) {
    throw new RangeError(`RaftNodeOptions.transport.selfId (${options.transport.selfId}) must equal RaftNodeOptions.id (${options.id})`);
  }
  const maxPayloadBytes = options.transport.maxPayloadBytes;
  if (maxPayloadBytes !== undefined && (!Number.isSafeInteger(maxPayloadBytes) || maxPayloadBytes < 4096)) {
    throw new RangeError(`RaftTransport.maxPayloadBytes = ${String(maxPayloadBytes)} is invalid: a transport must carry frames of at least 4096 bytes`);
  }
  if (options.storage === undefined || typeof options.storage.term !== 'function') throw new TypeError('RaftNodeOptions.storage must be a RaftStorage');
  const failure: unknown = options.storage.failure;
  if (failure !== undefined && (typeof failure !== 'object' || failure === null || !('value' in failure) || typeof (failure as { subscribe?: unknown }).subscribe !== 'function')) {
    throw new TypeError('RaftNodeOptions.storage.failure, when present, must be a Watchable (value and subscribe)');
  }
  const identity = options.identity as ClientIdentity | null | undefined;
  if (identity !== undefined && (typeof identity !== 'object' || identity === null || (identity.type !== 'auto' && identity.type !== 'durable' && identity.type !== 'none'))) {
    throw new RangeError('RaftNodeOptions.identity must be { type: "auto" }, { type: "durable", clientId } or { type: "none" }');
  }
  // The durable id goes into every proposal's dedup key: one clientId("...") would refuse is
  // refused here, not later by the codec or by the application's ClientSessionTable.
  if (identity?.type === 'durable') {
    const durableId: unknown = identity.clientId;
    if (typeof durableId !== 'string' || durableId.length === 0 || durableId.length > maxIdLength) {
      throw new RangeError(`RaftNodeOptions.identity.clientId = ${JSON.stringify(durableId) ?? String(durableId)} is invalid: a durable identity needs a ClientId of 1 to ${maxIdLength} characters (clientId("..."))`);
    }
    // The ClientSessionTable tells the two kinds apart by shape alone, and retires an auto id once
    // a newer one of the same node appears: a durable id of that shape would be dropped with it,
    // and its later commands skipped as replays.
    if (parseAutoClientId(durableId) !== null) {
      throw new RangeError(`RaftNodeOptions.identity.clientId = ${JSON.stringify(durableId)} is invalid: a durable id must not end in "-" and 16 lowercase hex digits, the shape of auto ids, which the ClientSessionTable retires`);
    }
  }
}

/**
 * A witness (RaftConfig.witness) never campaigns, so one that is the only voter of the
 * configuration it starts on (`clusterConfig`, or the one its storage holds) could never elect a
 * leader or commit anything: refused rather than started to wait for ever. Checked on the
 * configuration in force, not the bootstrap alone, which a node with stored state ignores.
 */
export function refuseLoneWitness(id: NodeId, witness: boolean, voters: readonly NodeId[], fromStorage: boolean): void {
  if (!witness || voters.length !== 1 || voters[0] !== id) return;
  const source = fromStorage ? 'the configuration its storage holds' : 'RaftNodeOptions.clusterConfig';
  throw new RangeError(
    `RaftConfig.witness = true is invalid for node ${JSON.stringify(id)}: ${source} names it the only voter, and a witness never leads, so the cluster could never elect a leader or commit anything; add a voter that may lead, or start it with witness: false`,
  );
}
