// Item 2: the README's Quick start snippets, literally (imports pointed at the entry files).
import { expect, it, vi } from 'vitest';
import { createLoopbackNetwork, createRaftNode, InMemoryRaftStorage, nodeId, seededRandom, VirtualClock } from '../../index.ts';

it('README "The engine alone, three nodes in one Node process"', async () => {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  try {
    const ids = ['a', 'b', 'c'].map(nodeId);
    const network = createLoopbackNetwork(); // an in-process transport, for trying things out and tests
    const nodes = await Promise.all(ids.map((id) =>
      createRaftNode({ id, clusterConfig: { voters: ids }, transport: network.transport(id), storage: new InMemoryRaftStorage() })));

    const entry = await nodes[1]!.propose(new TextEncoder().encode('hello')); // any node: followers forward to the leader
    // eslint-disable-next-line no-console -- the README's snippet, its output checked below
    console.log(`committed at index ${entry.index}, term ${entry.term}; leader ${nodes[0]!.leader.value}`);
    for await (const item of nodes[2]!.committedFrom(1)) { // every node applies the same log
      // eslint-disable-next-line no-console -- likewise
      if (item.type === 'entry') { console.log(new TextDecoder().decode(item.entry.command)); break; }
    }
    await Promise.all(nodes.map((node) => node.close()));
    const lines = log.mock.calls.map((c) => String(c[0]));
    expect(lines[0]).toMatch(/^committed at index \d+, term \d+; leader [abc]$/);
    expect(lines[1]).toBe('hello');
  } finally { log.mockRestore(); }
});

it('README "Testing your app": deterministic and instant on a VirtualClock', async () => {
  const run = async () => {
    const out: string[] = [];
    const started = Date.now();
    const clock = new VirtualClock(); // time moves only when the test moves it
    const network = createLoopbackNetwork();
    const ids = ['a', 'b', 'c'].map(nodeId);
    const nodes = await Promise.all(ids.map((id, position) => createRaftNode({
      id, clusterConfig: { voters: ids }, transport: network.transport(id), storage: new InMemoryRaftStorage(),
      raftConfig: { clock, random: seededRandom(position + 1) }, // seeded: the same run every time
    })));
    let committed = false;
    void nodes[1]!.propose(new TextEncoder().encode('hello')).then(() => (committed = true));
    if (!(await clock.runUntil(() => committed, 5_000))) throw new Error('not committed within 5 s of virtual time');
    out.push(`committed after ${clock.now()} virtual ms; leader ${nodes[0]!.leader.value}`);
    await Promise.all(nodes.map((node) => node.close()));
    await clock.advance(100); // the closes finish; no real timer was ever set
    return { out, realMs: Date.now() - started };
  };
  const first = await run();
  const second = await run();
  expect(first.out[0]).toMatch(/^committed after \d+ virtual ms; leader [abc]$/);
  expect(second.out).toEqual(first.out);
  expect(first.realMs).toBeLessThan(5_000);
});
