// API.md's type shapes, as code written against them compiles: each documented type is built or
// read here with exactly the fields API.md gives it. `npm run typecheck` (tsc) checks this file;
// the one runtime test only confirms it loaded. A shape change that breaks outside code breaks this.
import { describe, expect, it } from 'vitest';
import {
  ClientIdCollisionError,
  ClientSessionTable,
  clientId,
  IndexedDbRaftStorage,
  InMemoryRaftStorage,
  LeadershipTransferError,
  nodeId,
  NotLeaderError,
  seededRandom,
  VirtualClock,
  type ClientId,
  type ClientIdentity,
  type Clock,
  type ClusterConfig,
  type Committed,
  type ConfigPayload,
  type DedupKey,
  type LogEntry,
  type NodeId,
  type RaftConfig,
  type RaftEnvelope,
  type RaftMetric,
  type RaftNode,
  type RaftNodeOptions,
  type RaftRole,
  type RaftStorage,
  type RaftTraceEvent,
  type RaftTransport,
  type Snapshot,
  type SnapshotMeta,
  type StoredSnapshot,
  type Subscribable,
  type TransferAbandonReason,
  type Unsubscribe,
  type Watchable,
} from '../index.ts';
import type { createWorkerRaftNode } from '../worker.ts';
import type { createWebRtcTransport, WebRtcTransport } from '../webrtc.ts';
import type { startSignalingServer } from '../signaling/server/index.ts';

const a: NodeId = nodeId('a');
const c: ClientId = clientId('c');
const config: ClusterConfig = { voters: [a], learners: [] };
const payload: ConfigPayload = { old: null, new: config };
const key: DedupKey = { clientId: c, requestId: 1 };
const entry: LogEntry = { index: 1, term: 1, command: new Uint8Array(), isNoOp: false, config: payload, dedupKey: key };
const snapshot: Snapshot = { throughIndex: 1, state: new Uint8Array() };
const meta: SnapshotMeta = { lastIncludedIndex: 1, lastIncludedTerm: 1, config: payload };
const stored: StoredSnapshot = { meta, state: new Uint8Array() };
const envelope: RaftEnvelope = { from: a, bytes: new Uint8Array() };
const roles: RaftRole[] = ['follower', 'candidate', 'leader', 'learner'];
const committed: Committed[] = [{ type: 'entry', entry }, { type: 'internal', index: 1 }, { type: 'install', snapshot }];
const identities: ClientIdentity[] = [{ type: 'auto' }, { type: 'durable', clientId: c }];
const clock: Clock = new VirtualClock();
const random: () => number = seededRandom(1);
const raftConfig: RaftConfig = {
  electionTimeoutMin: 150,
  electionTimeoutMax: 300,
  heartbeatInterval: 50,
  slowProposeThreshold: 100,
  snapshotChunkCeiling: 16 * 1024,
  snapshotTotalCeiling: 64 * 1024 * 1024,
  maxTermJump: 10_000,
  clock,
  random,
};
const unsubscribe: Unsubscribe = () => {};
// A transport with exactly API.md's members, and a storage with exactly its methods.
const transport: RaftTransport = {
  selfId: a,
  peers: { value: new Set<NodeId>(), subscribe: () => unsubscribe },
  send: () => {},
  incoming: { subscribe: (_listener: (value: RaftEnvelope) => void) => unsubscribe },
  maxPayloadBytes: 64 * 1024,
};
const memory = new InMemoryRaftStorage();
const storage: RaftStorage = {
  term: () => memory.term(),
  votedFor: () => memory.votedFor(),
  saveTermAndVotedFor: (term, votedFor) => memory.saveTermAndVotedFor(term, votedFor),
  leaderForTerm: () => memory.leaderForTerm(),
  saveLeaderForTerm: (term, leaderId) => memory.saveLeaderForTerm(term, leaderId),
  appendEntries: (entries) => memory.appendEntries(entries),
  entries: (fromIndex) => memory.entries(fromIndex),
  truncateFrom: (index) => memory.truncateFrom(index),
  saveSnapshot: (snapshotMeta, state) => memory.saveSnapshot(snapshotMeta, state),
  loadSnapshot: () => memory.loadSnapshot(),
  discardLogPrefix: (throughIndex) => memory.discardLogPrefix(throughIndex),
};
const options: RaftNodeOptions = { id: a, clusterConfig: config, transport, storage, raftConfig, identity: { type: 'durable', clientId: c }, onMetric: (_metric: RaftMetric) => {}, signal: new AbortController().signal };

/** Every RaftNode member API.md names, with its type. Never called: compiled only. */
export async function readEveryMember(node: RaftNode): Promise<void> {
  const id: NodeId = node.id;
  const role: Watchable<RaftRole> = node.role;
  const leader: Watchable<NodeId | null> = node.leader;
  const term: Watchable<number> = node.term;
  const membership: Watchable<ClusterConfig> = node.membership;
  const commitIndex: Watchable<number> = node.commitIndex;
  const floor: Watchable<number> = node.compactionFloor;
  const trace: Subscribable<RaftTraceEvent> = node.trace;
  const tail: AsyncIterable<Committed> = node.committed();
  const replay: AsyncIterable<Committed> = node.committedFrom(1);
  const proposed: LogEntry = await node.propose(new Uint8Array(), { requestId: 1, signal: AbortSignal.timeout(1) });
  const readIndex: number = await node.readIndex({ signal: AbortSignal.timeout(1) });
  const changed: ClusterConfig = await node.changeMembership(config, { signal: AbortSignal.timeout(1) });
  const transferred: void = await node.transferLeadership(a, { signal: AbortSignal.timeout(1) });
  node.cancelTransfer();
  await node.awaitLeadership({ signal: AbortSignal.timeout(1) });
  node.publishSnapshot(snapshot);
  const closed: void = await node.close();
  const traced: Unsubscribe = trace.subscribe((event: RaftTraceEvent) => [event.type, event.node, event.term, event.at]);
  void [id, role, leader, term, membership, commitIndex, floor, tail, replay, proposed, readIndex, changed, transferred, closed, traced];
}

export async function otherSurfaces(): Promise<void> {
  const database: IndexedDbRaftStorage = await IndexedDbRaftStorage.open('name');
  const asStorage: RaftStorage = database;
  database.close();
  const table: ClientSessionTable = ClientSessionTable.fromBytes(new ClientSessionTable().toBytes());
  const fresh: boolean = table.shouldApply(key) && table.shouldApply(undefined);
  table.closeSession(c);
  const notLeader: NodeId | null = new NotLeaderError(null).leader;
  const reason: TransferAbandonReason = new LeadershipTransferError('timeout').reason;
  const collision: Error = new ClientIdCollisionError('c');
  const won: RaftMetric = { type: 'electionWon', term: 1, elapsedMs: 1 };
  const refused: RaftMetric = { type: 'frameRefused', from: a, reason: 'termJump' };
  const advanced: Promise<void> = new VirtualClock().advance(10);
  const ran: Promise<boolean> = new VirtualClock().runUntil(() => true);
  const worker: typeof createWorkerRaftNode | null = null;
  const webrtc: typeof createWebRtcTransport | null = null;
  const rtcTransport: RaftTransport | null = null as WebRtcTransport | null;
  const server: ReturnType<typeof startSignalingServer> | null = null;
  void [asStorage, fresh, notLeader, reason, collision, won, refused, advanced, ran, worker, webrtc, rtcTransport, server];
}

describe('API.md type shapes', () => {
  it('compile as documented (checked by tsc; this only confirms the values built above)', () => {
    expect([stored.meta, envelope.from, roles.length, committed.length, options.id, identities.length]).toEqual([meta, a, 4, 3, a, 2]);
  });
});
