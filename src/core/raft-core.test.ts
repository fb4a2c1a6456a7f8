import { describe, expect, it } from 'vitest';
import { createCoreHarness } from './core-harness.test-support.ts';
import { clientId } from './types.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('RaftCore', () => {
  it('elects exactly one leader, which appends a no-op of its term (§5.4.2)', () => {
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const leaders = harness.leaders();
    expect(leaders).toHaveLength(1);
    const leader = leaders[0]!;
    const first = leader.core.entryAt(1);
    expect(first?.isNoOp).toBe(true);
    expect(first?.term).toBe(leader.core.term);
    expect(leader.core.commitIndex).toBe(1);
  });

  it('commits a leader proposal on a quorum and reports it committed', () => {
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    leader.core.propose(harness.now, 7, bytes('x'), { clientId: clientId('k'), requestId: 1 });
    harness.settle();
    const committed = leader.outcomes.find((outcome) => outcome.type === 'committed' && outcome.proposalId === 7);
    expect(committed).toBeDefined();
    harness.advance(100);
    for (const node of harness.nodes.values()) expect(node.core.commitIndex).toBe(2);
  });

  it('forwards a follower proposal to the leader and completes it on the follower', () => {
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const follower = [...harness.nodes.values()].find((node) => node.core.role === 'follower')!;
    follower.core.propose(harness.now, 3, bytes('y'), { clientId: clientId('f'), requestId: 1 });
    harness.advance(200);
    expect(follower.outcomes.some((outcome) => outcome.type === 'committed' && outcome.proposalId === 3)).toBe(true);
  });

  it('a partitioned node cannot depose a healthy leader when it returns (PreVote)', () => {
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const term = leader.core.term;
    const other = [...harness.nodes.values()].find((node) => node !== leader)!;
    harness.isolate(other.id);
    harness.advance(2_000);
    expect(other.core.term).toBe(term); // pre-votes failed: no term inflation
    harness.heal();
    harness.advance(500);
    expect(leader.core.role).toBe('leader');
    expect(leader.core.term).toBe(term);
  });

  it('a leader that loses its quorum steps down (CheckQuorum)', () => {
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    harness.isolate(leader.id);
    harness.advance(400);
    expect(leader.core.role).toBe('follower');
  });

  it('a leader that loses leadership fails its uncommitted proposals as leadershipLost', () => {
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    harness.isolate(leader.id);
    leader.core.propose(harness.now, 9, bytes('z'), null);
    harness.advance(600);
    expect(leader.outcomes.some((outcome) => outcome.type === 'failed' && outcome.proposalId === 9 && outcome.failure === 'leadershipLost')).toBe(true);
  });
});
