// SPEC "Collision": another live writer committing under this node's client id.
import { describe, expect, it } from 'vitest';
import { ClientIdCollisionError } from '../core/errors.ts';
import type { RaftMetric } from '../core/events.ts';
import { clientId, nodeId, type ClientId, type NodeId } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { createSimulatedCluster } from '../testing/cluster.ts';
import { createSimulatedNetwork } from '../testing/simulated-network.ts';
import { seededRandom } from '../testing/seeded-random.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { createRaftNode } from './create-raft-node.ts';
import { rewritingTransport } from './rewriting-transport.test-support.ts';
import type { RaftNode } from './node-options.ts';

/** Forwards leave under another client's key: a writer that (wrongly) shares that client's id. */
function impersonating(inner: RaftTransport, victim: () => ClientId | null): RaftTransport {
  return rewritingTransport(inner, (_to, message) => {
    const taken = victim();
    return message.type === 'forwardPropose' && taken !== null ? { ...message, dedupKey: { clientId: taken, requestId: 1_000 } } : message;
  });
}

describe('client id collisions', () => {
  it('a durable id that another live writer commits under fails further proposals with ClientIdCollisionError', async () => {
    const shared = clientId('shared-writer');
    const identities = new Map([[nodeId('n1'), shared], [nodeId('n2'), shared]]);
    const cluster = createSimulatedCluster({ seed: 801, size: 3, identities });
    await cluster.start();
    await cluster.waitForLeader(2_000);
    const first = cluster.nodes.get(nodeId('n1'))!.node!;
    const second = cluster.nodes.get(nodeId('n2'))!.node!;
    await cluster.settle(second.propose(new Uint8Array([1]))); // n2 issues request 1
    for (let count = 0; count < 3; count += 1) await cluster.settle(first.propose(new Uint8Array([2]))); // n1 issues 1, 2, 3
    await cluster.runFor(200);
    await expect(second.propose(new Uint8Array([3]))).rejects.toBeInstanceOf(ClientIdCollisionError);
    await cluster.close();
  });

  it('an auto id another writer commits under is re-minted with a fresh suffix, and a metric says so', async () => {
    const clock = new VirtualClock(0);
    const network = createSimulatedNetwork(clock, seededRandom(7));
    const ids = ['a', 'b', 'c'].map((name) => nodeId(name));
    const metrics = new Map<NodeId, RaftMetric[]>(ids.map((id) => [id, []]));
    let taken: ClientId | null = null;
    const nodes: RaftNode[] = await Promise.all(
      ids.map((id, position) => {
        const plain = network.transport(id);
        return createRaftNode({
          id,
          clusterConfig: { voters: ids },
          transport: id === ids[2] ? impersonating(plain, () => taken) : plain,
          storage: new InMemoryRaftStorage(),
          raftConfig: { clock, random: seededRandom(200 + position) },
          onMetric: (metric) => metrics.get(id)!.push(metric),
        });
      }),
    );
    expect(await clock.runUntil(() => nodes.some((node) => node.role.value === 'leader'), { timeoutMs: 5_000 })).toBe(true);
    const leader = nodes.find((node) => node.role.value === 'leader')!;
    const victim = nodes.find((node) => node !== leader && node.id !== ids[2])!;
    const impostor = nodes[2]!;
    const settle = async <T>(call: Promise<T>): Promise<T> => {
      let result: { value: T } | null = null;
      void call.then((value) => (result = { value }));
      await clock.runUntil(() => result !== null, { timeoutMs: 5_000 });
      return (result as { value: T } | null)!.value;
    };
    const first = await settle(victim.propose(new Uint8Array([1])));
    taken = first.dedupKey!.clientId;
    // The impostor commits under the victim's id, with a request id the victim never issued. (When
    // the impostor leads, its own proposals are not forwarded: the seed keeps it a follower.)
    expect(impostor.role.value).toBe('follower');
    await settle(impostor.propose(new Uint8Array([2])));
    await clock.advance(200);
    expect(metrics.get(victim.id)!.filter((metric) => metric.type === 'clientIdReminted')).toEqual([expect.objectContaining({ previous: taken })]);
    const next = await settle(victim.propose(new Uint8Array([3])));
    expect(next.dedupKey?.clientId).not.toBe(taken);
    expect(next.dedupKey?.clientId).toMatch(new RegExp(`^${victim.id}-[0-9a-f]{16}$`));
    for (const node of nodes) await node.close();
  });
});
