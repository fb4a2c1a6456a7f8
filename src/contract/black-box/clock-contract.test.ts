// Item 3: API.md "Time and randomness": any object with the Clock shape drives the engine (not only VirtualClock).
import { expect, it } from 'vitest';
import {
  awaitRead, createLoopbackNetwork, createRaftNode, InMemoryRaftStorage, nodeId, RaftClosedError, seededRandom, VirtualClock,
  type Clock, type NodeId, type RaftNode,
} from '../../index.ts';
import { watchable } from './user-transport.test-support.ts';

/** A user's own manual clock: handles are opaque objects, time moves only in step(). */
class MyClock implements Clock {
  t = 1_000_000; // does not start at 0
  private q: { at: number; seq: number; fn: () => void; live: boolean }[] = [];
  private seq = 0;
  now() { return this.t; }
  setTimeout(fn: () => void, ms: number): unknown {
    const h = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, live: true };
    this.q.push(h);
    return h;
  }
  clearTimeout(handle: unknown) { if (handle) (handle as { live: boolean }).live = false; }
  async step(ms: number) {
    const end = this.t + ms;
    for (;;) {
      for (let i = 0; i < 5; i++) await Promise.resolve();
      await new Promise<void>((r) => setImmediate(r));
      const live = this.q.filter((x) => x.live).sort((a, b) => a.at - b.at || a.seq - b.seq);
      this.q = live;
      const next = live[0];
      if (!next || next.at > end) break;
      this.q.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
}

it('a user-written Clock with object handles runs an election and a commit', async () => {
  const clock = new MyClock();
  const net = createLoopbackNetwork();
  const ids = ['a', 'b', 'c'].map(nodeId);
  const nodes = await Promise.all(ids.map((id, i) => createRaftNode({
    id, clusterConfig: { voters: ids }, transport: net.transport(id), storage: new InMemoryRaftStorage(),
    raftConfig: { clock, random: seededRandom(i + 11) },
  })));
  for (let i = 0; i < 100 && !nodes.some((n) => n.role.value === 'leader'); i++) await clock.step(10);
  const l = nodes.find((n) => n.role.value === 'leader');
  expect(l).toBeDefined();
  let done = false;
  void nodes[0]!.propose(new Uint8Array([1])).then(() => (done = true));
  for (let i = 0; i < 100 && !done; i++) await clock.step(10);
  expect(done).toBe(true);
  let closed = false;
  void Promise.all(nodes.map((n) => n.close())).then(() => (closed = true));
  for (let i = 0; i < 100 && !closed; i++) await clock.step(10);
  expect(closed).toBe(true);
});

it('VirtualClock.runUntil answers false at its timeout (README), and advance moves now()', async () => {
  const clock = new VirtualClock();
  const t0 = clock.now();
  expect(await clock.runUntil(() => false, 1_000)).toBe(false);
  expect(clock.now() - t0).toBeGreaterThanOrEqual(1_000);
  let fired = 0;
  clock.setTimeout(() => fired++, 50);
  const h = clock.setTimeout(() => fired += 10, 60);
  clock.clearTimeout(h);
  await clock.advance(100);
  expect(fired).toBe(1);
});

it('awaitRead rejects with RaftClosedError when the node closes, and with the reason while no leader is known', async () => {
  const clock = new VirtualClock();
  const net = createLoopbackNetwork();
  const ids: NodeId[] = ['a', 'b', 'c'].map(nodeId);
  const n: RaftNode = await createRaftNode({
    id: ids[0]!, clusterConfig: { voters: ids }, transport: net.transport(ids[0]!), storage: new InMemoryRaftStorage(),
    raftConfig: { clock, random: seededRandom(1) },
  });
  const applied = watchable(0);
  const ac = new AbortController();
  const p1 = awaitRead(n, applied.w, { signal: ac.signal }).then(() => null, (e: unknown) => e);
  await clock.advance(100);
  const reason = new Error('user gave up');
  ac.abort(reason);
  await clock.advance(1);
  expect(await p1).toBe(reason);
  const p2 = awaitRead(n, applied.w).then(() => null, (e: unknown) => e);
  await clock.advance(100);
  void n.close();
  await clock.advance(100);
  expect(await p2).toBeInstanceOf(RaftClosedError);
});
