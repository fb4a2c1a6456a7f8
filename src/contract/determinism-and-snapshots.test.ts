// API.md "Time and randomness" (a whole cluster on a virtual clock, deterministic from one seed)
// and SPEC "Snapshots and compaction" (what raft stores with a published snapshot), black-box.
import { describe, expect, it } from 'vitest';
import { nodeId } from '../index.ts';
import { startContractCluster } from './contract-cluster.test-support.ts';

async function scenario(seed: number): Promise<string> {
  const cluster = await startContractCluster({ seed, names: ['a', 'b', 'c', 'd', 'e'] });
  const leader = await cluster.waitForLeader();
  for (let value = 0; value < 5; value += 1) await cluster.settle(leader.propose(new Uint8Array([value])));
  cluster.network.isolate(leader.id);
  await cluster.clock.advance(1_500);
  cluster.network.heal();
  await cluster.clock.advance(1_500);
  const summary = JSON.stringify({ trace: cluster.trace, metrics: cluster.metrics, roles: [...cluster.nodes.values()].map((node) => [node.role.value, node.term.value, node.commitIndex.value]) });
  await cluster.close();
  return summary;
}

describe('API.md Time and randomness', () => {
  it('a cluster on one VirtualClock with seeded random sources runs the same way twice', async () => {
    const first = await scenario(21);
    expect(await scenario(21)).toBe(first);
    expect(await scenario(22)).not.toBe(first);
  });
});

describe('SPEC Snapshots and compaction', () => {
  it('stores a published snapshot with its index, term and the configuration in force there, and discards the log through it', async () => {
    const cluster = await startContractCluster({ seed: 2, names: ['a', 'b', 'c', 'l'], voters: ['a', 'b', 'c'], learners: ['l'] });
    const leader = await cluster.waitForLeader();
    const entry = await cluster.settle(leader.propose(new Uint8Array([1])));
    leader.publishSnapshot({ throughIndex: entry.index, state: new Uint8Array([42]) });
    expect(leader.compactionFloor.value).toBe(entry.index);
    await cluster.clock.advance(50);
    const stored = await cluster.storage(leader.id).loadSnapshot();
    expect(stored).toEqual({
      meta: { lastIncludedIndex: entry.index, lastIncludedTerm: entry.term, config: { old: null, new: { voters: ['a', 'b', 'c'].map((name) => nodeId(name)), learners: [nodeId('l')] } } },
      state: new Uint8Array([42]),
    });
    expect((await cluster.storage(leader.id).entries()).every((logged) => logged.index > entry.index)).toBe(true);
    await cluster.close();
  });
});
