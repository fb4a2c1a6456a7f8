// Review (codec): the codec refuses a cluster configuration listing more than
// codecLimits.maxConfigMembers (1,000) voters or learners (records.ts readIds: 'tooLarge'), but
// nothing before the codec bounds it: validateClusterConfig, createRaftNode's clusterConfig and
// changeMembership accept any number. A leader appends such a configuration, encodes it, and every
// follower drops the frame as undecodable: the entry and everything after it never replicate.
import { describe, expect, it } from 'vitest';
import { decodeConfigPayload, decodeMessage, encodeConfigPayload, encodeMessage } from '../codec/index.ts';
import type { RaftMetric } from '../core/events.ts';
import { nodeId, validateClusterConfig, type ClusterConfig, type NodeId } from '../core/types.ts';
import { createRaftNode, type RaftNode } from '../driver/create-raft-node.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';

const manyLearners = (count: number): NodeId[] => Array.from({ length: count }, (_, position) => nodeId(`learner-${position}`));

describe('codec: configurations the API accepts must travel', () => {
  it('a configuration validateClusterConfig accepts (3 voters, 1,001 learners) decodes from a frame and a record', () => {
    const config: ClusterConfig = validateClusterConfig({ voters: ['a', 'b', 'c'].map((name) => nodeId(name)), learners: manyLearners(1_001) });
    const frame = encodeMessage({ type: 'appendEntries', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [{ index: 1, term: 1, command: new Uint8Array(0), isNoOp: false, config: { old: null, new: config } }], leaderCommit: 0, readRound: 0 });
    expect(decodeMessage(frame)).toMatchObject({ ok: true });
    expect(decodeConfigPayload(encodeConfigPayload({ old: null, new: config }))).toMatchObject({ ok: true });
  });

  it('changeMembership to 1,001 learners either refuses up front or commits; it must not wedge replication', async () => {
    const network = createLoopbackNetwork();
    const ids = ['a', 'b', 'c'].map((name) => nodeId(name));
    const undecodable: string[] = [];
    const nodes: RaftNode[] = await Promise.all(
      ids.map((id) =>
        createRaftNode({
          id,
          clusterConfig: { voters: ids },
          transport: network.transport(id),
          storage: new InMemoryRaftStorage(),
          onMetric: (metric: RaftMetric) => {
            if (metric.type === 'frameUndecodable') undecodable.push(`${id}<-${metric.from}: ${metric.reason}`);
          },
        }),
      ),
    );
    try {
      await Promise.race(nodes.map((node) => node.awaitLeadership()));
      const leader = nodes.find((node) => node.role.value === 'leader')!;
      const outcome = await Promise.race([
        leader.changeMembership({ voters: ids, learners: manyLearners(1_001) }).then(
          () => 'committed',
          (error: unknown) => (error instanceof RangeError ? 'refused' : `failed: ${String(error)}`),
        ),
        new Promise<string>((resolve) => setTimeout(() => resolve('still pending after 4 s'), 4_000)),
      ]);
      expect({ outcome, undecodable: undecodable.slice(0, 2) }).toEqual({ outcome: expect.stringMatching(/^(committed|refused)$/), undecodable: [] });
    } finally {
      await Promise.all(nodes.map((node) => node.close()));
    }
  });
});
