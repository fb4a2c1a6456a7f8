// API.md "Exactly-once" ClientSessionTable and SPEC "Exactly-once", black-box: what the table keeps
// per client, what it drops on its own (older auto ids of a node) and what it never drops (durable
// ids), and that what it keeps survives toBytes / fromBytes, which refuses malformed bytes clearly.
import { describe, expect, it } from 'vitest';
import { ClientSessionTable, clientId, mintAutoClientId, nodeId, seededRandom } from '../index.ts';

const key = (id: string, requestId: number): { clientId: ReturnType<typeof clientId>; requestId: number } => ({ clientId: clientId(id), requestId });

describe('API.md ClientSessionTable', () => {
  it('a key with no dedup key (no-op, config) always applies; each request id applies once per client', () => {
    const table = new ClientSessionTable();
    expect([table.shouldApply(undefined), table.shouldApply(undefined)]).toEqual([true, true]);
    expect(table.shouldApply(key('durable-1', 1))).toBe(true);
    expect(table.shouldApply(key('durable-2', 1))).toBe(true);
    expect(table.shouldApply(key('durable-1', 2))).toBe(true);
    expect(table.shouldApply(key('durable-1', 2))).toBe(false);
    expect(table.shouldApply(key('durable-1', 1))).toBe(false);
    expect(table.shouldApply(key('durable-2', 1))).toBe(false);
  });

  it('a newer auto id of a node drops the older one (a straggler of it no longer applies); durable ids are never dropped on their own', () => {
    const table = new ClientSessionTable();
    const random = seededRandom(5);
    const older = mintAutoClientId(nodeId('n1'), random);
    const newer = mintAutoClientId(nodeId('n1'), random);
    const other = mintAutoClientId(nodeId('n2'), random);
    expect(table.shouldApply(key('durable', 1))).toBe(true);
    expect(table.shouldApply({ clientId: older, requestId: 1 })).toBe(true);
    expect(table.shouldApply({ clientId: other, requestId: 1 })).toBe(true);
    expect(table.shouldApply({ clientId: newer, requestId: 1 })).toBe(true);
    // The older incarnation of n1 is gone for good: its late requests are not applied.
    expect(table.shouldApply({ clientId: older, requestId: 2 })).toBe(false);
    // Another node's auto id and the durable id are untouched.
    expect(table.shouldApply({ clientId: other, requestId: 1 })).toBe(false);
    for (let node = 0; node < 50; node += 1) table.shouldApply({ clientId: mintAutoClientId(nodeId(`m${node}`), random), requestId: 1 });
    expect(table.shouldApply(key('durable', 1))).toBe(false);
    expect(table.shouldApply(key('durable', 2))).toBe(true);
  });

  it('closeSession forgets a client; toBytes / fromBytes keeps every decision', () => {
    const table = new ClientSessionTable();
    for (let request = 1; request <= 5; request += 1) table.shouldApply(key('c', request));
    table.shouldApply(key('d', 1));
    const copy = ClientSessionTable.fromBytes(table.toBytes());
    for (let request = 1; request <= 5; request += 1) expect(copy.shouldApply(key('c', request)), `c ${request}`).toBe(false);
    expect(copy.shouldApply(key('c', 6))).toBe(true);
    copy.closeSession(clientId('d'));
    expect(copy.shouldApply(key('d', 1))).toBe(true);
    expect(Array.from(ClientSessionTable.fromBytes(new ClientSessionTable().toBytes()).toBytes())).toEqual(Array.from(new ClientSessionTable().toBytes()));
  });

  it('fromBytes refuses malformed bytes (empty, truncated, trailing garbage) with an error naming the table', () => {
    const table = new ClientSessionTable();
    table.shouldApply(key('c', 3));
    const bytes = table.toBytes();
    for (const malformed of [new Uint8Array(), bytes.slice(0, bytes.length - 1), new Uint8Array([...bytes, 0, 0, 7])]) {
      expect(() => ClientSessionTable.fromBytes(malformed), `${malformed.length} bytes`).toThrow(/ClientSessionTable/);
    }
  });
});
