// Review (hostile frames): one InstallSnapshot from a voter, in a term above the follower's (a
// leader frame the follower must accept: SPEC pins the first leader heard in a term), leaves the
// follower with a snapshot floor whose term no leader's log has at that index. From then on the
// follower's conflict hint sends the leader back to the very probe it just sent
// (follower-replication.ts conflictHint clamps the hint to commitIndex + 1, leader-replication.ts
// handleAppendResponse re-probes at once whenever the hint is above matchIndex), and the two honest
// nodes exchange probes and rejections with no delay, forever: the "storm" that
// handleAppendResponse's heartbeat pacing was written to prevent, reached through the one case it
// does not cover. The hostile voter need not send anything more.
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../codec/index.ts';
import { createCoreHarness } from '../core/core-harness.test-support.ts';
import type { RaftMessage } from '../core/messages.ts';
import { nodeId } from '../core/types.ts';

describe('hostile frames: a forged snapshot floor', () => {
  it('does not make the leader re-probe a follower without pause (probes stay paced by the heartbeat)', () => {
    const harness = createCoreHarness(['a', 'b', 'c'], 1);
    harness.advance(1_000);
    const firstLeader = harness.leaders()[0];
    expect(firstLeader).toBeDefined();
    const victim = [...harness.nodes.values()].find((node) => node !== firstLeader)!;
    const liar = [...harness.nodes.values()].find((node) => node !== firstLeader && node !== victim)!;
    // Well-formed, passes every gate: a voter, one term ahead, meta term not above the frame's term.
    const forged: RaftMessage = { type: 'installSnapshot', term: victim.core.term + 1, meta: { lastIncludedIndex: victim.core.commitIndex + 1, lastIncludedTerm: victim.core.term }, totalBytes: 0, offset: 0, data: new Uint8Array(0) };
    const decoded = decodeMessage(encodeMessage(forged));
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    victim.core.receive(harness.now, liar.id, decoded.value);

    const start = harness.sent.length;
    let error: unknown = null;
    try {
      harness.advance(2_000); // 20 heartbeat intervals at the default 100 ms
    } catch (caught) {
      error = caught;
    }
    const probes = harness.sent.slice(start).filter((item) => item.to === victim.id && item.message.type === 'appendEntries').length;
    // Heartbeats and paced probes: a few per heartbeat interval at most, from whoever leads.
    expect({ error: error === null ? null : String(error), probesToVictim: Math.min(probes, 1_000_000) }).toEqual({ error: null, probesToVictim: expect.any(Number) });
    expect(probes).toBeLessThan(200);
  });
});
