// A read round in flight while the configuration shrinks to the leader alone (found by a review,
// 2026-12-06). The round was re-examined only when an acknowledgement from a voter of the configuration in
// force arrives (acknowledgeReadRound), and once C_new = { voters: [leader] } is adopted no such
// acknowledgement could come: the round never completed, and because startReadRound returned while
// a round was in flight, no read on that leader (local or forwarded) was ever served again. Now
// startReadRound judges a round in flight again against the configuration in force.
//
// Timing used: the change's AppendEntries goes out, then a read is asked; the followers' answers
// arrive in the order they were sent (FIFO): first the answer to the AppendEntries (it carries no
// read round, and commits C_old,new, after which the leader appends C_new and, as the only voter,
// commits it on its own write), then the answer to the read round's heartbeat, which no longer
// counts (the follower is not a voter of C_new).
import { describe, expect, it } from 'vitest';
import { createCoreHarness } from './core-harness.test-support.ts';
import type { RaftMessage } from './messages.ts';
import type { NodeId } from './types.ts';

describe('read round across a shrink to one voter', () => {
  it('a read asked while the change to { voters: [leader] } is in flight is served, and so are later reads', () => {
    const harness = createCoreHarness(['a', 'b', 'c'], 7);
    harness.advance(600);
    const leader = harness.leaders()[0]!;
    // Healthy: a read is served.
    leader.core.requestRead(harness.now, 1);
    harness.settle();
    expect(leader.reads).toEqual([{ readId: 1, readIndex: leader.core.commitIndex }]);

    // The followers' answers to the leader are held back (in flight), in order.
    const held: Array<{ from: NodeId; message: RaftMessage }> = [];
    harness.dropWhen = (from, to, message) => {
      if (to !== leader.id || message.type !== 'appendEntriesResponse') return false;
      held.push({ from, message });
      return true;
    };
    leader.core.changeMembership(harness.now, 1, { voters: [leader.id] });
    harness.settle(); // C_old,new goes out (readRound 0); the answers are in flight
    leader.core.requestRead(harness.now, 2);
    harness.settle(); // the read's round starts: heartbeats with its round; answers in flight
    harness.dropWhen = null;
    // The answers arrive, in the order they were sent.
    for (const { from, message } of held) {
      leader.core.receive(harness.now, from, message);
      harness.settle();
    }
    expect(leader.core.role).toBe('leader');
    expect(leader.core.membershipPayload).toEqual({ old: null, new: { voters: [leader.id] } });
    expect(leader.core.commitIndex).toBe(leader.core.lastIndex); // C_new committed: a healthy lone voter

    // A later read, then plenty of time: a lone voter needs nobody to confirm a read.
    leader.core.requestRead(harness.now, 3);
    harness.settle();
    harness.advance(5_000);
    expect(leader.core.role).toBe('leader');
    expect(leader.reads.map((read) => read.readId)).toEqual([1, 2, 3]);
  });
});
