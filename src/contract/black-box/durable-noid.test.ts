import { describe, it, expect } from 'vitest';
import { clientId, ClientSessionTable, type RaftStorage, type NodeId, type LogEntry } from '../../index.ts';
import { harness, enc } from './harness.test-support.ts';

describe('durable identity without explicit request ids, across a restart (SPEC leaves ids to the node)', () => {
  for (const compact of [false, true]) for (const freshClock of [false, true]) {
    it(`restart ${freshClock ? 'on a fresh virtual clock' : 'on the same clock'}${compact ? ' after compaction' : ''}: later commands are not skipped as replays`, async () => {
      const d = clientId('app');
      const h = await harness(['a', 'b', 'c'], { startAll: false });
      for (const id of h.ids) await h.start(id, { identity: id === 'b' ? { type: 'durable', clientId: d } : undefined });
      await h.waitLeader();
      await h.clock.advance(3000);
      const first: LogEntry[] = [];
      for (let i = 0; i < 3; i++) first.push((await h.settle(h.node('b').propose(enc('one' + i))))!.value!);
      await h.clock.advance(100);
      if (compact) for (const id of h.ids) h.node(id).publishSnapshot({ throughIndex: h.node(id).commitIndex.value, state: new ClientSessionTable().toBytes() });
      await h.clock.advance(100);
      const storages = new Map(h.storages) as Map<NodeId, RaftStorage>;
      await h.closeAll();
      let h2 = h;
      if (freshClock) {
        h2 = await harness(['a', 'b', 'c'], { startAll: false });
        for (const [k, v] of storages) h2.storages.set(k, v);
      } else {
        for (const id of [...h.nodes.keys()]) h.nodes.delete(id);
      }
      for (const id of h2.ids) await h2.start(id, { identity: id === 'b' ? { type: 'durable', clientId: d } : undefined });
      await h2.waitLeader();
      const second: LogEntry[] = [];
      for (let i = 0; i < 3; i++) { const r = await h2.settle(h2.node('b').propose(enc('two' + i))); expect(r?.ok).toBe(true); second.push(r!.value!); }
      const maxFirst = Math.max(...first.map((e) => e.dedupKey!.requestId));
      for (const e of second) expect(e.dedupKey!.requestId, `first ids up to ${maxFirst}`).toBeGreaterThan(maxFirst);
      await h2.closeAll();
    });
  }
});
