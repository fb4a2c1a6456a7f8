import { describe, it, expect } from 'vitest';
import { createRaftNode, InMemoryRaftStorage, nodeId, type RaftNode, type RaftTraceEvent } from '../../index.ts';
import { VirtualClock, createSimulatedNetwork, seededRandom } from '../../testing/index.ts';
import { enc, collect } from './harness.test-support.ts';

describe('SPEC Snapshots: traffic bounded in flight so heartbeats are never starved', () => {
  for (const bps of [2_000_000, 500_000]) {
    it(`a voter installing a 1 MiB snapshot over a ${bps} B/s link does not time out`, async () => {
      const clock = new VirtualClock();
      const net = createSimulatedNetwork(clock, seededRandom(4), { minDelayMs: 1, maxDelayMs: 2, dropProbability: 0, duplicateProbability: 0 }, { linkBytesPerSecond: bps });
      const ids = ['a', 'b', 'c'].map(nodeId);
      const traces = new Map<string, RaftTraceEvent[]>();
      const nodes = new Map<string, RaftNode>();
      for (const [k, id] of ids.entries()) {
        const t: RaftTraceEvent[] = [];
        traces.set(id, t);
        const p = createRaftNode({ id, clusterConfig: { voters: ids }, transport: net.transport(id), storage: new InMemoryRaftStorage(), raftConfig: { clock, random: seededRandom(10 + k), electionTimeoutMin: k === 0 ? 150 : 300, electionTimeoutMax: k === 0 ? 160 : 400 } });
        let n: RaftNode | undefined; void p.then((x) => (n = x));
        await clock.runUntil(() => n !== undefined, 100);
        n!.trace.subscribe((e) => t.push(e));
        nodes.set(id, n!);
      }
      await clock.runUntil(() => nodes.get('a')!.role.value === 'leader', 2000);
      const a = nodes.get('a')!, c = nodes.get('c')!;
      net.isolate(nodeId('c'));
      let done = 0;
      for (let i = 0; i < 5; i++) void a.propose(enc('x' + i)).then(() => done++);
      await clock.runUntil(() => done === 5, 2000);
      const big = new Uint8Array(1 << 20).map((_, k) => k & 255);
      a.publishSnapshot({ throughIndex: a.commitIndex.value, state: big });
      nodes.get('b')!.publishSnapshot({ throughIndex: a.commitIndex.value, state: big });
      await clock.advance(50);
      const cc = collect(c.committed());
      const mark = traces.get('c')!.length;
      net.heal();
      const ok = await clock.runUntil(() => cc.items.some((x) => x.type === 'install'), 60_000);
      expect(ok).toBe(true);
      const after = traces.get('c')!.slice(mark);
      expect(after.filter((e) => e.type === 'preVoteStarted' || e.type === 'timeout').length).toBe(0);
      expect(a.role.value).toBe('leader');
      cc.stop();
      const closing = [...nodes.values()].map((n) => n.close());
      await clock.advance(100);
      await Promise.all(closing);
    });
  }
});
