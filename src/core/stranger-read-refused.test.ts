// Guards that a ReadIndexRequest from outside the configuration is counted as refused
// (senderNotMember) by every role, like a stranger's ForwardPropose, and that a follower never
// answers it as if the sender were a member.
import { describe, expect, it } from 'vitest';
import { createCoreHarness } from './core-harness.test-support.ts';
import { nodeId, type NodeId } from './types.ts';

describe('a ReadIndexRequest from a stranger', () => {
  it('is counted as refused (senderNotMember) by the leader and by a follower, like a stranger forward', () => {
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const follower = [...harness.nodes.values()].find((node) => node !== leader)!;
    const stranger = nodeId('mallory');
    for (const node of [leader, follower]) {
      node.core.receive(harness.now, stranger, { type: 'forwardPropose', correlationId: 1, command: new Uint8Array([1]), dedupKey: null, proposerCommitIndex: 0 });
      node.core.receive(harness.now, stranger, { type: 'readIndexRequest', correlationId: 2 });
    }
    harness.settle();
    const refusals = (id: NodeId): string[] =>
      harness.node(id).metrics.flatMap((metric) => (metric.type === 'frameRefused' && metric.from === stranger ? [metric.reason] : []));
    expect({ leader: refusals(leader.id), follower: refusals(follower.id) }).toEqual({ leader: ['senderNotMember', 'senderNotMember'], follower: ['senderNotMember', 'senderNotMember'] });
    // The leader tells the stranger it is outside (once per request); a follower sends it nothing.
    expect(harness.sent.filter((item) => item.from === leader.id && item.to === stranger).map((item) => item.message.type)).toEqual(['notMember', 'notMember']);
    expect(harness.sent.filter((item) => item.from === follower.id && item.to === stranger)).toEqual([]);
  });
});
