// A replicated store's snapshot bytes (store-snapshot.ts): format 1 (no reducer version), which a
// version-0 store still writes byte for byte, and format 2, which carries the reducer's version.
import { describe, expect, it } from 'vitest';
import { ClientSessionTable } from '../core/client-session-table.ts';
import { clientId } from '../core/types.ts';
import { decodeStoreSnapshot, encodeStoreSnapshot } from './store-snapshot.ts';

function tableWithOneKey(): ClientSessionTable {
  const table = new ClientSessionTable();
  table.shouldApply({ clientId: clientId('client-a'), requestId: 3 });
  return table;
}
const state = new TextEncoder().encode('{"total":6}');

/** Format 1 as every store wrote it before versions existed: [1][table length u32][table][state]. */
function formatOne(table: ClientSessionTable, bytes: Uint8Array): Uint8Array {
  const tableBytes = table.toBytes();
  const out = new Uint8Array(5 + tableBytes.length + bytes.length);
  out[0] = 1;
  new DataView(out.buffer).setUint32(1, tableBytes.length);
  out.set(tableBytes, 5);
  out.set(bytes, 5 + tableBytes.length);
  return out;
}

describe('store snapshot bytes', () => {
  it('at version 0 are format 1, byte for byte as before versions existed', () => {
    const table = tableWithOneKey();
    expect([...encodeStoreSnapshot(table, state)]).toEqual([...formatOne(table, state)]);
    expect([...encodeStoreSnapshot(table, state, 0)]).toEqual([...formatOne(table, state)]);
  });

  it('read format 1 as reducer version 0', () => {
    const parts = decodeStoreSnapshot(formatOne(tableWithOneKey(), state));
    expect(parts.reducerVersion).toBe(0);
    expect([...parts.state]).toEqual([...state]);
    expect(parts.sessions.hasApplied({ clientId: clientId('client-a'), requestId: 3 })).toBe(true);
  });

  it('above version 0 are format 2, carrying the reducer version, and read back', () => {
    const bytes = encodeStoreSnapshot(tableWithOneKey(), state, 0x0102);
    expect([...bytes.subarray(0, 5)]).toEqual([2, 0, 0, 0x01, 0x02]);
    const parts = decodeStoreSnapshot(bytes);
    expect(parts.reducerVersion).toBe(0x0102);
    expect([...parts.state]).toEqual([...state]);
    expect(parts.sessions.hasApplied({ clientId: clientId('client-a'), requestId: 3 })).toBe(true);
  });

  it('refuses an unknown format, a short header, a table past the end and a reducer version no store writes', () => {
    const bytes = encodeStoreSnapshot(tableWithOneKey(), state, 5);
    expect(() => decodeStoreSnapshot(Uint8Array.of(3, 0, 0, 0, 0))).toThrow('store snapshot format version 3 is not 1 or 2');
    expect(() => decodeStoreSnapshot(bytes.subarray(0, 8))).toThrow('store snapshot of 8 bytes is shorter than its 9-byte header');
    expect(() => decodeStoreSnapshot(Uint8Array.of(1, 0, 0))).toThrow('store snapshot of 3 bytes is shorter than its 5-byte header');
    expect(() => decodeStoreSnapshot(new Uint8Array(0))).toThrow(RangeError);
    const pastTheEnd = bytes.slice();
    new DataView(pastTheEnd.buffer).setUint32(5, 10_000);
    expect(() => decodeStoreSnapshot(pastTheEnd)).toThrow(/session table length 10000 exceeds/);
    const tooHigh = bytes.slice();
    new DataView(tooHigh.buffer).setUint32(1, 2 ** 31);
    expect(() => decodeStoreSnapshot(tooHigh)).toThrow(/reducer version 2147483648 is above the largest/);
  });
});
