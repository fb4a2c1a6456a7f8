// API.md: `membership` is "the latest config in the log, committed or not", a ClusterConfig. While
// joint, the latest entry is C_old,new, which a ClusterConfig cannot hold whole: the node shows
// its new half (where the change is heading) and keeps both halves in `membershipPayload`.
import { describe, expect, it } from 'vitest';
import { createCoreHarness } from './core-harness.test-support.ts';
import { nodeId, type NodeId } from './types.ts';

const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((name) => nodeId(name)) as [NodeId, NodeId, NodeId, NodeId];

describe('membership while joint', () => {
  it('shows the new half from the moment C_old,new is appended, on the leader and on a follower that has it, and C_new alone once it commits', () => {
    const harness = createCoreHarness(['a', 'b', 'c', 'd'], 3, ['a', 'b', 'c']);
    harness.advance(2_000);
    const [leader] = harness.leaders();
    if (leader === undefined) throw new Error('no leader');
    const follower = [...harness.nodes.values()].find((node) => node.id !== leader.id && node.id !== d);
    if (follower === undefined) throw new Error('no follower');
    const target = { voters: [a, b, c, d] };

    // Only C_old,new may reach the follower: every later AppendEntries carrying C_new is dropped.
    harness.dropWhen = (_from, _to, message) => message.type === 'appendEntries' && message.entries.some((entry) => entry.config !== undefined && entry.config.old === null && entry.config.new.voters.length === 4);
    leader.core.changeMembership(harness.now, 1, target);
    expect(leader.core.membershipPayload.old).toEqual({ voters: [a, b, c] });
    expect(leader.core.membership).toEqual(target);
    harness.settle();
    expect(follower.core.membershipPayload).toEqual({ old: { voters: [a, b, c] }, new: target });
    expect(follower.core.membership).toEqual(target);

    harness.dropWhen = null;
    harness.advance(500);
    expect(follower.core.membershipPayload).toEqual({ old: null, new: target });
    expect(leader.core.membership).toEqual(target);
  });
});
