// Three worker nodes (in-process workers, loopback transports on the page): errors with their
// fields, and observables after resolved calls.
import { describe, expect, it } from 'vitest';
import { NotLeaderError } from '../core/errors.ts';
import { createInProcessWorker } from './in-process-worker.test-support.ts';
import { createWorkerHarness } from './worker-harness.test-support.ts';
import { bytes, errorName, settledWithin } from './parity.test-support.ts';

const harness = createWorkerHarness(() => createInProcessWorker());

describe('a worker cluster', () => {
  it('NotLeaderError keeps its leader; follower propose and readIndex are not ahead of the follower page', async () => {
    const cluster = await harness.cluster(1);
    const leader = await cluster.waitForLeader();
    await cluster.runUntil(() => cluster.nodes.every((node) => node.leader.value === leader.id));
    const follower = cluster.nodes.find((node) => node !== leader)!;
    const error = await follower.changeMembership({ voters: [follower.id] }).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(NotLeaderError);
    expect((error as NotLeaderError).leader).toBe(leader.id);
    const transferError = await follower.transferLeadership(leader.id).catch((reason: unknown) => reason);
    expect(transferError).toBeInstanceOf(NotLeaderError);
    expect((transferError as NotLeaderError).leader).toBe(leader.id);
    const ahead: string[] = [];
    for (let round = 0; round < 30; round += 1) {
      const entries = await Promise.all(Array.from({ length: 20 }, (_, k) => follower.propose(bytes(`${round}-${k}`))));
      const highest = Math.max(...entries.map((entry) => entry.index));
      if (follower.commitIndex.value < highest) ahead.push(`round ${round}: entry ${highest}, page commitIndex ${follower.commitIndex.value}`);
    }
    expect(ahead).toEqual([]);
    await cluster.close();
  });

  it('after transferLeadership resolves, the old leader page names the target; after awaitLeadership resolves, the target page says leader', async () => {
    const cluster = await harness.cluster(2);
    const leader = await cluster.waitForLeader();
    await cluster.runUntil(() => cluster.nodes.every((node) => node.leader.value === leader.id && node.commitIndex.value >= 1));
    const target = cluster.nodes.find((node) => node !== leader)!;
    const leading = target.awaitLeadership();
    await leader.transferLeadership(target.id);
    const seenOnOldLeader = { leader: leader.leader.value, role: leader.role.value };
    await leading;
    const seenOnTarget = { role: target.role.value, leader: target.leader.value };
    expect(seenOnOldLeader).toEqual({ leader: target.id, role: 'follower' });
    expect(seenOnTarget).toEqual({ role: 'leader', leader: target.id });
    expect(errorName(await settledWithin(target.propose(bytes('after transfer')), 5_000))).toBe('resolved');
    await cluster.close();
  });
});
