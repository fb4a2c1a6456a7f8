// SPEC "Durability rule" and "Term and vote are persisted before the vote is granted", black-box:
// a RaftStorage with exactly API.md's methods (no batched path) whose writes the test holds back,
// under a follower built from the public entries; a peer on voter d's id (the test) reads what
// the follower answers, and when.
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../codec/index.ts';
import type { RaftMessage } from '../core/messages.ts';
import { createRaftNode, InMemoryRaftStorage, nodeId, VirtualClock, type LogEntry, type NodeId, type RaftStorage, type SnapshotMeta } from '../index.ts';
import { createPartitionableNetwork } from './contract-cluster.test-support.ts';

/** API.md's RaftStorage, nothing more; every write waits until the test releases it. */
class HeldStorage implements RaftStorage {
  private readonly inner = new InMemoryRaftStorage();
  private readonly held: Array<() => void> = [];
  holding = false;
  readonly writes: string[] = [];

  private async write(name: string, run: () => Promise<void>): Promise<void> {
    this.writes.push(name);
    if (this.holding) await new Promise<void>((resolve) => this.held.push(resolve));
    await run();
  }

  release(): void {
    this.holding = false;
    for (const resolve of this.held.splice(0)) resolve();
  }

  get waiting(): number {
    return this.held.length;
  }

  term(): Promise<number> {
    return this.inner.term();
  }
  votedFor(): Promise<NodeId | null> {
    return this.inner.votedFor();
  }
  saveTermAndVotedFor(term: number, votedFor: NodeId | null): Promise<void> {
    return this.write('saveTermAndVotedFor', () => this.inner.saveTermAndVotedFor(term, votedFor));
  }
  leaderForTerm(): Promise<{ term: number; leaderId: NodeId } | null> {
    return this.inner.leaderForTerm();
  }
  saveLeaderForTerm(term: number, leaderId: NodeId): Promise<void> {
    return this.write('saveLeaderForTerm', () => this.inner.saveLeaderForTerm(term, leaderId));
  }
  appendEntries(entries: readonly LogEntry[]): Promise<void> {
    return this.write('appendEntries', () => this.inner.appendEntries(entries));
  }
  entries(fromIndex?: number): Promise<LogEntry[]> {
    return this.inner.entries(fromIndex);
  }
  truncateFrom(index: number): Promise<void> {
    return this.write('truncateFrom', () => this.inner.truncateFrom(index));
  }
  saveSnapshot(meta: SnapshotMeta, state: Uint8Array): Promise<void> {
    return this.write('saveSnapshot', () => this.inner.saveSnapshot(meta, state));
  }
  loadSnapshot(): ReturnType<RaftStorage['loadSnapshot']> {
    return this.inner.loadSnapshot();
  }
  discardLogPrefix(throughIndex: number): Promise<void> {
    return this.write('discardLogPrefix', () => this.inner.discardLogPrefix(throughIndex));
  }
}

async function followerWithHeldStorage(): Promise<{ clock: VirtualClock; storage: HeldStorage; answers: RaftMessage[]; send(message: RaftMessage): void; close(): Promise<void>; id: NodeId }> {
  const [id, d, e] = [nodeId('f'), nodeId('d'), nodeId('e')];
  const clock = new VirtualClock();
  const network = createPartitionableNetwork(() => clock.now());
  const storage = new HeldStorage();
  // Long election timeouts: the follower never campaigns during the test.
  const node = await createRaftNode({ id, clusterConfig: { voters: [id, d, e] }, transport: network.transport(id), storage, raftConfig: { clock, electionTimeoutMin: 50_000, electionTimeoutMax: 60_000, heartbeatInterval: 1_000 } });
  const peer = network.transport(d);
  const answers: RaftMessage[] = [];
  peer.incoming.subscribe((envelope) => {
    const decoded = decodeMessage(envelope.bytes);
    if (decoded.ok) answers.push(decoded.value);
  });
  return { clock, storage, answers, id, send: (message) => peer.send(id, encodeMessage(message)), close: () => node.close() };
}

describe('SPEC Durability rule, through a storage with only API.md\u2019s methods', () => {
  it('a vote is granted only once the term and vote are written', async () => {
    const follower = await followerWithHeldStorage();
    follower.storage.holding = true;
    follower.send({ type: 'requestVote', term: 1, lastLogIndex: 0, lastLogTerm: 0, preVote: false, transfer: false });
    await follower.clock.advance(100);
    expect(follower.storage.writes).toContain('saveTermAndVotedFor');
    expect(follower.answers.filter((message) => message.type === 'requestVoteResponse')).toEqual([]);
    follower.storage.release();
    await follower.clock.advance(10);
    expect(follower.answers.filter((message) => message.type === 'requestVoteResponse')).toEqual([{ type: 'requestVoteResponse', term: 1, preVote: false, granted: true, denialReason: null }]);
    expect(await follower.storage.votedFor()).toBe('d');
    expect(await follower.storage.term()).toBe(1);
    await follower.close();
  });

  it('entries are acknowledged only once written', async () => {
    const follower = await followerWithHeldStorage();
    follower.send({ type: 'appendEntries', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, readRound: 0 });
    await follower.clock.advance(10);
    follower.storage.holding = true;
    const entries: LogEntry[] = [1, 2, 3].map((index) => ({ index, term: 1, command: new Uint8Array([index]), isNoOp: false }));
    follower.send({ type: 'appendEntries', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries, leaderCommit: 0, readRound: 0 });
    await follower.clock.advance(100);
    expect(follower.storage.waiting).toBeGreaterThan(0);
    const acknowledged = (): number => Math.max(0, ...follower.answers.map((message) => (message.type === 'appendEntriesResponse' && message.success ? message.matchIndex : 0)));
    expect(acknowledged()).toBe(0);
    follower.storage.release();
    await follower.clock.advance(10);
    expect(acknowledged()).toBe(3);
    expect((await follower.storage.entries()).map((entry) => entry.index)).toEqual([1, 2, 3]);
    await follower.close();
  });

  it('a leader counts its own entries toward a quorum only once they are written', async () => {
    const id = nodeId('solo');
    const clock = new VirtualClock();
    const storage = new HeldStorage();
    const node = await createRaftNode({ id, clusterConfig: { voters: [id] }, transport: createPartitionableNetwork(() => clock.now()).transport(id), storage, raftConfig: { clock } });
    await clock.runUntil(() => node.role.value === 'leader' && node.commitIndex.value === 1, 5_000);
    storage.holding = true;
    let committed = false;
    const proposal = node.propose(new Uint8Array([7]));
    void proposal.then(() => (committed = true));
    await clock.advance(1_000);
    expect(storage.waiting).toBeGreaterThan(0);
    expect(node.commitIndex.value).toBe(1);
    expect(committed).toBe(false);
    storage.release();
    await clock.runUntil(() => committed, 1_000);
    expect(node.commitIndex.value).toBe(2);
    expect((await proposal).index).toBe(2);
    await node.close();
  });
});
