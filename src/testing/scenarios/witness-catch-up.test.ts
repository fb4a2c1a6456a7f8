// Two voters and a witness, the configuration a witness is for (two tabs and an edge peer): the
// voter that leads commits with the witness while the other is cut off, then goes away for good.
// The other voter lacks entries only the witness holds, and the witness never leads; it hands
// them over when it denies the voter's campaign (core/catch-up.ts), so the voter leads. Before,
// the witness denied it for ever (logNotUpToDate) and the room stalled until the absent voter
// came back, which it may never do.
import { describe, expect, it } from 'vitest';
import type { RaftTraceEvent } from '../../core/events.ts';
import { nodeId } from '../../core/types.ts';
import type { SimulatedCluster } from '../cluster.ts';
import { checkOneLeader, one, startCluster } from './scenario-helpers.ts';

const [a, b, w] = [nodeId('a'), nodeId('b'), nodeId('w')];

/** a leads; b is cut off while a commits `count` entries with w; then a crashes and the network heals. */
async function leaderGoesWhileOtherLags(cluster: SimulatedCluster, count: number): Promise<number> {
  await checkOneLeader(cluster, [a, b]);
  if (cluster.leader()!.id !== a) await cluster.settle(cluster.leader()!.node!.transferLeadership(a), 5_000);
  expect(cluster.leader()!.id).toBe(a);
  await one(cluster, 'before', 3);
  cluster.partition([[b], [a, w]]);
  let last = 0;
  for (let position = 0; position < count; position += 1) last = await one(cluster, `while-b-away-${position}`, 2);
  cluster.crash(a);
  cluster.heal();
  return last;
}

describe('two voters and a witness: the leader goes for good while the other voter lags', () => {
  it('the witness hands the other voter what it lacks, and that voter leads with every acknowledged entry', async () => {
    const cluster = await startCluster({ seed: 4101, ids: ['a', 'b', 'w'], witnesses: ['w'] });
    const handedOver: RaftTraceEvent[] = [];
    cluster.nodes.get(w)!.node!.trace.subscribe((event) => {
      if (event.type === 'catchUpSent') handedOver.push(event);
    });
    const last = await leaderGoesWhileOtherLags(cluster, 20);
    const elected = await cluster.runUntil(() => cluster.leader()?.id === b, 3_000);
    expect(elected, `b applied ${cluster.nodes.get(b)!.appliedIndex}, the witness ${cluster.nodes.get(w)!.appliedIndex}`).toBe(true);
    expect(handedOver.length).toBeGreaterThan(0);
    // Nothing acknowledged is lost (the safety checker also watches every step), and b and the
    // witness commit on their own from now on.
    const after = await one(cluster, 'with-a-gone', 2, { timeoutMs: 5_000 });
    expect(after).toBeGreaterThan(last);
    expect(cluster.nodes.get(b)!.appliedIndex).toBeGreaterThanOrEqual(after);
    cluster.checker.checkAcknowledgedApplied();
    expect(cluster.nodes.get(w)!.node!.role.value).toBe('follower');
    await cluster.close();
  });

  it('entries the witness has compacted cannot be handed over: the room waits for the absent voter, then goes on', async () => {
    // The witness compacts through every entry it applies and keeps none behind (the edge peer's
    // witness keeps 1,000: witnessRaftConfig). This is the trade-off README "Two-peer rooms and
    // the witness" states: the state of those entries lives only on the absent voter.
    const cluster = await startCluster({ seed: 4102, ids: ['a', 'b', 'w'], witnesses: ['w'], snapshotProbability: 1, raftConfig: { snapshotTrailingEntries: 0 } });
    await leaderGoesWhileOtherLags(cluster, 20);
    expect(await cluster.runUntil(() => cluster.leader() !== null, 3_000)).toBe(false);
    await cluster.restart(a);
    const after = await one(cluster, 'a-back', 3, { timeoutMs: 10_000 });
    expect(cluster.nodes.get(b)!.appliedIndex).toBeGreaterThanOrEqual(after);
    cluster.checker.checkAcknowledgedApplied();
    await cluster.close();
  });
});
