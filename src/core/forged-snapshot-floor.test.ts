// One InstallSnapshot from a voter, a term ahead of the follower (a leader frame it must take:
// SPEC pins the first leader heard in a term), leaves the follower a snapshot floor whose term no
// leader's log has at that index. Raftmesh does not survive a voter that lies (SPEC "Untrusted
// peers"), and that follower cannot catch up again, but the honest nodes must not be made to
// spin: the follower clamps its conflict hint to its commit index + 1, which sends the leader back
// to the very probe it just sent, and the leader probed again at once, forever, with no further
// frame from the liar (the harness never settled: thousands of frames in no virtual time).
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../codec/message-codec.ts';
import { defaultResolvedRaftConfig } from './config.ts';
import { createCoreHarness } from './core-harness.test-support.ts';

describe('a follower given a forged snapshot floor', () => {
  it('is re-probed on the heartbeat\'s pace, not at once after every rejection', () => {
    const harness = createCoreHarness(['a', 'b', 'c'], 1);
    harness.advance(1_000);
    const leader = harness.leaders()[0]!;
    const [victim, liar] = [...harness.nodes.values()].filter((node) => node !== leader);
    // Well-formed, and it passes every gate: from a voter, one term ahead, its meta's term not
    // above the frame's; through one index past what the follower has committed.
    const forged = encodeMessage({ type: 'installSnapshot', term: victim!.core.term + 1, meta: { lastIncludedIndex: victim!.core.commitIndex + 1, lastIncludedTerm: victim!.core.term }, totalBytes: 0, offset: 0, data: new Uint8Array(0) });
    const decoded = decodeMessage(forged);
    if (!decoded.ok) throw new Error(`the forged frame does not decode: ${decoded.reason}`);
    victim!.core.receive(harness.now, liar!.id, decoded.value);

    const start = harness.sent.length;
    const elapsedMs = 2_000;
    harness.advance(elapsedMs);
    const appendsToVictim = harness.sent.slice(start).filter((item) => item.to === victim!.id && item.message.type === 'appendEntries');
    // Whoever leads sends it a heartbeat and the outstanding probe each heartbeat interval, and
    // probes once more for each rejection that moves its probe back (an election's back-off).
    const heartbeats = elapsedMs / defaultResolvedRaftConfig.heartbeatIntervalMs;
    expect(appendsToVictim.length).toBeGreaterThan(heartbeats);
    expect(appendsToVictim.length).toBeLessThanOrEqual(2 * heartbeats + 10);
  });
});
