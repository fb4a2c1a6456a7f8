// SPEC "Collision": another live writer committing under this node's durable client id.
import { describe, expect, it } from 'vitest';
import { ClientIdCollisionError } from '../core/errors.ts';
import { clientId, nodeId } from '../core/types.ts';
import { createSimulatedCluster } from '../testing/cluster.ts';

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
});
