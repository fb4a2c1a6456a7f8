import 'fake-indexeddb/auto';
import { describe, it, expect } from 'vitest';
import { createRaftNode, IndexedDbRaftStorage, nodeId, type RaftNode, type Committed } from '../../index.ts';
import { VirtualClock, createSimulatedNetwork, seededRandom } from '../../testing/index.ts';
import { enc, dec, collect } from './harness.test-support.ts';

describe('whole-cluster restart from IndexedDB storage', () => {
  it('every committed command is replayed after a restart of every node, then new commands commit', async () => {
    const ids = ['a', 'b', 'c'].map(nodeId);
    const names = new Map(ids.map((id) => [id, `fr-${id}-${Math.random()}`]));
    async function boot(clock: VirtualClock, seed: number) {
      const net = createSimulatedNetwork(clock, seededRandom(seed), { minDelayMs: 1, maxDelayMs: 3, dropProbability: 0, duplicateProbability: 0 });
      const nodes: RaftNode[] = [];
      const stores: IndexedDbRaftStorage[] = [];
      for (const [k, id] of ids.entries()) {
        const storage = await IndexedDbRaftStorage.open(names.get(id)!);
        stores.push(storage);
        nodes.push(await createRaftNode({ id, clusterConfig: { voters: ids }, transport: net.transport(id), storage, raftConfig: { clock, random: seededRandom(seed * 10 + k) } }));
      }
      return { nodes, stores };
    }
    // IndexedDB completes on real macrotasks: advance the virtual clock in small steps with real waits
    async function run(clock: VirtualClock, pred: () => boolean, ms: number) {
      for (let t = 0; t < ms && !pred(); t += 5) { await clock.advance(5); await new Promise((r) => setTimeout(r, 0)); }
      return pred();
    }
    const clock = new VirtualClock();
    let { nodes, stores } = await boot(clock, 1);
    expect(await run(clock, () => nodes.some((n) => n.role.value === 'leader'), 5000)).toBe(true);
    let done = 0;
    for (let i = 0; i < 5; i++) void nodes[i % 3]!.propose(enc('before-' + i)).then(() => done++);
    expect(await run(clock, () => done === 5, 10000)).toBe(true);
    await run(clock, () => false, 200);
    nodes[1]!.publishSnapshot({ throughIndex: 3, state: enc('snap3') });
    await run(clock, () => false, 100);
    for (const n of nodes) { const p = n.close(); await run(clock, () => false, 20); await p; }
    for (const s of stores) s.close();

    const clock2 = new VirtualClock(100_000);
    ({ nodes, stores } = await boot(clock2, 2));
    const replays = nodes.map((n) => collect(n.committedFrom(1)));
    expect(await run(clock2, () => nodes.some((n) => n.role.value === 'leader'), 5000)).toBe(true);
    done = 0;
    void nodes[2]!.propose(enc('after')).then(() => done++);
    expect(await run(clock2, () => done === 1, 10000)).toBe(true);
    await run(clock2, () => false, 200);
    let first: string[] = [];
    for (const [k, r] of replays.entries()) {
      const cmds: string[] = [];
      for (const x of r.items as Committed[]) {
        if (x.type === 'install') cmds.push(`install:${dec(x.snapshot.state)}`);
        if (x.type === 'entry') cmds.push(dec(x.entry.command));
      }
      const expected = ['before-0', 'before-1', 'before-2', 'before-3', 'before-4', 'after'];
      const plain = cmds.filter((c) => !c.startsWith('install:'));
      if (cmds[0]?.startsWith('install:')) expect(k).toBe(1);
      // no duplicate, order preserved, and everything after any install present
      expect(new Set(plain).size, `node ${ids[k]} ${cmds}`).toBe(plain.length);
      expect(plain.at(-1)).toBe('after');
      if (!cmds[0]?.startsWith('install:')) expect([...plain].sort()).toEqual([...expected].sort());
      if (k === 0) first = plain; else if (!cmds[0]?.startsWith('install:')) expect(plain).toEqual(first);
      r.stop();
    }
    for (const n of nodes) { const p = n.close(); await run(clock2, () => false, 20); await p; }
    for (const s of stores) s.close();
  });
});
