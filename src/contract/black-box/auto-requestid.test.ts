import { describe, it, expect } from 'vitest';
import { nodeId, clientId, ClientSessionTable } from '../../index.ts';
import { harness, enc, dec } from './harness.test-support.ts';

describe('explicit requestIds mixed with node-issued ones', () => {
  for (const identity of ['auto', 'durable'] as const) {
    it(`${identity}: a command proposed without a requestId is never deduplicated against an explicit one`, async () => {
      const h = await harness(['a', 'b', 'c'], { startAll: false });
      for (const id of h.ids) await h.start(id, { identity: id === 'b' && identity === 'durable' ? { type: 'durable', clientId: clientId('app') } : undefined });
      await h.waitLeader();
      const b = h.node('b');
      const outcomes: string[] = [];
      const ex = await h.settle(b.propose(enc('explicit-2'), { requestId: 2 }));
      outcomes.push(ex?.ok ? 'ok' : String(ex?.error));
      for (const c of ['implicit-1', 'implicit-2', 'implicit-3']) {
        const r = await h.settle(b.propose(enc(c)));
        expect(r?.ok, c).toBe(true);
      }
      await h.clock.advance(100);
      const log = await h.storages.get(nodeId('b'))!.entries(1);
      const t = new ClientSessionTable();
      const applied = log.filter((e) => !e.isNoOp && !e.config && t.shouldApply(e.dedupKey)).map((e) => dec(e.command));
      for (const c of ['implicit-1', 'implicit-2', 'implicit-3']) expect(applied, c).toContain(c);
      if (ex?.ok) expect(applied).toContain('explicit-2');
      await h.closeAll();
    });
  }
});
