// Review (hostile frames): SPEC "Untrusted peers", ranges: "a frame whose term exceeds this node's
// term by more than maxTermJump is refused". notMember carries a term but is dispatched before
// receiveTermed (raft-core.ts receive), and handleNotMember (outside-cluster.ts) checks only that
// the term is a counter: a notice from any voter for a term far beyond ours, for which no leader is
// pinned, is believed. The node then counts itself outside the cluster: its proposals and reads
// fail with NotMemberError and it reports removedFromCluster, while its leader is alive and
// replicating to it.
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../codec/index.ts';
import { createCoreHarness } from '../core/core-harness.test-support.ts';
import type { RaftMessage } from '../core/messages.ts';

describe('hostile frames: notMember and maxTermJump', () => {
  it('refuses (termJump) a notMember whose term is beyond maxTermJump, and the node stays in the cluster', () => {
    const maxTermJump = 100;
    const harness = createCoreHarness(['a', 'b', 'c'], 1, ['a', 'b', 'c'], { maxTermJump });
    harness.advance(1_000);
    const leader = harness.leaders()[0]!;
    const [target, sender] = [...harness.nodes.values()].filter((node) => node !== leader);
    const notice: RaftMessage = { type: 'notMember', term: target!.core.term + maxTermJump + 1_000, configIndex: target!.core.lastIndex };
    const decoded = decodeMessage(encodeMessage(notice));
    if (!decoded.ok) throw new Error('does not decode');
    const metricsBefore = target!.metrics.length;
    target!.core.receive(harness.now, sender!.id, decoded.value);
    harness.advance(50); // well within a heartbeat or two: the leader is alive throughout
    const metrics = target!.metrics.slice(metricsBefore).map((metric) => (metric.type === 'frameRefused' ? `frameRefused:${metric.reason}` : metric.type));
    expect(metrics).toContain('frameRefused:termJump');
    expect(metrics).not.toContain('removedFromCluster');
  });
});
