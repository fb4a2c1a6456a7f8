// Review (third session, fixes): a follower's forwards against a leader that answers 'busy'.
// Since this session a leader answers 'busy' whenever maxPendingProposals entries are not yet on
// its own disk (leader-proposals.ts admissionFailure), i.e. for as long as one of its writes is
// slow, or for ever while it hangs (see fixes-stuck-leader). proposal-forwarding.ts answers each
// 'busy' by re-sending that forward one heartbeat interval later, every time, with no backoff:
// every pending proposal's whole command goes to the leader again every 50 ms (default), each
// answered 'busy' again. The load on the busy leader grows with the number of pending proposals
// (up to maxPendingProposals = 100,000 per follower), exactly while it is overloaded.
import { describe, expect, it } from 'vitest';
import { resolveRaftConfig } from '../core/config.ts';
import { RaftCore } from '../core/raft-core.ts';
import { clientId, nodeId } from '../core/types.ts';

const [a, b, c] = ['a', 'b', 'c'].map((name) => nodeId(name));

describe('a follower whose leader keeps answering busy', () => {
  it('backs off its re-sends instead of re-sending every pending forward every heartbeat interval', () => {
    const config = resolveRaftConfig({ electionTimeoutMin: 150, electionTimeoutMax: 300, heartbeatInterval: 50 });
    const follower = new RaftCore({ id: b!, config, random: () => 0.5, now: 0, bootstrap: { voters: [a!, b!, c!] }, hardState: { term: 0, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [] });
    let now = 0;
    const heartbeat = (): void => follower.receive(now, a!, { type: 'appendEntries', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, readRound: 0 });
    heartbeat();
    follower.takeReady();
    follower.persisted(now, null);
    expect(follower.leader).toBe(a);
    const pending = 100;
    const key = clientId('b-client');
    for (let proposal = 1; proposal <= pending; proposal += 1) follower.propose(now, proposal, new Uint8Array(64).fill(proposal), { clientId: key, requestId: proposal });
    let forwardsSent = 0;
    // 3 s of a leader whose disk lags: it heartbeats, and answers every forward 'busy'.
    for (; now <= 3_000; now += 10) {
      if (now % 50 === 0) heartbeat();
      follower.tick(now);
      for (;;) {
        const ready = follower.takeReady();
        if (ready === null) break;
        if (ready.hardState !== null || ready.entries.length > 0 || ready.leaderForTerm !== null || ready.commitIndex !== null) follower.persisted(now, null);
        for (const outbound of ready.messages) {
          if (outbound.message.type !== 'forwardPropose') continue;
          forwardsSent += 1;
          follower.receive(now, a!, { type: 'forwardProposeResponse', correlationId: outbound.message.correlationId, outcome: { type: 'busy' } });
        }
      }
    }
    // Backed off as an unanswered forward is (doubling up to 8 election timeouts), each would go a
    // handful of times in 3 s. Observed: ~60 sends per proposal (one per heartbeat), 6,000 frames
    // carrying 100 commands over and over.
    expect(forwardsSent).toBeLessThanOrEqual(pending * 10);
  });
});
