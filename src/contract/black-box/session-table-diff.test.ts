import { describe, it, expect } from 'vitest';
import { ClientSessionTable, clientId, seededRandom, type DedupKey } from '../../index.ts';

type Op = { t: 'apply'; key: DedupKey } | { t: 'close'; id: string };
const hex = (r: () => number) => Array.from({ length: 16 }, () => '0123456789abcdef'[Math.floor(r() * 16)]).join('');

function workload(seed: number, n: number, closeAutoIds = true, newIdRate = 0.05): Op[] {
  const r = seededRandom(seed);
  const nodes = ['n1', 'n2', 'n3'];
  const live = new Map<string, { id: string; next: number }>();
  const all: { id: string; next: number }[] = [];
  for (const nd of nodes) { const s = { id: `${nd}-${hex(r)}`, next: 1 }; live.set(nd, s); all.push(s); }
  const durables = [{ id: 'd1', next: 1 }, { id: 'd2', next: 1 }];
  all.push(...durables);
  const ops: Op[] = [];
  for (let i = 0; i < n; i++) {
    const x = r();
    if (x < newIdRate) { const nd = nodes[Math.floor(r() * 3)]!; const s = { id: `${nd}-${hex(r)}`, next: 1 }; live.set(nd, s); all.push(s); }
    else if (x < newIdRate + 0.02) { const pool = closeAutoIds ? all : durables; ops.push({ t: 'close', id: pool[Math.floor(r() * pool.length)]!.id }); }
    else {
      const s = r() < 0.8 ? [...live.values(), ...durables][Math.floor(r() * 5)]! : all[Math.floor(r() * all.length)]!;
      const y = r();
      let req: number;
      if (y < 0.6) req = s.next++;
      else if (y < 0.8) req = Math.max(1, s.next - 1 - Math.floor(r() * 5)); // replay/straggler
      else if (y < 0.9) { s.next += 1 + Math.floor(r() * 3); req = s.next - 2; } // out of order
      else req = Math.max(1, s.next - Math.floor(r() * 2000)); // far below
      ops.push({ t: 'apply', key: { clientId: clientId(s.id), requestId: req } });
    }
  }
  return ops;
}

describe('ClientSessionTable: a replica that installed the table from bytes decides like one that did not', () => {
  for (let seed = 1; seed <= 40; seed++) {
    it(`seed ${seed}`, () => {
      const ops = workload(seed, 3000);
      const a = new ClientSessionTable();
      let b = new ClientSessionTable();
      const r = seededRandom(seed + 1000);
      for (let i = 0; i < ops.length; i++) {
        const op = ops[i]!;
        if (r() < 0.02) b = ClientSessionTable.fromBytes(b.toBytes());
        if (op.t === 'close') { a.closeSession(clientId(op.id)); b.closeSession(clientId(op.id)); continue; }
        const x = a.shouldApply(op.key), y = b.shouldApply(op.key);
        expect(y, `op ${i} ${JSON.stringify(op.key)}`).toBe(x);
      }
      expect([...b.toBytes()]).toEqual([...a.toBytes()]);
    });
  }
  for (const closeAutoIds of [false, true]) it(`a key applied once is never applied again unless its own client was closed (closeSession on auto ids: ${closeAutoIds})`, () => {
    for (let seed = 1; seed <= 20; seed++) {
      // few incarnations per node (well under the documented memory of 16 retired ids per node)
      const ops = workload(seed, 3000, closeAutoIds, 0.004);
      const t = new ClientSessionTable();
      const seen = new Set<string>();
      for (const op of ops) {
        if (op.t === 'close') { for (const k of [...seen]) if (k.startsWith(op.id + '#')) seen.delete(k); t.closeSession(clientId(op.id)); continue; }
        const k = `${op.key.clientId}#${op.key.requestId}`;
        if (t.shouldApply(op.key)) {
          expect(seen.has(k), k).toBe(false); seen.add(k);
        }
      }
    }
  });
});

describe('ClientSessionTable: a key never applied, close below the high-water mark, still applies', () => {
  it('random out-of-order ids within 100 of the mark apply exactly once', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const r = seededRandom(seed);
      const t = new ClientSessionTable();
      const ids = [clientId('d1'), clientId(`n1-${hex(r)}`)];
      const applied = new Map<string, Set<number>>();
      const hwm = new Map<string, number>();
      for (let i = 0; i < 2000; i++) {
        const c = ids[Math.floor(r() * ids.length)]!;
        const h = hwm.get(c) ?? 0;
        const req = Math.max(1, h + Math.floor(r() * 150) - 100);
        const set = applied.get(c) ?? new Set<number>();
        applied.set(c, set);
        const expected = !set.has(req);
        const got = t.shouldApply({ clientId: c, requestId: req });
        expect(got, `seed ${seed} op ${i} ${c}#${req} hwm ${h}`).toBe(expected);
        if (got) { set.add(req); hwm.set(c, Math.max(h, req)); }
      }
    }
  });
});
