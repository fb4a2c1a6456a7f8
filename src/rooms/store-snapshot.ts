// The bytes a replicated store publishes as its Raft snapshot: the exactly-once session table
// travels with the application state (SPEC §8), so an installed snapshot carries both.
//   [version u8 = 1][table length u32 big-endian][table bytes][application state bytes]
import { copyBytes } from '../core/bytes.ts';
import { ClientSessionTable } from '../core/client-session-table.ts';

export const storeSnapshotFormatVersion = 1;
const headerBytes = 5;

export interface StoreSnapshotParts {
  readonly sessions: ClientSessionTable;
  readonly state: Uint8Array;
}

export function encodeStoreSnapshot(sessions: ClientSessionTable, state: Uint8Array): Uint8Array {
  const table = sessions.toBytes();
  const bytes = new Uint8Array(headerBytes + table.length + state.length);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, storeSnapshotFormatVersion);
  view.setUint32(1, table.length);
  bytes.set(table, headerBytes);
  bytes.set(state, headerBytes + table.length);
  return bytes;
}

/** Throws a RangeError naming the problem for bytes this version cannot read. */
export function decodeStoreSnapshot(bytes: Uint8Array): StoreSnapshotParts {
  if (bytes.length < headerBytes) throw new RangeError(`store snapshot of ${bytes.length} bytes is shorter than its ${headerBytes}-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint8(0);
  if (version !== storeSnapshotFormatVersion) throw new RangeError(`store snapshot format version ${version} is not ${storeSnapshotFormatVersion}`);
  const tableLength = view.getUint32(1);
  if (tableLength > bytes.length - headerBytes) throw new RangeError(`store snapshot session table length ${tableLength} exceeds the ${bytes.length - headerBytes} bytes that follow`);
  const sessions = ClientSessionTable.fromBytes(bytes.subarray(headerBytes, headerBytes + tableLength));
  return { sessions, state: copyBytes(bytes.subarray(headerBytes + tableLength)) };
}
