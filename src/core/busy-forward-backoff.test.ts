// Guards: a follower backs off its forwards while the leader answers 'busy'. Since this session a
// leader answers 'busy' whenever maxPendingProposals entries are not yet on its own disk
// (leader-admission.test.ts), for as long as one of its writes is slow, and each 'busy' answer
// reset the forward to be sent again one heartbeat interval later: every pending proposal's whole
// command went to the leader about 20 times a second, adding load exactly while it was overloaded.
// A review of the session's fixes found it (2026-12-07, third session). Now each consecutive
// 'busy' doubles the wait, up to the cap of unanswered forwards, with a random part
// (proposal-forwarding.ts busyRetryDelayMs).
import { describe, expect, it } from 'vitest';
import { resolveRaftConfig } from './config.ts';
import type { ForwardPropose } from './messages.ts';
import { RaftCore } from './raft-core.ts';
import { clientId, nodeId, type NodeId } from './types.ts';

const [a, b, c] = ['a', 'b', 'c'].map((name) => nodeId(name)) as [NodeId, NodeId, NodeId];
const config = resolveRaftConfig({ electionTimeoutMin: 150, electionTimeoutMax: 300, heartbeatInterval: 50 });

/** b, following a in term 1, with `random` as its random source. */
function followerOfA(random: () => number): RaftCore {
  const follower = new RaftCore({ id: b, config, random, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term: 0, votedFor: null }, leaderPin: null, snapshotMeta: null, entries: [] });
  follower.receive(0, a, { type: 'appendEntries', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, readRound: 0 });
  follower.takeReady();
  follower.persisted(0, null);
  return follower;
}

/**
 * Runs `follower` in 10 ms ticks from `from` to `to`, `leader` sending heartbeats every 50 ms in
 * `term` and answering every forward with `answer`; returns when each forward went, and to whom.
 */
function runAgainst(follower: RaftCore, from: number, to: number, answer: 'busy' | 'appended', leader: NodeId = a, term = 1): Array<{ at: number; to: NodeId; requestId: number }> {
  const sends: Array<{ at: number; to: NodeId; requestId: number }> = [];
  for (let now = from; now <= to; now += 10) {
    if (now % 50 === 0) follower.receive(now, leader, { type: 'appendEntries', term, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, readRound: 0 });
    follower.tick(now);
    for (;;) {
      const ready = follower.takeReady();
      if (ready === null) break;
      if (ready.hardState !== null || ready.entries.length > 0 || ready.leaderForTerm !== null || ready.commitIndex !== null) follower.persisted(now, null);
      for (const outbound of [...ready.messages, ...ready.messagesAfterPersist]) {
        if (outbound.message.type !== 'forwardPropose') continue;
        const forward: ForwardPropose = outbound.message;
        sends.push({ at: now, to: outbound.to, requestId: forward.dedupKey?.requestId ?? 0 });
        if (outbound.to !== leader) continue;
        const outcome = answer === 'busy' ? { type: 'busy' as const } : { type: 'appended' as const, index: 1, term };
        follower.receive(now, leader, { type: 'forwardProposeResponse', correlationId: forward.correlationId, outcome });
      }
    }
  }
  return sends;
}

const gaps = (times: readonly number[]): number[] => times.slice(1).map((time, position) => time - (times[position] as number));

describe('a follower whose leader keeps answering busy', () => {
  it('backs off its re-sends instead of re-sending every pending forward every heartbeat interval', () => {
    const follower = followerOfA(() => 0.5);
    const pending = 100;
    for (let proposal = 1; proposal <= pending; proposal += 1) follower.propose(0, proposal, new Uint8Array(64).fill(proposal), { clientId: clientId('b-client'), requestId: proposal });
    // 3 s of a leader whose disk lags: it heartbeats, and answers every forward 'busy'.
    const sends = runAgainst(follower, 0, 3_000, 'busy');
    // Every heartbeat interval, it was about 60 sends per proposal (6,000 frames carrying the
    // same 100 commands); backed off, each goes 6 times (at 0, then after waits of 75, 150, 300,
    // 600 and 1,200 ms, the random source drawing 0.5, each rounded up to a 10 ms tick).
    for (let proposal = 1; proposal <= pending; proposal += 1) {
      expect(sends.filter((send) => send.requestId === proposal).map((send) => send.at)).toEqual([0, 80, 230, 530, 1_130, 2_330]);
    }
  });

  it('doubles the wait with each busy answer in a row, up to eight election timeouts, between half and all of it at random', () => {
    const timesOfSends = (random: () => number): number[] => {
      const follower = followerOfA(random);
      follower.propose(0, 1, new Uint8Array([1]), { clientId: clientId('b-client'), requestId: 1 });
      return runAgainst(follower, 0, 12_000, 'busy').map((send) => send.at);
    };
    // Ceilings of 100, 200, 400, 800, 1,600, then 2,400 ms (8 × 300), rounded up to the 10 ms ticks.
    expect(gaps(timesOfSends(() => 0.999)).slice(0, 8)).toEqual([100, 200, 400, 800, 1_600, 2_400, 2_400, 2_400]);
    expect(gaps(timesOfSends(() => 0)).slice(0, 8)).toEqual([50, 100, 200, 400, 800, 1_200, 1_200, 1_200]);
  });

  it('starts over at a new leader, and stops once a forward is appended', () => {
    const follower = followerOfA(() => 0.999);
    follower.propose(0, 1, new Uint8Array([1]), { clientId: clientId('b-client'), requestId: 1 });
    const fromA = runAgainst(follower, 0, 3_000, 'busy');
    expect(gaps(fromA.map((send) => send.at)).slice(-1)[0]).toBeGreaterThanOrEqual(800);
    // c leads term 2: the forward goes to c at once, and c's first busy answer costs only ~2 heartbeats.
    follower.receive(3_005, c, { type: 'appendEntries', term: 2, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, readRound: 0 });
    const fromC = runAgainst(follower, 3_010, 3_400, 'busy', c, 2);
    expect(fromC.map((send) => send.to)).toEqual([c, c, c]);
    expect(gaps([3_005, ...fromC.map((send) => send.at)])).toEqual([5, 100, 200]);
    // Appended at last: sent once more, and never again.
    expect(runAgainst(follower, 3_410, 9_000, 'appended', c, 2).map((send) => send.at)).toEqual([3_710]);
  });
});
