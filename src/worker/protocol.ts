// The page <-> worker boundary as plain data (structured-clone safe, no classes, no functions),
// so both sides can be checked by the compiler and errors can be rebuilt on the page.
//
// Three channels connect a page client to its worker:
// - the Worker itself, carrying Comlink calls (WorkerNodeApi): start, propose, reads, trace
//   subscription, ... (one channel, so the worker sees calls in the order the page made them);
// - an events port: pushed state, metrics, trace and committed-stream items to the page, stream
//   opening, credit and closing to the worker;
// - a transport port: batches of Raft frames both ways and the peers set (transport-bridge.ts),
//   and the data channels a WebRTC transport hands to the worker.
import type { RaftConfig } from '../core/config.ts';
import type { StorageFailureReason } from '../core/errors.ts';
import type { RaftMetric, RaftTraceEvent } from '../core/events.ts';
import type { StoredNodeState } from '../storage/stored-node-state.ts';
import type { DataChannelGuestMessage, DataChannelHandOff } from '../transport/webrtc/data-channel-hand-off.ts';
import type { ClientId, ClientIdentity, ClusterConfig, Committed, LogEntry, NodeId, RaftRole, Snapshot, TransferAbandonReason } from '../core/types.ts';

/** Storage is opened inside the worker, so it is described as data. */
export type WorkerStorageOptions =
  | { readonly type: 'indexeddb'; readonly name: string; readonly durability?: 'strict' | 'relaxed' }
  | { readonly type: 'memory' };

/** A clock and a random source cannot cross the boundary: the worker uses real ones. */
export type WorkerRaftConfig = Omit<RaftConfig, 'clock' | 'random'>;

export interface StartRequest {
  readonly id: NodeId;
  readonly clusterConfig: ClusterConfig;
  readonly storage: WorkerStorageOptions;
  readonly raftConfig?: WorkerRaftConfig;
  readonly identity?: ClientIdentity;
  /** Whether the page wants metrics (the engine measures only then). */
  readonly metrics: boolean;
  readonly maxPayloadBytes?: number;
  readonly orderedFrameBytes?: number;
}

/** The observables of a node. `version` orders snapshots that reach the page by two routes. */
export interface NodeState {
  readonly version: number;
  readonly role: RaftRole;
  readonly leader: NodeId | null;
  readonly term: number;
  readonly membership: ClusterConfig;
  readonly commitIndex: number;
  /** RaftNode.appliedIndex: what the page checks publishSnapshot against. */
  readonly appliedIndex: number;
  readonly compactionFloor: number;
  /** RaftNode.clientId: the id the node stamps its proposals with (null for identity none). */
  readonly clientId: ClientId | null;
  readonly stopped: SerializedError | null;
  /** On a leader, each peer's match index (RaftNode.replicationProgress); empty otherwise. */
  readonly replicationProgress: readonly (readonly [NodeId, number])[];
  /** On a leader, the peers not answering it (RaftNode.silentPeers); empty otherwise. */
  readonly silentPeers: readonly NodeId[];
}

/** An error as data: the classes of core/errors.ts by name with their fields, or a plain Error. */
export type SerializedError =
  | { readonly type: 'notLeader'; readonly message: string; readonly leader: NodeId | null }
  | { readonly type: 'leadershipLost'; readonly message: string }
  | { readonly type: 'membershipChangeInProgress'; readonly message: string }
  | { readonly type: 'leadershipTransfer'; readonly message: string; readonly reason: TransferAbandonReason }
  | { readonly type: 'clientIdCollision'; readonly message: string }
  | { readonly type: 'closed'; readonly message: string }
  | { readonly type: 'proposalRejected'; readonly message: string }
  | { readonly type: 'notMember'; readonly message: string; readonly outcomeUnknown: boolean }
  | { readonly type: 'storage'; readonly message: string; readonly reason: StorageFailureReason }
  | { readonly type: 'corruptStorage'; readonly message: string }
  | { readonly type: 'range'; readonly message: string }
  | { readonly type: 'typeError'; readonly message: string }
  | { readonly type: 'aborted'; readonly message: string }
  | { readonly type: 'other'; readonly name: string; readonly message: string; readonly stack: string | null };

/**
 * A call's answer. Events and answers travel on different channels, which keep no order between
 * them, so an answer names the last event batch posted before it (`eventsThrough`) and the page
 * settles the call only after handling that batch: a resolved propose is never ahead of the
 * observables, the metrics or the committed streams. (Every state change is an event, so answers
 * need not carry the state themselves.)
 */
export type CallOutcome<T> = Answer<T> & { readonly eventsThrough: number };

export type Answer<T> = { readonly type: 'ok'; readonly value: T } | { readonly type: 'error'; readonly error: SerializedError };

/** One proposal of a batch (WorkerNodeApi.proposeBatch, proposal-records.ts); its answer comes as an `answer` event. */
export interface ProposalRequest {
  readonly callId: number;
  readonly command: Uint8Array;
  readonly requestId: number | null;
  /** The caller passed an abort signal: the page may send `abort(callId)` for it. */
  readonly abortable: boolean;
}

/** The worker's API, called through Comlink. `callId` names a call so the page can abort it. */
export interface WorkerNodeApi {
  /**
   * Takes the Web Lock `name` for the rest of the worker's life (worker-life.ts); true once held,
   * false where the worker has no Web Locks. The page then requests the same lock: it is granted
   * only when this worker is gone. Called before start, so a death while starting is seen too.
   */
  holdLifeLock(name: string): Promise<boolean>;
  /**
   * Opens `storage`, reads what a room decides a start on (stored-node-state.ts) and closes it
   * again: the page learns whether an id holds a log without opening the database or loading
   * anything itself (workerNodeFactory's readStoredState, in a worker with no node yet). Refused while
   * a node runs or starts in this worker, whose storage that would be.
   */
  readStoredState(storage: WorkerStorageOptions): Promise<Answer<StoredNodeState>>;
  /** Deletes `storage` (nothing to delete in memory); refused while a node runs or starts here. */
  destroyStorage(storage: WorkerStorageOptions): Promise<Answer<null>>;
  /** Answers with the node's initial state. */
  start(request: StartRequest, transportPort: MessagePort, eventsPort: MessagePort): Promise<CallOutcome<NodeState>>;
  /**
   * Every proposal the page made in one synchronous burst, in one transferred buffer
   * (proposal-records.ts); each answer comes back as an `answer` event, batched with the other
   * events (one message each way per burst).
   */
  proposeBatch(proposals: ArrayBuffer): void;
  readIndex(callId: number): Promise<CallOutcome<number>>;
  changeMembership(callId: number, target: ClusterConfig): Promise<CallOutcome<ClusterConfig>>;
  transferLeadership(callId: number, target: NodeId): Promise<CallOutcome<null>>;
  awaitLeadership(callId: number): Promise<CallOutcome<null>>;
  abort(callId: number): void;
  /** The engine traces only while someone listens (tracing costs), so the page says when it does. */
  setTrace(enabled: boolean): void;
  cancelTransfer(): void;
  publishSnapshot(snapshot: Snapshot): CallOutcome<null>;
  /** Closes the node and its storage, then lets the life lock go; the page terminates the worker afterwards. */
  close(): Promise<CallOutcome<null>>;
}

/** Worker -> page on the events port, batched per task (worker-outbox.ts). */
export type WorkerEvent =
  | { readonly type: 'state'; readonly state: NodeState }
  | { readonly type: 'metric'; readonly metric: RaftMetric }
  | { readonly type: 'trace'; readonly event: RaftTraceEvent }
  | { readonly type: 'committed'; readonly streamId: number; readonly item: Committed }
  | { readonly type: 'streamEnded'; readonly streamId: number; readonly error: SerializedError | null }
  | { readonly type: 'answer'; readonly callId: number; readonly answer: Answer<LogEntry> };

export interface WorkerEventBatch {
  readonly type: 'events';
  /** 1, 2, 3, ... in posting order. */
  readonly sequence: number;
  /**
   * Every event of the batch in order, as records (event-records.ts): committed entries and
   * proposals' answers in binary, a marker for each of `objects`.
   */
  readonly records: ArrayBuffer;
  /** The events records do not hold (state, metrics, trace, errors, ...), in order. */
  readonly objects: readonly WorkerEvent[];
}

/**
 * Page -> worker on the events port. A committed stream's credit is counted in items and in bytes
 * (commands, snapshot states: committedItemBytes): the worker sends while it has both, so what a
 * page buffers is bounded in count and, but for one item, in size.
 */
export type PageEvent =
  /** Starts a stream at fromIndex with `credit` items and `creditBytes` bytes the page has room for. */
  | { readonly type: 'streamOpen'; readonly streamId: number; readonly fromIndex: number; readonly credit: number; readonly creditBytes: number }
  /** The page consumed items: the worker may send `credit` more items and `creditBytes` more bytes. */
  | { readonly type: 'streamCredit'; readonly streamId: number; readonly credit: number; readonly creditBytes: number }
  | { readonly type: 'streamClose'; readonly streamId: number };

/** What a committed item counts against a stream's byte credit. */
export function committedItemBytes(item: Committed): number {
  switch (item.type) {
    case 'entry':
      return item.entry.command.byteLength;
    case 'install':
      return item.snapshot.state.byteLength;
    case 'internal':
      return 0;
  }
}

/** Transport port, both ways: frames packed into one transferred buffer per batch. */
export interface FrameBatch {
  readonly type: 'frames';
  /** Sender (page -> worker) or recipient (worker -> page) of each frame. */
  readonly peers: readonly NodeId[];
  /** End offset of each frame in `buffer`; frame k spans [ends[k-1] ?? 0, ends[k]). */
  readonly ends: readonly number[];
  readonly buffer: ArrayBuffer;
}

/** Transport port, page -> worker: the reachable peers changed. */
export interface PeersUpdate {
  readonly type: 'peers';
  readonly peers: readonly NodeId[];
}

/**
 * Frames and peers; page -> worker also a connection's channels 2 and 3 and what the worker may do
 * with them, worker -> page which it took and their counters (data-channel-hand-off.ts).
 */
export type TransportMessage = FrameBatch | PeersUpdate | DataChannelHandOff | DataChannelGuestMessage;

/** Bounds of the boundary (DESIGN.md "put a bound on everything"). */
export const workerLimits = {
  /**
   * Committed items a page stream buffers at most; also the credit the worker may use. 512, not
   * 64: with 64 (refilled by halves) a page sent a credit message per 32 entries, and at
   * saturation the pages' main threads spent a quarter more and the cluster committed 3-11 %
   * less (bench:browser-diagnose, 3 alternating rounds, 2026-12-01).
   */
  committedWindow: 512,
  /** Bytes of committed items a page stream buffers at most (one larger item still goes alone). */
  committedWindowBytes: 4 * 1024 * 1024,
  /** Committed streams open at once per node. */
  maxOpenStreams: 1_024,
  /** Frames one transport batch carries at most before it is flushed early. */
  maxFramesPerBatch: 1_024,
  /** Bytes one transport batch carries at most before it is flushed early. */
  maxBatchBytes: 4 * 1024 * 1024,
  /** Frames waiting for a flush at most; beyond it frames are dropped (transports are best effort). */
  maxQueuedFrames: 16_384,
} as const;
