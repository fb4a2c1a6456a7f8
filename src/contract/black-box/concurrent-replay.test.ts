import { describe, it, expect } from 'vitest';
import { nodeId, clientId, ClientSessionTable } from '../../index.ts';
import { harness, enc, dec } from './harness.test-support.ts';

describe('durable: the same request proposed twice at once', () => {
  for (const where of ['leader', 'follower'] as const) {
    it(`on the ${where}: both calls settle, the table applies the command once`, async () => {
      const h = await harness(['a', 'b', 'c'], { startAll: false });
      const d = clientId('dup');
      await h.start(nodeId('a'), { raftConfig: { electionTimeoutMin: 150, electionTimeoutMax: 160 }, identity: where === 'leader' ? { type: 'durable', clientId: d } : undefined });
      await h.start(nodeId('b'), { raftConfig: { electionTimeoutMin: 600, electionTimeoutMax: 700 }, identity: where === 'follower' ? { type: 'durable', clientId: d } : undefined });
      await h.start(nodeId('c'), { raftConfig: { electionTimeoutMin: 600, electionTimeoutMax: 700 } });
      const L = await h.waitLeader();
      expect(L.id).toBe('a');
      const n = h.node(where === 'leader' ? 'a' : 'b');
      const p1 = n.propose(enc('same'), { requestId: 9 });
      const p2 = n.propose(enc('same'), { requestId: 9 });
      const r = await h.settle(Promise.allSettled([p1, p2]), 3000);
      expect(r?.ok).toBe(true);
      const [s1, s2] = r!.value!;
      expect(s1!.status === 'fulfilled' || s2!.status === 'fulfilled').toBe(true);
      if (s1!.status === 'fulfilled' && s2!.status === 'fulfilled') expect(s2.value.index).toBe(s1.value.index);
      await h.clock.advance(100);
      const log = await h.storages.get(nodeId('a'))!.entries(1);
      const t = new ClientSessionTable();
      expect(log.filter((e) => !e.isNoOp && !e.config && t.shouldApply(e.dedupKey)).map((e) => dec(e.command))).toEqual(['same']);
      await h.closeAll();
    });
  }
});
