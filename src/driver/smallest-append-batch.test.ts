// Guards the largest command propose() accepts at the smallest maxAppendBytes a node takes (1,024
// bytes). The room kept for a frame's fields was a fixed 1,024 bytes, so at that setting every
// proposal but an empty one was refused as too large for the transport: a configuration the
// validator accepted made a node that could store nothing (found when the simulator began to draw
// small batches for a third of its seeds, 2026-12-07, third session). The room is now counted
// for the node's own dedup key; a command of the largest size it accepts must still travel, to
// a follower and forwarded to the leader, and commit.
import { describe, expect, it } from 'vitest';
import { nodeId, type NodeId } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';
import { createRaftNode } from './create-raft-node.ts';
import type { RaftNode } from './node-options.ts';

const smallest = { maxAppendBytes: 1_024, electionTimeoutMin: 150, electionTimeoutMax: 300, heartbeatInterval: 30 };

/** The largest command `node` accepts, read from its refusal of a command too large. */
async function largestAccepted(node: RaftNode): Promise<number> {
  const refusal = await node.propose(new Uint8Array(2_000)).then(
    () => null,
    (error: unknown) => error,
  );
  const match = /can carry \((\d+) bytes\)/.exec(String(refusal));
  expect(match, String(refusal)).not.toBeNull();
  return Number(match?.[1]);
}

describe('the smallest maxAppendBytes', () => {
  for (const [label, names] of [
    ['short node ids', ['a', 'b', 'c']],
    // The longest node ids an auto client id can be minted for (239 characters): the longest keys.
    ['the longest node ids an auto identity allows', ['a', 'b', 'c'].map((letter) => letter.repeat(239))],
  ] as const) {
    it(`${label}: commands of at least ${names[0].length === 1 ? 800 : 100} bytes are accepted, and the largest accepted commits from the leader and forwarded from a follower`, async () => {
      const ids = names.map((name) => nodeId(name)) as NodeId[];
      const network = createLoopbackNetwork();
      const nodes = await Promise.all(ids.map((id) => createRaftNode({ id, clusterConfig: { voters: ids }, transport: network.transport(id), storage: new InMemoryRaftStorage(), raftConfig: smallest })));
      try {
        const leader = await Promise.race(nodes.map(async (node) => (await node.awaitLeadership(), node)));
        const follower = nodes.find((node) => node !== leader)!;
        const largest = await largestAccepted(leader);
        expect(largest).toBeGreaterThanOrEqual(label === 'short node ids' ? 800 : 100);
        const fromLeader = await leader.propose(new Uint8Array(largest).fill(1));
        const forwarded = await follower.propose(new Uint8Array(await largestAccepted(follower)).fill(2));
        const small = await leader.propose(new Uint8Array(100).fill(3));
        expect([fromLeader.command.length, small.command.length]).toEqual([largest, 100]);
        expect(forwarded.index).toBeGreaterThan(fromLeader.index);
      } finally {
        await Promise.all(nodes.map((node) => node.close()));
      }
    });
  }
});
