import { describe, it, expect } from 'vitest';
import { createLoopbackNetwork, createRaftNode, InMemoryRaftStorage, nodeId, seededRandom, VirtualClock } from '../../index.ts';

describe('README examples run as written', () => {
  it('three nodes on real timers', async () => {
    const ids = ['a', 'b', 'c'].map(nodeId);
    const network = createLoopbackNetwork();
    const nodes = await Promise.all(ids.map((id) =>
      createRaftNode({ id, clusterConfig: { voters: ids }, transport: network.transport(id), storage: new InMemoryRaftStorage() })));
    const entry = await nodes[1]!.propose(new TextEncoder().encode('hello'));
    expect(entry.index).toBeGreaterThan(0);
    let seen = '';
    for await (const item of nodes[2]!.committedFrom(1)) {
      if (item.type === 'entry') { seen = new TextDecoder().decode(item.entry.command); break; }
    }
    expect(seen).toBe('hello');
    await Promise.all(nodes.map((node) => node.close()));
  });

  it('three nodes on a virtual clock', async () => {
    const clock = new VirtualClock();
    const network = createLoopbackNetwork();
    const ids = ['a', 'b', 'c'].map(nodeId);
    const nodes = await Promise.all(ids.map((id, position) => createRaftNode({
      id, clusterConfig: { voters: ids }, transport: network.transport(id), storage: new InMemoryRaftStorage(),
      raftConfig: { clock, random: seededRandom(position + 1) },
    })));
    let committed = false;
    void nodes[1]!.propose(new TextEncoder().encode('hello')).then(() => (committed = true));
    expect(await clock.runUntil(() => committed, 5_000)).toBe(true);
    // exactly the README's order: await the closes, then advance
    await Promise.all(nodes.map((node) => node.close()));
    await clock.advance(100);
  });
});
