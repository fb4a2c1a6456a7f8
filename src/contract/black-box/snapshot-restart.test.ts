import { describe, it, expect } from 'vitest';
import { createRaftNode, InMemoryRaftStorage, nodeId, type RaftNode, type Committed } from '../../index.ts';
import { VirtualClock, createSimulatedNetwork, seededRandom } from '../../testing/index.ts';
import { enc, collect } from './harness.test-support.ts';

describe('SPEC: a leader change restarts snapshot reassembly (no mixing of two leaders\' chunks)', () => {
  for (const cutAt of [60, 150, 300]) {
    it(`leadership moves ${cutAt} ms into a stream; the follower installs one whole snapshot`, async () => {
      const clock = new VirtualClock();
      const net = createSimulatedNetwork(clock, seededRandom(3), { minDelayMs: 1, maxDelayMs: 2, dropProbability: 0, duplicateProbability: 0 }, { linkBytesPerSecond: 400_000 });
      const ids = ['a', 'b', 'c'].map(nodeId);
      const nodes = new Map<string, RaftNode>();
      for (const [k, id] of ids.entries()) {
        const p = createRaftNode({ id, clusterConfig: { voters: ids }, transport: net.transport(id), storage: new InMemoryRaftStorage(), raftConfig: { clock, random: seededRandom(40 + k), electionTimeoutMin: k === 0 ? 150 : 600, electionTimeoutMax: k === 0 ? 160 : 700, snapshotChunkCeiling: 8192 } });
        let n: RaftNode | undefined; void p.then((x) => (n = x));
        await clock.runUntil(() => n !== undefined, 100);
        nodes.set(id, n!);
      }
      const a = nodes.get('a')!, b = nodes.get('b')!, c = nodes.get('c')!;
      await clock.runUntil(() => a.role.value === 'leader', 2000);
      net.isolate(nodeId('c'));
      let done = 0;
      for (let i = 0; i < 6; i++) void a.propose(enc('x' + i)).then(() => done++);
      await clock.runUntil(() => done === 6, 2000);
      await clock.advance(50);
      const sa = new Uint8Array(120_000).fill(0xaa);
      const sb = new Uint8Array(150_000).fill(0xbb);
      a.publishSnapshot({ throughIndex: 4, state: sa });
      b.publishSnapshot({ throughIndex: 6, state: sb });
      await clock.advance(20);
      const cc = collect(c.committed());
      net.heal();
      await clock.advance(cutAt);
      let moved = false;
      void a.transferLeadership(nodeId('b')).then(() => (moved = true), () => {});
      await clock.runUntil(() => moved, 3000);
      await clock.runUntil(() => cc.items.some((x) => x.type === 'install') && c.commitIndex.value >= b.commitIndex.value, 10000);
      await clock.advance(500);
      const installs = cc.items.filter((x): x is Extract<Committed, { type: 'install' }> => x.type === 'install');
      expect(installs.length).toBeGreaterThan(0);
      for (const i of installs) {
        const st = i.snapshot.state;
        const ok = (i.snapshot.throughIndex === 4 && st.length === sa.length && st.every((v) => v === 0xaa)) || (i.snapshot.throughIndex === 6 && st.length === sb.length && st.every((v) => v === 0xbb));
        expect(ok, `install through ${i.snapshot.throughIndex}, ${st.length} bytes`).toBe(true);
      }
      cc.stop();
      const closing = [...nodes.values()].map((n) => n.close());
      await clock.advance(100);
      await Promise.all(closing);
    });
  }
});
