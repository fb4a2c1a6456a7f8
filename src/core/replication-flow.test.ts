// Flow control between follower, leader and log under load: forward retries back off instead of
// doubling the leader's work, reordered batches do not reset a pipeline, a stalled pipeline is
// probed only after an election timeout, probes stay small, retried forwards are appended once,
// and batches stay within the frames the transport keeps in order.
import { describe, expect, it } from 'vitest';
import { resolveRaftConfig, type RaftConfig } from './config.ts';
import { encodeMessage } from '../codec/message-codec.ts';
import { encodedSizeBound } from './entry-size.ts';
import type { AppendEntries, ForwardPropose, RaftMessage } from './messages.ts';
import { RaftCore } from './raft-core.ts';
import type { OutboundMessage } from './ready.ts';
import { clientId, nodeId, type LogEntry, type NodeId } from './types.ts';

const [a, b, c] = ['a', 'b', 'c'].map((name) => nodeId(name)) as [NodeId, NodeId, NodeId];
const entry = (index: number, term: number, commandBytes = 1): LogEntry => ({ index, term, command: new Uint8Array(commandBytes).fill(index & 0xff), isNoOp: false });

/** Takes every ready, acknowledging writes at once like the harness; returns what was sent. */
function drain(core: RaftCore, now: number): OutboundMessage[] {
  const sent: OutboundMessage[] = [];
  for (;;) {
    const ready = core.takeReady();
    if (ready === null) return sent;
    sent.push(...ready.messages, ...ready.messagesAfterPersist);
    if (ready.hardState !== null || ready.leaderForTerm !== null || ready.truncateFrom !== null || ready.entries.length > 0) {
      const last = ready.entries[ready.entries.length - 1];
      core.persisted(now, last === undefined ? null : { index: last.index, term: last.term }, ready.snapshot?.meta.lastIncludedIndex ?? 0);
    }
  }
}

function appendsTo(sent: readonly OutboundMessage[], to: NodeId): AppendEntries[] {
  return sent.filter((outbound) => outbound.to === to && outbound.message.type === 'appendEntries').map((outbound) => outbound.message as AppendEntries);
}

function forwardsTo(sent: readonly OutboundMessage[], to: NodeId): ForwardPropose[] {
  return sent.filter((outbound) => outbound.to === to && outbound.message.type === 'forwardPropose').map((outbound) => outbound.message as ForwardPropose);
}

const accepted = (matchIndex: number): RaftMessage => ({ type: 'appendEntriesResponse', term: 2, success: true, matchIndex, conflictIndex: 0, conflictTerm: 0, readRound: 0 });
const rejected = (conflictIndex: number, conflictTerm = 0): RaftMessage => ({ type: 'appendEntriesResponse', term: 2, success: false, matchIndex: 0, conflictIndex, conflictTerm, readRound: 0 });

/** Node a, leader of a, b, c in term 2 at time 1000 (its no-op follows `entries`). */
function electedLeader(entries: LogEntry[], overrides: RaftConfig = {}, orderedFrameBytes?: number): RaftCore {
  const leader = new RaftCore({ id: a, config: resolveRaftConfig(overrides), random: () => 0, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term: 1, votedFor: null }, leaderPin: null, snapshotMeta: null, entries, orderedFrameBytes });
  leader.tick(1_000);
  for (const voter of [b, c]) leader.receive(1_000, voter, { type: 'requestVoteResponse', term: 2, preVote: true, granted: true, denialReason: null });
  leader.receive(1_000, b, { type: 'requestVoteResponse', term: 2, preVote: false, granted: true, denialReason: null });
  expect(leader.role).toBe('leader');
  return leader;
}

/**
 * A leader whose followers both acknowledged its no-op (index 2), so both are replicating, and
 * which then sent four one-entry batches (indices 3..6: 700-byte commands, 1 KiB appends).
 */
function replicatingLeader(): { leader: RaftCore; batches: AppendEntries[] } {
  const leader = electedLeader([entry(1, 1)], { maxAppendBytes: 1024 });
  drain(leader, 1_000);
  leader.receive(1_000, b, accepted(2));
  leader.receive(1_000, c, accepted(2));
  drain(leader, 1_000);
  for (let proposal = 1; proposal <= 4; proposal += 1) leader.propose(1_001, proposal, new Uint8Array(700), null);
  const batches = appendsTo(drain(leader, 1_001), c);
  expect(batches.map((batch) => [batch.prevLogIndex, batch.entries.length])).toEqual([
    [2, 1],
    [3, 1],
    [4, 1],
    [5, 1],
  ]);
  return { leader, batches };
}

describe('forward retries', () => {
  function followerOfA(): RaftCore {
    const follower = new RaftCore({ id: b, config: resolveRaftConfig({}), random: () => 0.5, now: 0, bootstrap: { voters: [a, b, c] }, hardState: { term: 2, votedFor: null }, leaderPin: { term: 2, leaderId: a }, snapshotMeta: null, entries: [entry(1, 1), entry(2, 2)] });
    follower.receive(0, a, { type: 'appendEntries', term: 2, prevLogIndex: 2, prevLogTerm: 2, entries: [], leaderCommit: 2, readRound: 0 });
    drain(follower, 0);
    return follower;
  }

  /** Runs the follower in 10 ms ticks with heartbeats from `leader` every 50 ms; returns when forwards went to whom. */
  function run(follower: RaftCore, from: number, to: number, leader: NodeId = a, term = 2): Array<[number, NodeId]> {
    const sends: Array<[number, NodeId]> = [];
    for (let now = from; now <= to; now += 10) {
      if (now % 50 === 0) follower.receive(now, leader, { type: 'appendEntries', term, prevLogIndex: 2, prevLogTerm: 2, entries: [], leaderCommit: 2, readRound: 0 });
      follower.tick(now);
      for (const outbound of drain(follower, now)) if (outbound.message.type === 'forwardPropose') sends.push([now, outbound.to]);
    }
    return sends;
  }

  it('resends a forward the same leader leaves unanswered after an election timeout, then twice as long each time, capped at 8 timeouts', () => {
    const follower = followerOfA();
    follower.propose(10, 1, new Uint8Array([1]), { clientId: clientId('k'), requestId: 1 });
    expect(forwardsTo(drain(follower, 10), a)).toHaveLength(1);
    const sends = run(follower, 20, 9_400);
    // electionTimeoutMax is 300: waits of 300, 600, 1200, 2400, then 2400 (the cap) again.
    expect(sends).toEqual([
      [310, a],
      [910, a],
      [2_110, a],
      [4_510, a],
      [6_910, a],
      [9_310, a],
    ]);
    expect(follower.role).toBe('follower');
  });

  it('a new leader gets every unanswered forward at once, and its own backoff starts from one election timeout', () => {
    const follower = followerOfA();
    follower.propose(10, 1, new Uint8Array([1]), { clientId: clientId('k'), requestId: 1 });
    follower.propose(10, 2, new Uint8Array([2]), { clientId: clientId('k'), requestId: 2 });
    drain(follower, 10);
    expect(run(follower, 20, 1_000)).toEqual([
      [310, a],
      [310, a],
      [910, a],
      [910, a],
    ]);
    // c wins term 3; the forwards are due to a only at 2110, but go to c immediately.
    follower.receive(1_005, c, { type: 'appendEntries', term: 3, prevLogIndex: 2, prevLogTerm: 2, entries: [], leaderCommit: 2, readRound: 0 });
    const moved = drain(follower, 1_005);
    expect(forwardsTo(moved, c).map((forward) => forward.dedupKey?.requestId)).toEqual([1, 2]);
    expect(forwardsTo(moved, a)).toEqual([]);
    expect(run(follower, 1_010, 2_000, c, 3)).toEqual([
      [1_310, c],
      [1_310, c],
      [1_910, c],
      [1_910, c],
    ]);
  });

  it('a busy answer is retried after one to two heartbeat intervals even late in the backoff; an appended one stops the retries', () => {
    const follower = followerOfA();
    follower.propose(10, 1, new Uint8Array([1]), null);
    drain(follower, 10);
    expect(run(follower, 20, 1_000)).toEqual([
      [310, a],
      [910, a],
    ]);
    // The forward sent at 910 now waits 1200 ms; a busy answer brings the next send forward.
    let correlationId = 0;
    follower.propose(1_005, 2, new Uint8Array([2]), null);
    for (const forward of forwardsTo(drain(follower, 1_005), a)) correlationId = forward.correlationId;
    follower.receive(1_010, a, { type: 'forwardProposeResponse', correlationId, outcome: { type: 'busy' } });
    const retried = run(follower, 1_010, 1_100);
    // 75 ms: half to all of two heartbeat intervals, the random source drawing 0.5
    // (busy-forward-backoff.test.ts).
    expect(retried).toEqual([[1_090, a]]);
    const outstanding = follower.takeReady();
    expect(outstanding).toBeNull();
  });

  it('stops resending once the leader answers appended', () => {
    const follower = followerOfA();
    follower.propose(10, 1, new Uint8Array([1]), null);
    const [forward] = forwardsTo(drain(follower, 10), a);
    follower.receive(20, a, { type: 'forwardProposeResponse', correlationId: forward!.correlationId, outcome: { type: 'appended', index: 3, term: 2 } });
    expect(run(follower, 30, 5_000)).toEqual([]);
  });
});

describe('leader dedup of retried forwards', () => {
  it('answers a retry with the first index and appends nothing, also for an older request after a newer one', () => {
    const leader = electedLeader([]);
    drain(leader, 1_000);
    const forward = (correlationId: number, requestId: number): RaftMessage => ({ type: 'forwardPropose', correlationId, command: new Uint8Array([requestId]), dedupKey: { clientId: clientId('client-b'), requestId }, proposerCommitIndex: 0 });
    leader.receive(1_001, b, forward(1, 1));
    leader.receive(1_001, b, forward(2, 2));
    leader.receive(1_001, b, forward(3, 3));
    expect(leader.lastIndex).toBe(4); // the no-op, then requests 1, 2 and 3
    // Every one of them timed out at the follower and is retried, oldest first, some twice.
    leader.receive(1_400, b, forward(4, 1));
    leader.receive(1_400, b, forward(5, 2));
    leader.receive(1_400, b, forward(6, 1));
    leader.receive(1_400, b, forward(7, 3));
    const answers = drain(leader, 1_400)
      .filter((outbound) => outbound.message.type === 'forwardProposeResponse')
      .map((outbound) => outbound.message);
    expect(answers).toEqual(
      [2, 3, 4, 2, 3, 2, 4].map((index, position) => ({ type: 'forwardProposeResponse', correlationId: position + 1, outcome: { type: 'appended', index, term: 2 } })),
    );
    expect(leader.lastIndex).toBe(4);
  });

  it('keeps the same request id of different clients apart', () => {
    const leader = electedLeader([]);
    drain(leader, 1_000);
    for (const [correlationId, client] of [[1, 'x'], [2, 'y'], [3, 'x'], [4, 'y']] as const) {
      leader.receive(1_001, b, { type: 'forwardPropose', correlationId, command: new Uint8Array([correlationId]), dedupKey: { clientId: clientId(client), requestId: 7 }, proposerCommitIndex: 0 });
    }
    expect(leader.lastIndex).toBe(3);
  });
});

describe('pipelined replication', () => {
  it('falls back to probing on a rejection, with or without a conflict term', () => {
    const withTerm = replicatingLeader().leader;
    withTerm.receive(1_002, c, rejected(3, 1));
    const probe = appendsTo(drain(withTerm, 1_002), c);
    expect(probe).toHaveLength(1);
    expect(probe[0]).toMatchObject({ prevLogIndex: 2 });

    const belowMatch = replicatingLeader().leader;
    belowMatch.receive(1_002, c, rejected(2));
    expect(appendsTo(drain(belowMatch, 1_002), c)).toHaveLength(1);
  });

  it('a follower that rejects below what it acknowledged gets one probe per heartbeat, not one per rejection', () => {
    // c acknowledged index 2, then lost its log (restarted on storage that kept nothing): it
    // rejects every probe and heartbeat with a hint below its acknowledged index.
    const { leader } = replicatingLeader();
    leader.receive(1_002, c, rejected(1));
    const first = appendsTo(drain(leader, 1_002), c);
    expect(first.map((append) => append.prevLogIndex)).toEqual([2]);
    let atOnce = 0;
    for (let answer = 0; answer < 50; answer++) {
      leader.receive(1_003, c, rejected(1));
      atOnce += appendsTo(drain(leader, 1_003), c).length;
    }
    expect(atOnce).toBe(0);
    // Each heartbeat carries the probe again (and a heartbeat), and rejections meanwhile add nothing.
    let sent = 0;
    for (let now = 1_010; now <= 1_500; now += 10) {
      leader.tick(now);
      leader.receive(now, b, accepted(6));
      for (const append of appendsTo(drain(leader, now), c)) {
        sent++;
        leader.receive(now, c, rejected(1));
        sent += appendsTo(drain(leader, now), c).length;
        expect(append.prevLogIndex).toBe(2);
      }
    }
    expect(leader.role).toBe('leader');
    // 500 ms at a 50 ms heartbeat: about 10 rounds of a probe and a heartbeat each.
    expect(sent).toBeGreaterThanOrEqual(10);
    expect(sent).toBeLessThanOrEqual(22);
  });

  it('re-probes at once only when a rejection moves the probe back; one that leaves it, or moves it forward, waits for the heartbeat', () => {
    // c acknowledged index 2, then took a snapshot through 3 that no leader's log matches (a
    // forged one): it clamps its hint to its commit index + 1, so it answers the probe after 3
    // with "from 4", the very probe it rejected, every time (src/core/forged-snapshot-floor.test.ts).
    const { leader } = replicatingLeader();
    leader.receive(1_002, c, rejected(4));
    expect(appendsTo(drain(leader, 1_002), c).map((append) => append.prevLogIndex)).toEqual([3]);
    let atOnce = 0;
    for (let answer = 0; answer < 50; answer++) {
      leader.receive(1_003, c, rejected(4));
      leader.receive(1_003, c, rejected(6)); // forward: an answer older than the probe, or a lie
      atOnce += appendsTo(drain(leader, 1_003), c).length;
    }
    expect(atOnce).toBe(0);
    // The probe goes again with the heartbeat, a heartbeat interval (50 ms) after it first went.
    leader.tick(1_052);
    leader.receive(1_052, b, accepted(6));
    expect(appendsTo(drain(leader, 1_052), c).filter((append) => append.entries.length > 0).map((append) => append.prevLogIndex)).toEqual([3]);
    // A rejection that moves the probe back is Raft's back-off: probed at once.
    leader.receive(1_053, c, rejected(3));
    expect(appendsTo(drain(leader, 1_053), c).map((append) => append.prevLogIndex)).toEqual([2]);
  });

  it('reports a follower that rejects below what it acknowledged at match index 0 until it answers a probe again', () => {
    // A room's policy promotes learners by this view: one that lost its log must not look caught up
    // (a review found a learner promoted without its log on 2026-12-06).
    const { leader } = replicatingLeader();
    expect(leader.matchIndexes().get(c)).toBe(2);
    leader.receive(1_002, c, rejected(1));
    expect(leader.matchIndexes().get(c)).toBe(0);
    expect(leader.matchIndexes().get(b)).toBe(2);
    // A stale rejection, overtaken on the way: the next success restores the view.
    leader.receive(1_003, c, accepted(2));
    expect(leader.matchIndexes().get(c)).toBe(2);
  });

  it('waits an election timeout without progress before probing a silent follower again', () => {
    const { leader } = replicatingLeader();
    let probedAt: number | null = null;
    for (let now = 1_010; now <= 1_400 && probedAt === null; now += 10) {
      leader.tick(now);
      for (const outbound of drain(leader, now)) {
        const message = outbound.message;
        if (message.type !== 'appendEntries') continue;
        // b answers everything (the quorum stays), c answers nothing.
        if (outbound.to === b) leader.receive(now, b, accepted(message.prevLogIndex + message.entries.length));
        if (outbound.to === c && message.entries.length > 0) probedAt = now;
      }
    }
    expect(leader.role).toBe('leader');
    // Batches went out at 1001; electionTimeoutMax is 300 and heartbeats come every 50 ms.
    expect(probedAt).not.toBeNull();
    expect(probedAt!).toBeGreaterThanOrEqual(1_301);
    expect(probedAt!).toBeLessThanOrEqual(1_360);
  });

  it('sends probes of at most 8 KiB of entries, then full-size batches once the match point is found', () => {
    const entries = Array.from({ length: 100 }, (_, position) => entry(position + 1, 1, 1_000));
    const leader = electedLeader(entries);
    drain(leader, 1_000);
    leader.receive(1_001, c, rejected(1)); // c has nothing
    const [probe, ...others] = appendsTo(drain(leader, 1_001), c);
    expect(others).toEqual([]);
    expect(probe?.prevLogIndex).toBe(0);
    const probeBytes = probe!.entries.reduce((sum, each) => sum + encodedSizeBound(each), 0);
    expect(probe!.entries.length).toBeGreaterThan(1);
    expect(probeBytes).toBeLessThanOrEqual(8 * 1024);
    expect(probeBytes + encodedSizeBound(entries[probe!.entries.length]!)).toBeGreaterThan(8 * 1024 - 64);
    leader.receive(1_002, c, accepted(probe!.entries.length));
    const batches = appendsTo(drain(leader, 1_002), c);
    expect(batches).toHaveLength(1);
    expect(batches[0]?.entries.length).toBe(101 - probe!.entries.length);
  });

  it('a probe still carries one entry larger than 8 KiB', () => {
    const leader = electedLeader([entry(1, 1, 20_000), entry(2, 1, 20_000)]);
    drain(leader, 1_000);
    leader.receive(1_001, c, rejected(1));
    const [probe] = appendsTo(drain(leader, 1_001), c);
    expect(probe?.entries.map((each) => each.index)).toEqual([1]);
  });
});

describe('batches within the transport\'s ordered frames', () => {
  const kibibyte = 1024;
  /** 2,000 entries of 100-byte commands: about 250 KiB, far more than one ordered frame. */
  const manySmallEntries = (): LogEntry[] => Array.from({ length: 2_000 }, (_, position) => entry(position + 1, 1, 100));
  const entriesBytes = (append: AppendEntries): number => append.entries.reduce((sum, each) => sum + encodedSizeBound(each), 0);

  /**
   * Replicates the whole log to c, which starts with nothing, answering every AppendEntries as
   * soon as it is sent; returns every AppendEntries c was sent (the first is the probe).
   */
  function replicateToEmptyFollower(leader: RaftCore): AppendEntries[] {
    drain(leader, 1_000);
    leader.receive(1_001, c, rejected(1)); // c has nothing
    const sent: AppendEntries[] = [];
    let pending = appendsTo(drain(leader, 1_001), c);
    for (let now = 1_002; pending.length > 0; now += 1) {
      sent.push(...pending);
      for (const append of pending) leader.receive(now, c, accepted(append.prevLogIndex + append.entries.length));
      pending = appendsTo(drain(leader, now), c);
      expect(now).toBeLessThan(10_000);
    }
    const last = sent.at(-1)!;
    expect(last.prevLogIndex + last.entries.length).toBe(leader.lastIndex);
    return sent;
  }

  it('keeps every AppendEntries within orderedFrameBytes, encoded, and fills each one nearly to it', () => {
    const orderedFrameBytes = 16 * kibibyte;
    const entries = manySmallEntries();
    const sent = replicateToEmptyFollower(electedLeader(entries, {}, orderedFrameBytes));
    const withEntries = sent.filter((append) => append.entries.length > 0);
    expect(withEntries.length).toBeGreaterThan(10);
    for (const append of withEntries) expect(encodeMessage(append).length).toBeLessThanOrEqual(orderedFrameBytes);
    // Full batches: every one but the last would have overflowed with the next entry.
    const oneEntry = encodedSizeBound(entries[0]!);
    for (const append of withEntries.slice(1, -1)) expect(entriesBytes(append) + oneEntry).toBeGreaterThan(orderedFrameBytes - 64);
  });

  it('without orderedFrameBytes one batch carries far more, up to maxAppendBytes', () => {
    const sent = replicateToEmptyFollower(electedLeader(manySmallEntries()));
    const [probe, ...batches] = sent.filter((append) => append.entries.length > 0);
    expect(entriesBytes(probe!)).toBeLessThanOrEqual(8 * kibibyte);
    expect(batches).toHaveLength(1); // the whole rest of the log, about 200 KiB encoded
    expect(encodeMessage(batches[0]!).length).toBeGreaterThan(150 * kibibyte);

    const bounded = replicateToEmptyFollower(electedLeader(manySmallEntries(), { maxAppendBytes: 64 * kibibyte }));
    // Measured as the engine measures (a bound on each entry), batches fill to maxAppendBytes.
    expect(Math.max(...bounded.map(entriesBytes))).toBeGreaterThan(60 * kibibyte);
    for (const append of bounded) expect(encodeMessage(append).length).toBeLessThanOrEqual(64 * kibibyte);
  });

  it('stays within maxAppendBytes when that is the smaller bound', () => {
    const sent = replicateToEmptyFollower(electedLeader(manySmallEntries(), { maxAppendBytes: 6 * kibibyte }, 16 * kibibyte));
    for (const append of sent) expect(encodeMessage(append).length).toBeLessThanOrEqual(6 * kibibyte);
  });

  it('ignores an orderedFrameBytes below 4 KiB, and honours one of exactly 4 KiB', () => {
    const ignored = replicateToEmptyFollower(electedLeader(manySmallEntries(), {}, 4 * kibibyte - 1));
    const [probe, ...batches] = ignored.filter((append) => append.entries.length > 0);
    expect(entriesBytes(probe!)).toBeGreaterThan(4 * kibibyte); // the usual 8 KiB probe
    expect(batches).toHaveLength(1);
    expect(encodeMessage(batches[0]!).length).toBeGreaterThan(150 * kibibyte);

    const honoured = replicateToEmptyFollower(electedLeader(manySmallEntries(), {}, 4 * kibibyte));
    for (const append of honoured) expect(encodeMessage(append).length).toBeLessThanOrEqual(4 * kibibyte);
  });

  it('keeps probes within an orderedFrameBytes smaller than the usual 8 KiB probe', () => {
    const sent = replicateToEmptyFollower(electedLeader(manySmallEntries(), {}, 6 * kibibyte));
    const probe = sent[0]!;
    expect(probe.prevLogIndex).toBe(0);
    // By the engine's own measure (the encoding is smaller still), not the usual 8 KiB.
    expect(entriesBytes(probe)).toBeLessThanOrEqual(6 * kibibyte);
    expect(entriesBytes(probe)).toBeGreaterThan(5 * kibibyte);
  });

  it('still sends an entry larger than orderedFrameBytes, alone', () => {
    const orderedFrameBytes = 16 * kibibyte;
    const entries = [...Array.from({ length: 50 }, (_, position) => entry(position + 1, 1, 100)), entry(51, 1, 40_000), ...Array.from({ length: 50 }, (_, position) => entry(position + 52, 1, 100))];
    const sent = replicateToEmptyFollower(electedLeader(entries, {}, orderedFrameBytes));
    const carryingLarge = sent.filter((append) => append.entries.some((each) => each.index === 51));
    expect(carryingLarge.map((append) => append.entries.map((each) => each.index))).toEqual([[51]]);
    for (const append of sent) if (append !== carryingLarge[0]) expect(encodeMessage(append).length).toBeLessThanOrEqual(orderedFrameBytes);
  });
});
