import { describe, it, expect } from 'vitest';
import { createRaftNode, InMemoryRaftStorage, nodeId, type RaftNode, type RaftTransport, type NodeId } from '../../index.ts';
import { VirtualClock, createSimulatedNetwork, seededRandom } from '../../testing/index.ts';
import { enc } from './harness.test-support.ts';

describe('API.md RaftTransport.maxPayloadBytes: "largest frame it carries, if bounded" (no minimum documented)', () => {
  it('FINDING? a transport bounded at 1 KiB is accepted and small commands commit in frames that fit', async () => {
    const clock = new VirtualClock();
    const net = createSimulatedNetwork(clock, seededRandom(5), { minDelayMs: 1, maxDelayMs: 3, dropProbability: 0, duplicateProbability: 0 });
    const ids = ['a', 'b', 'c'].map(nodeId);
    const oversize: number[] = [];
    const nodes: RaftNode[] = [];
    let error: unknown;
    for (const [k, id] of ids.entries()) {
      const inner = net.transport(id);
      const transport: RaftTransport = { selfId: inner.selfId, peers: inner.peers, incoming: inner.incoming, maxPayloadBytes: 1024, send: (to: NodeId, b: Uint8Array) => { if (b.length > 1024) oversize.push(b.length); else inner.send(to, b); } };
      try {
        const p = createRaftNode({ id, clusterConfig: { voters: ids }, transport, storage: new InMemoryRaftStorage(), raftConfig: { clock, random: seededRandom(k + 1) } });
        let n: RaftNode | undefined; p.then((x) => (n = x), (e) => (error = e));
        await clock.runUntil(() => n !== undefined || error !== undefined, 100);
        if (n) nodes.push(n);
      } catch (e) { error = e; }
    }
    expect(error, String(error)).toBeUndefined();
    let done = 0;
    await clock.runUntil(() => nodes.some((n) => n.role.value === 'leader'), 3000);
    for (let i = 0; i < 10; i++) void nodes[0]!.propose(enc('small-' + i)).then(() => done++);
    await clock.runUntil(() => done === 10, 5000);
    expect(done).toBe(10);
    expect(oversize).toEqual([]);
  });
});
