// awaitRead (API.md "The node"): the read index, then the caller's own applied index reaching it.
import { describe, expect, it } from 'vitest';
import { RaftClosedError } from '../core/errors.ts';
import { createWatchable } from '../core/observable.ts';
import { createSimulatedCluster, type SimulatedCluster } from '../testing/cluster.ts';
import { awaitRead } from './await-read.ts';
import type { RaftNode } from './node-options.ts';

const timeoutMs = 5_000;

async function leaderOfThree(seed: number): Promise<{ cluster: SimulatedCluster; leader: RaftNode }> {
  const cluster = createSimulatedCluster({ seed, size: 3 });
  await cluster.start();
  const leader = (await cluster.waitForLeader(timeoutMs))?.node;
  if (leader == null) throw new Error('no leader');
  return { cluster, leader };
}

describe('awaitRead', () => {
  it('resolves with the read index once the applied index reaches it', async () => {
    const { cluster, leader } = await leaderOfThree(91);
    const applied = createWatchable(0);
    const read = awaitRead(leader, applied);
    await cluster.runFor(200);
    const readIndex = await cluster.settle(leader.readIndex(), timeoutMs);
    applied.set(readIndex!);
    expect(await cluster.settle(read, timeoutMs)).toBe(readIndex);
    await cluster.close();
  });

  it('rejects with RaftClosedError when the node closes while it waits to apply, instead of hanging', async () => {
    const { cluster, leader } = await leaderOfThree(92);
    const applied = createWatchable(0); // the consumer stopped applying: it never reaches the read index
    const read = awaitRead(leader, applied);
    read.catch(() => {});
    await cluster.runFor(200);
    await cluster.settle(leader.close(), timeoutMs);
    await expect(cluster.settle(read, timeoutMs)).rejects.toBeInstanceOf(RaftClosedError);
    await cluster.close();
  });

  it('resolves as soon as the read index is confirmed when the applied index is already past it', async () => {
    const { cluster, leader } = await leaderOfThree(93);
    const applied = createWatchable(Number.MAX_SAFE_INTEGER);
    const readIndex = await cluster.settle(awaitRead(leader, applied), timeoutMs);
    expect(readIndex).toBeGreaterThanOrEqual(1);
    await cluster.close();
  });
});
