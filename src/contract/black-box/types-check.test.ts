// Item 1, types: every type name API.md gives, from each entry a user would import it from.
// tsc checks this file (npm run typecheck); the one runtime test only confirms it loaded.
import { describe, expect, it } from 'vitest';
import type {
  NodeId, ClientId, ClusterConfig, ConfigPayload, DedupKey, LogEntry, Snapshot, SnapshotMeta, StoredSnapshot,
  RaftEnvelope, RaftRole, Committed, ClientIdentity, Unsubscribe, Subscribable, Watchable, Clock, RaftConfig,
  RaftStorage, RaftTransport, RaftNodeOptions, RaftNode, RaftMetric, RaftTraceEvent, TransferAbandonReason,
  WebRtcTransport,
} from '../../index.ts';
import type { WebRtcTransport as W2 } from '../../webrtc.ts';
import { IndexedDbRaftStorage, InMemoryRaftStorage, createRaftNode, type LeadershipTransferError, type NotLeaderError } from '../../index.ts';
import { startSignalingServer } from '../../signaling/server/index.ts';

// shapes from API.md, assigned both ways where they are interfaces
export type All = [NodeId, ClientId, ClusterConfig, ConfigPayload, DedupKey, LogEntry, Snapshot, SnapshotMeta, StoredSnapshot,
  RaftEnvelope, RaftRole, Committed, ClientIdentity, Unsubscribe, Subscribable<number>, Watchable<number>, Clock, RaftConfig,
  RaftStorage, RaftTransport, RaftNodeOptions, RaftNode, RaftMetric, RaftTraceEvent, TransferAbandonReason, WebRtcTransport, W2];

const roles: RaftRole[] = ['follower', 'candidate', 'leader', 'learner'];
void roles;
const reasons: TransferAbandonReason[] = ['timeout', 'cancelled', 'notVoter', 'leadershipLost'];
void reasons;
export function shapes(e: NotLeaderError, t: LeadershipTransferError): [NodeId | null, TransferAbandonReason] {
  return [e.leader, t.reason];
}
export async function storages(): Promise<RaftStorage[]> {
  const s: IndexedDbRaftStorage = await IndexedDbRaftStorage.open('x');
  s.close();
  return [s, new InMemoryRaftStorage()];
}
export async function server() {
  const srv = await startSignalingServer({ port: 0 });
  return srv;
}
export const metricExample: RaftMetric = { type: 'electionWon', term: 1, elapsedMs: 3 } as RaftMetric;
export const c: (o: RaftNodeOptions) => Promise<RaftNode> = createRaftNode;
export const metricNoCast: RaftMetric = { type: 'electionWon', term: 1, elapsedMs: 3 };
export function refusedFields(e: RaftTraceEvent) {
  if (e.type === 'frameRefused') return [e.from, e.reason];
  return null;
}
export function metricFields(m: RaftMetric) {
  if (m.type === 'electionWon') return [m.term, m.elapsedMs];
  return null;
}

describe('API.md type names, from the entries a user imports them from', () => {
  it('compile (checked by tsc; this only confirms the module loaded)', () => {
    expect([roles.length, reasons.length]).toEqual([4, 4]);
    expect(metricFields(metricNoCast)).toEqual([1, 3]);
    expect(c).toBe(createRaftNode);
  });
});
