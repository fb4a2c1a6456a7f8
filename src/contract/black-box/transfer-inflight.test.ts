import { describe, it, expect } from 'vitest';
import { harness, enc } from './harness.test-support.ts';

describe('calls made during a successful transfer settle', () => {
  for (let seed = 1; seed <= 5; seed++) {
    it(`seed ${seed}: follower proposals and reads during a transfer resolve, each committed once`, async () => {
      const h = await harness(['a', 'b', 'c', 'd', 'e'], { seed });
      const L = await h.waitLeader();
      await h.clock.advance(100);
      const others = h.ids.filter((i) => i !== L.id);
      const target = others[0]!;
      const tp = L.transferLeadership(target);
      const ps = others.map((id, k) => h.node(id).propose(enc(`during-${k}`)));
      const rs = others.map((id) => h.node(id).readIndex());
      const lp = L.propose(enc('leader-during'));
      const all = await h.settle(Promise.allSettled([tp, ...ps, ...rs, lp]), 5000);
      expect(all).toBeDefined();
      const res = all!.value!;
      expect(res.map((r) => r.status)).toEqual(res.map(() => 'fulfilled'));
      await h.clock.advance(200);
      const log = await h.storages.get(target)!.entries(1);
      for (let k = 0; k < others.length; k++) expect(log.filter((e) => new TextDecoder().decode(e.command) === `during-${k}`).length).toBe(1);
      await h.closeAll();
    });
  }
});
