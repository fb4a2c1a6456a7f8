// A leadership transfer whose target never takes over, while its old leader wins a later term
// itself: the transfer ends the moment that node leads again, and the new term's proposals
// are not held for the old transfer's deadline (found by a black-box review: the call ended
// with `timeout` some 65 ms into the new term, and proposals waited that long).
import { describe, expect, it } from 'vitest';
import { createCoreHarness } from './core-harness.test-support.ts';
import { clientId } from './types.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('a transfer its leader outlives', () => {
  it('fails with leadershipLost when the same node wins a later term, and proposals go on at once', () => {
    const harness = createCoreHarness(['a', 'b', 'c', 'd', 'e'], 72);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    leader.core.reportAcceptance = true;
    const firstTerm = leader.core.term;
    const others = [...harness.nodes.values()].filter((node) => node !== leader);
    const target = others[0]!;
    // The target hears only the leader, so its campaign can win no more than two votes of five;
    // and the other followers never campaign, so the old leader is the only node that can win.
    for (const other of others.slice(1)) {
      harness.blocked.add(`${target.id}->${other.id}`);
      harness.blocked.add(`${other.id}->${target.id}`);
    }
    const campaigners = new Set(others.slice(1).map((node) => node.id));
    harness.dropWhen = (from, _to, message) => campaigners.has(from) && message.type === 'requestVote';
    const startedAt = harness.now;
    leader.core.transferLeadership(harness.now, 1, target.id);
    harness.settle();
    expect(leader.core.role).toBe('follower');
    expect(leader.transfers).toEqual([]);
    while (!(leader.core.role === 'leader' && leader.core.term > firstTerm) && harness.now - startedAt < 1_000) harness.advance(1);
    // The case at issue: leading again before the transfer's own deadline (electionTimeoutMax).
    expect(leader.core.role).toBe('leader');
    expect(harness.now - startedAt).toBeLessThan(300);
    expect(leader.transfers).toEqual([{ transferId: 1, failure: 'leadershipLost' }]);
    leader.core.propose(harness.now, 7, bytes('new term'), { clientId: clientId('l'), requestId: 1 });
    harness.settle();
    expect(leader.outcomes.some((outcome) => outcome.type === 'accepted' && outcome.proposalId === 7)).toBe(true);
  });
});
