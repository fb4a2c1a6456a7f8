import { describe, it, expect } from 'vitest';
import { nodeId, InMemoryRaftStorage, type RaftStorage, type LogEntry, type NodeId, type SnapshotMeta } from '../../index.ts';
import { harness, enc } from './harness.test-support.ts';

/** A storage without a batched path whose chosen methods wait while `held` is true. */
class GatedStorage implements RaftStorage {
  inner = new InMemoryRaftStorage();
  held = new Set<string>();
  private waiters: (() => void)[] = [];
  pending = 0;
  private async gate(name: string) {
    while (this.held.has(name)) { this.pending++; await new Promise<void>((r) => this.waiters.push(r)); this.pending--; }
  }
  release(name: string) { this.held.delete(name); const w = this.waiters; this.waiters = []; w.forEach((f) => f()); }
  term() { return this.inner.term(); }
  votedFor() { return this.inner.votedFor(); }
  async saveTermAndVotedFor(t: number, v: NodeId | null) { await this.gate('saveTermAndVotedFor'); return this.inner.saveTermAndVotedFor(t, v); }
  leaderForTerm() { return this.inner.leaderForTerm(); }
  async saveLeaderForTerm(t: number, l: NodeId) { await this.gate('saveLeaderForTerm'); return this.inner.saveLeaderForTerm(t, l); }
  async appendEntries(e: readonly LogEntry[]) { await this.gate('appendEntries'); return this.inner.appendEntries(e); }
  entries(f?: number) { return this.inner.entries(f); }
  async truncateFrom(i: number) { await this.gate('truncateFrom'); return this.inner.truncateFrom(i); }
  saveSnapshot(m: SnapshotMeta, s: Uint8Array) { return this.inner.saveSnapshot(m, s); }
  loadSnapshot() { return this.inner.loadSnapshot(); }
  discardLogPrefix(t: number) { return this.inner.discardLogPrefix(t); }
}

describe('SPEC durability rules', () => {
  it('voters persist term+vote before granting: a candidate cannot win while the voters\' writes are held', async () => {
    const h = await harness(['a', 'b', 'c'], { startAll: false });
    const gb = new GatedStorage(), gc = new GatedStorage();
    h.storages.set(nodeId('b'), gb); h.storages.set(nodeId('c'), gc);
    // make b and c slow to time out so a campaigns first
    await h.start(nodeId('a'), { raftConfig: { electionTimeoutMin: 150, electionTimeoutMax: 160 } });
    await h.start(nodeId('b'), { raftConfig: { electionTimeoutMin: 1000, electionTimeoutMax: 1001 } });
    await h.start(nodeId('c'), { raftConfig: { electionTimeoutMin: 1000, electionTimeoutMax: 1001 } });
    gb.held.add('saveTermAndVotedFor'); gc.held.add('saveTermAndVotedFor');
    await h.clock.advance(600);
    expect(gb.pending + gc.pending).toBeGreaterThan(0);
    expect(h.node('a').role.value).not.toBe('leader');
    gb.release('saveTermAndVotedFor'); gc.release('saveTermAndVotedFor');
    await h.waitLeader();
    await h.closeAll();
  });

  it('a leader counts its own entry toward a quorum only once persisted', async () => {
    const h = await harness(['a', 'b', 'c'], { startAll: false });
    const ga = new GatedStorage();
    h.storages.set(nodeId('a'), ga);
    await h.start(nodeId('a'), { raftConfig: { electionTimeoutMin: 150, electionTimeoutMax: 160 } });
    await h.start(nodeId('b'), { raftConfig: { electionTimeoutMin: 1000, electionTimeoutMax: 1001 } });
    await h.start(nodeId('c'), { raftConfig: { electionTimeoutMin: 1000, electionTimeoutMax: 1001 } });
    const leader = await h.waitLeader();
    expect(leader.id).toBe('a');
    await h.clock.advance(100);
    await h.stop(nodeId('c'));
    const before = leader.commitIndex.value;
    ga.held.add('appendEntries');
    const p = leader.propose(enc('held'));
    await h.clock.advance(100);
    expect(ga.pending).toBeGreaterThan(0);
    expect(leader.commitIndex.value).toBe(before);
    ga.release('appendEntries');
    const r = await h.settle(p, 1000);
    expect(r?.ok).toBe(true);
    await h.closeAll();
  });

  it('a follower acknowledges entries only once persisted', async () => {
    const h = await harness(['a', 'b', 'c'], { startAll: false });
    const gb = new GatedStorage();
    h.storages.set(nodeId('b'), gb);
    await h.start(nodeId('a'), { raftConfig: { electionTimeoutMin: 150, electionTimeoutMax: 160 } });
    await h.start(nodeId('b'), { raftConfig: { electionTimeoutMin: 1000, electionTimeoutMax: 1001 } });
    await h.start(nodeId('c'), { raftConfig: { electionTimeoutMin: 1000, electionTimeoutMax: 1001 } });
    const leader = await h.waitLeader();
    await h.clock.advance(100);
    await h.stop(nodeId('c'));
    const before = leader.commitIndex.value;
    gb.held.add('appendEntries');
    const p = leader.propose(enc('held'));
    await h.clock.advance(100);
    expect(gb.pending).toBeGreaterThan(0);
    expect(leader.commitIndex.value).toBe(before);
    gb.release('appendEntries');
    const r = await h.settle(p, 1000);
    expect(r?.ok).toBe(true);
    await h.closeAll();
  });
});
