// Item 2: claims of the README sections the Quick start points to (Exactly-once, Using membership changes,
// Engine in a Web Worker, raftmesh/testing), followed as a newcomer would.
import { describe, expect, it } from 'vitest';
import { harness, enc } from './user-transport.test-support.ts';
import {
  ClientSessionTable, clientId, createLoopbackNetwork, createRaftNode, createWorkerRaftNode, InMemoryRaftStorage, nodeId,
  seededRandom, VirtualClock, type LogEntry, type NodeId,
} from '../../index.ts';
import { createSimulatedNetwork } from '../../testing/index.ts';

const [A, B, C, D] = ['a', 'b', 'c', 'd'].map(nodeId) as [NodeId, NodeId, NodeId, NodeId];

describe('README "Exactly-once"', () => {
  it("identity { type: 'auto' } mints <nodeId>-<16 hex> with increasing request ids", async () => {
    const h = harness(['a', 'b', 'c']);
    for (const id of [A, B, C]) await h.start(id);
    await h.until(() => !!h.leader());
    const f = h.nodes.get(B)!;
    const es: LogEntry[] = [];
    for (let i = 0; i < 3; i++) es.push(await h.run(f.propose(enc(`x${i}`))));
    expect(es[0]!.dedupKey!.clientId).toMatch(/^b-[0-9a-f]{16}$/);
    expect(new Set(es.map((e) => e.dedupKey!.clientId)).size).toBe(1);
    const ids = es.map((e) => e.dedupKey!.requestId);
    expect(ids[1]!).toBeGreaterThan(ids[0]!); expect(ids[2]!).toBeGreaterThan(ids[1]!);
    await h.closeAll();
  });

  it("identity { type: 'none' } sends no keys", async () => {
    const h = harness(['a']);
    const n = await h.start(A, { identity: { type: 'none' } });
    await h.until(() => n.role.value === 'leader');
    const e = await h.run(n.propose(enc('x')));
    expect(e.dedupKey).toBeUndefined();
    await h.closeAll();
  });

  it('durable identity plus requestId: the replay after a crash is skipped by ClientSessionTable', async () => {
    const h = harness(['a']);
    const cid = clientId('writer-1');
    const n = await h.start(A, { identity: { type: 'durable', clientId: cid } });
    await h.until(() => n.role.value === 'leader');
    const e1 = await h.run(n.propose(enc('pay 5'), { requestId: 7 }));
    const e2 = await h.run(n.propose(enc('pay 5'), { requestId: 7 })); // the replay
    expect(e1.dedupKey).toEqual({ clientId: cid, requestId: 7 });
    const table = new ClientSessionTable();
    const applied = [e1, e2].filter((e) => table.shouldApply(e.dedupKey));
    expect(applied.length).toBe(1);
    const copy = ClientSessionTable.fromBytes(table.toBytes());
    expect(copy.shouldApply({ clientId: cid, requestId: 7 })).toBe(false);
    expect(copy.shouldApply({ clientId: cid, requestId: 8 })).toBe(true);
    expect(() => ClientSessionTable.fromBytes(new Uint8Array([1, 2, 3, 4, 5]))).toThrow();
    await h.closeAll();
  });

  it('a durable id with the shape of an auto id is refused with a RangeError', async () => {
    const id = nodeId('a');
    const err = await createRaftNode({
      id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage: new InMemoryRaftStorage(),
      identity: { type: 'durable', clientId: clientId('a-0123456789abcdef') },
    }).then(async (n) => { await n.close(); return null; }, (e: unknown) => e);
    expect(err).toBeInstanceOf(RangeError);
  });
});

describe('README "Using membership changes": learner first, then promote', () => {
  it('d joins as a learner, catches up, is promoted to voter', async () => {
    const h = harness(['a', 'b', 'c']);
    for (const id of [A, B, C]) await h.start(id);
    await h.until(() => !!h.leader());
    const l = h.leader()!;
    for (let i = 0; i < 3; i++) await h.run(l.propose(enc(`x${i}`)));
    const d = await h.start(D, { clusterConfig: { voters: [A, B, C] } });
    const voters = [A, B, C];
    await h.run(l.changeMembership({ voters, learners: [D] }));
    await h.until(() => d.commitIndex.value === l.commitIndex.value);
    expect(d.role.value).toBe('learner');
    const final = await h.run(l.changeMembership({ voters: [...voters, D] }));
    expect([...final.voters].sort()).toEqual([A, B, C, D]);
    await h.until(() => d.role.value === 'follower');
    expect(d.membership.value.voters).toContain(D);
    await h.closeAll();
  });
});

describe('README "Engine in a Web Worker"', () => {
  it('in Node (no Worker) createWorkerRaftNode refuses with a clear error instead of hanging', async () => {
    const id = nodeId('w');
    const err = await createWorkerRaftNode({
      id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id),
      storage: { type: 'indexeddb', name: 'board-node-1', durability: 'strict' },
    }).then(() => null, (e: unknown) => e);
    expect(String(err)).toMatch(/Worker/);
  });
});

describe('README: raftmesh/testing createSimulatedNetwork(clock, seededRandom(seed))', () => {
  it('three nodes on the simulated network commit; a partition of the leader elects another', async () => {
    const clock = new VirtualClock();
    const network = createSimulatedNetwork(clock, seededRandom(9));
    const ids = [A, B, C];
    const nodes = await Promise.all(ids.map((id, i) => createRaftNode({
      id, clusterConfig: { voters: ids }, transport: network.transport(id), storage: new InMemoryRaftStorage(),
      raftConfig: { clock, random: seededRandom(i + 1) },
    })));
    let done = false;
    void nodes[0]!.propose(enc('x')).then(() => (done = true));
    expect(await clock.runUntil(() => done, 10_000)).toBe(true);
    const l = nodes.find((n) => n.role.value === 'leader')!;
    network.isolate(l.id);
    expect(await clock.runUntil(() => nodes.some((n) => n !== l && n.role.value === 'leader'), 10_000)).toBe(true);
    const closing = Promise.all(nodes.map((n) => n.close()));
    let closed = false; void closing.then(() => (closed = true));
    await clock.runUntil(() => closed, 1_000);
  });
});
