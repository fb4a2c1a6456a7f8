import { describe, it, expect } from 'vitest';
import { nodeId, clientId, ClientSessionTable, ClientIdCollisionError, type LogEntry } from '../../index.ts';
import { harness, enc, dec } from './harness.test-support.ts';

const cid = (s: string) => clientId(s);
const hex1 = '0123456789abcdef', hex2 = 'fedcba9876543210', hex3 = '1111111111111111';

describe('SPEC Exactly-once: ClientSessionTable', () => {
  it('first time true, replay false, no key true', () => {
    const t = new ClientSessionTable();
    expect(t.shouldApply(undefined)).toBe(true);
    expect(t.shouldApply(undefined)).toBe(true);
    expect(t.shouldApply({ clientId: cid('x'), requestId: 1 })).toBe(true);
    expect(t.shouldApply({ clientId: cid('x'), requestId: 1 })).toBe(false);
    expect(t.shouldApply({ clientId: cid('x'), requestId: 2 })).toBe(true);
    expect(t.shouldApply({ clientId: cid('x'), requestId: 2 })).toBe(false);
    expect(t.shouldApply({ clientId: cid('x'), requestId: 1 })).toBe(false);
    expect(t.shouldApply({ clientId: cid('y'), requestId: 1 })).toBe(true);
  });
  it('a newer auto id of the same node drops the older one (its stragglers are not applied)', () => {
    const t = new ClientSessionTable();
    const old = cid(`n1-${hex1}`), neu = cid(`n1-${hex2}`), other = cid(`n2-${hex3}`);
    expect(t.shouldApply({ clientId: old, requestId: 5 })).toBe(true);
    expect(t.shouldApply({ clientId: other, requestId: 5 })).toBe(true);
    expect(t.shouldApply({ clientId: neu, requestId: 1 })).toBe(true);
    expect(t.shouldApply({ clientId: old, requestId: 6 })).toBe(false);
    // other node's auto id untouched
    expect(t.shouldApply({ clientId: other, requestId: 6 })).toBe(true);
  });
  it('durable ids are never dropped on their own; closeSession forgets a client', () => {
    const t = new ClientSessionTable();
    const d = cid('durable-client');
    expect(t.shouldApply({ clientId: d, requestId: 3 })).toBe(true);
    for (let i = 0; i < 50; i++) t.shouldApply({ clientId: cid(`n${i}-${hex1}`), requestId: 1 });
    expect(t.shouldApply({ clientId: d, requestId: 3 })).toBe(false);
    t.closeSession(d);
    expect(t.shouldApply({ clientId: d, requestId: 3 })).toBe(true);
  });
  it('toBytes/fromBytes round trip keeps the table; malformed bytes rejected clearly', () => {
    const t = new ClientSessionTable();
    t.shouldApply({ clientId: cid('a'), requestId: 10 });
    t.shouldApply({ clientId: cid(`n1-${hex1}`), requestId: 4 });
    const u = ClientSessionTable.fromBytes(t.toBytes());
    expect(u.shouldApply({ clientId: cid('a'), requestId: 10 })).toBe(false);
    expect(u.shouldApply({ clientId: cid(`n1-${hex1}`), requestId: 4 })).toBe(false);
    expect(u.shouldApply({ clientId: cid('a'), requestId: 11 })).toBe(true);
    // supersession survives the round trip
    const v = ClientSessionTable.fromBytes(t.toBytes());
    v.shouldApply({ clientId: cid(`n1-${hex2}`), requestId: 1 });
    expect(v.shouldApply({ clientId: cid(`n1-${hex1}`), requestId: 5 })).toBe(false);
    expect(ClientSessionTable.fromBytes(new ClientSessionTable().toBytes()).shouldApply({ clientId: cid('z'), requestId: 1 })).toBe(true);
    for (const bad of [new Uint8Array([]), new Uint8Array([255, 255, 255, 255, 1, 2, 3]), t.toBytes().slice(0, t.toBytes().length - 1)]) {
      expect(() => ClientSessionTable.fromBytes(bad)).toThrow(Error);
    }
    const extra = new Uint8Array([...t.toBytes(), 0]);
    expect(() => ClientSessionTable.fromBytes(extra)).toThrow(Error);
  });
});

describe('SPEC Exactly-once: engine', () => {
  it('durable identity: replay of a committed requestId after a restart resolves at the original entry and is not applied twice', async () => {
    const h = await harness(['a', 'b', 'c'], { startAll: false });
    const d = cid('app-1');
    for (const id of h.ids) await h.start(id, { identity: id === 'b' ? { type: 'durable', clientId: d } : undefined });
    await h.waitLeader();
    const r1 = await h.settle(h.node('b').propose(enc('once'), { requestId: 7 }));
    expect(r1?.ok).toBe(true);
    const e1 = r1!.value as LogEntry;
    expect(e1.dedupKey).toEqual({ clientId: d, requestId: 7 });
    await h.clock.advance(100);
    await h.stop(nodeId('b'));
    await h.clock.advance(100);
    await h.start(nodeId('b'), { identity: { type: 'durable', clientId: d } });
    const r2 = await h.settle(h.node('b').propose(enc('once'), { requestId: 7 }), 5000);
    expect(r2?.ok).toBe(true);
    const e2 = r2!.value as LogEntry;
    expect(e2.index).toBe(e1.index);
    // the committed log, through a session table, applies it once
    await h.clock.advance(300);
    const leader = h.leader()!;
    const all = await h.storages.get(leader.id)!.entries(1);
    const t = new ClientSessionTable();
    const applied = all.filter((e) => !e.isNoOp && !e.config && t.shouldApply(e.dedupKey)).map((e) => dec(e.command));
    expect(applied.filter((x) => x === 'once').length).toBe(1);
    await h.closeAll();
  });

  it('durable identity: a second writer under the same ClientId makes proposals fail with ClientIdCollisionError', async () => {
    const h = await harness(['a', 'b', 'c'], { startAll: false });
    const d = cid('shared');
    for (const id of h.ids) await h.start(id, { identity: id === 'a' ? undefined : { type: 'durable', clientId: d } });
    await h.waitLeader();
    const errors: unknown[] = [];
    for (let i = 0; i < 6; i++) {
      for (const id of ['b', 'c']) {
        const r = await h.settle(h.node(id).propose(enc(`${id}${i}`)), 3000);
        if (r && !r.ok) errors.push(r.error);
      }
    }
    expect(errors.some((e) => e instanceof ClientIdCollisionError)).toBe(true);
    const ce = errors.find((e) => e instanceof ClientIdCollisionError) as Error;
    expect(ce.name).toBe('ClientIdCollisionError');
    await h.closeAll();
  });

  it('no-op and config entries carry no key', async () => {
    const h = await harness(['a', 'b', 'c', 'd']);
    const leader = await h.waitLeader();
    const r = await h.settle(leader.changeMembership({ voters: h.ids.filter((i) => i !== 'd'), learners: [nodeId('d')] }));
    expect(r?.ok).toBe(true);
    const all = await h.storages.get(leader.id)!.entries(1);
    for (const e of all) if (e.isNoOp || e.config) expect(e.dedupKey).toBeUndefined();
    expect(all.some((e) => e.config)).toBe(true);
    await h.closeAll();
  });
});
