// Review (core, hostile frames): a ReadIndexRequest from a stranger (outside the configuration)
// is the one request a stranger can send that is never counted as refused. SPEC "Untrusted
// peers": "refused frames produce frameRefused with a reason". Its siblings are: a stranger's
// ForwardPropose is answered notMember by the leader AND counted senderNotMember (by any role);
// a stranger's RequestVote is counted senderNotVoter. handleReadIndexRequest
// (linearizable-reads.ts) tells a stranger notMember on a leader without counting it, and on a
// follower answers it (readIndex 0) like a member, again without counting: a flood of them from
// a stranger shows nowhere in the metrics.
import { describe, expect, it } from 'vitest';
import { createCoreHarness } from '../core/core-harness.test-support.ts';
import { nodeId } from '../core/types.ts';

describe('a ReadIndexRequest from a stranger (review of src/core, hostile frames)', () => {
  it('is counted as refused (senderNotMember) by the leader and by a follower, like a stranger forward', () => {
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const follower = [...harness.nodes.values()].find((node) => node !== leader)!;
    const stranger = nodeId('mallory');
    for (const node of [leader, follower]) {
      node.core.receive(harness.now, stranger, { type: 'forwardPropose', correlationId: 1, command: new Uint8Array([1]), dedupKey: null });
      node.core.receive(harness.now, stranger, { type: 'readIndexRequest', correlationId: 2 });
    }
    harness.settle();
    const refusals = (id: typeof leader.id): string[] =>
      harness.node(id).metrics.flatMap((metric) => (metric.type === 'frameRefused' && metric.from === stranger ? [metric.reason] : []));
    expect({ leader: refusals(leader.id), follower: refusals(follower.id) }).toEqual({ leader: ['senderNotMember', 'senderNotMember'], follower: ['senderNotMember', 'senderNotMember'] });
    // A follower does not answer a stranger as if it were a member either.
    expect(harness.sent.filter((item) => item.from === follower.id && item.to === stranger)).toEqual([]);
  });
});
