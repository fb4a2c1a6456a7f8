// The public entry of raftmesh (API.md): everything in the contract, the browser- and Node-only
// pieces too (API.md: "Everything below is exported from the package root"). Those also have
// subpath entries, for bundles that want only them.
export { clientId, nodeId, validateClusterConfig } from './core/types.ts';
export type {
  ClientId,
  ClientIdentity,
  ClusterConfig,
  Committed,
  ConfigPayload,
  DedupKey,
  LogEntry,
  NodeId,
  RaftEnvelope,
  RaftRole,
  Snapshot,
  SnapshotMeta,
  StepDownReason,
  StoredSnapshot,
  TransferAbandonReason,
  VoteDenialReason,
} from './core/types.ts';
export type { Emitter, Subscribable, Unsubscribe, Watchable, WritableWatchable } from './core/observable.ts';
// For custom transports and adapters: the same observables the library's own use.
export { createEmitter, createWatchable } from './core/observable.ts';
export type { Clock, RaftConfig } from './core/config.ts';
export { defaultRaftConfig, resolveRaftConfig } from './core/config.ts';
export type { RaftMetric, RaftTraceEvent, RefusalReason } from './core/events.ts';
export type { StorageFailureReason } from './core/errors.ts';
export {
  ClientIdCollisionError,
  LeadershipLostError,
  LeadershipTransferError,
  MembershipChangeInProgressError,
  NotLeaderError,
  NotMemberError,
  ProposalRejectedError,
  RaftClosedError,
  RaftStorageError,
} from './core/errors.ts';
export { ClientSessionTable, mintAutoClientId, parseAutoClientId } from './core/client-session-table.ts';
export type { RaftStorage, StorageBatch } from './storage/raft-storage.ts';
export { InMemoryRaftStorage } from './storage/in-memory-storage.ts';
export { IndexedDbRaftStorage } from './storage/indexeddb-storage.ts';
export type { IndexedDbDestroyOptions, IndexedDbDurability, IndexedDbStorageOptions } from './storage/indexeddb-storage.ts';
export type { RaftTransport } from './transport/raft-transport.ts';
export { createLoopbackNetwork } from './transport/loopback.ts';
export { createRaftNode } from './driver/create-raft-node.ts';
export type { RaftNode, RaftNodeOptions } from './driver/create-raft-node.ts';
export { awaitRead } from './driver/await-read.ts';
export { CorruptStorageError } from './driver/restore.ts';
// API.md exports the virtual clock and seeded random source for users' tests from the root as
// well as from raftmesh/testing; both are pure and pull in nothing else from testing.
// eslint-disable-next-line no-restricted-imports
export { VirtualClock } from './testing/virtual-clock.ts';
// eslint-disable-next-line no-restricted-imports
export { seededRandom } from './testing/seeded-random.ts';
// Rooms (issue 10): a replicated store over a node, the automatic membership policy, joinRoom.
export * from './rooms/index.ts';
// raftmesh/worker and raftmesh/webrtc: browser pieces that load anywhere (nothing runs until called).
export * from './worker.ts';
export * from './webrtc.ts';
// raftmesh/signaling-server: Node only, so the root loads the server on the first call.
export { startSignalingServer } from './signaling-server-loader.ts';
export type { RoomPolicy, RoomResolver, RoomTable, SignalingServer, SignalingServerEvent, SignalingServerOptions, SignalingServerStats } from './signaling/server/index.ts';
