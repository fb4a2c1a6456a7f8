// The bytes a replicated store publishes as its Raft snapshot: the exactly-once session table
// travels with the application state (SPEC §8), so an installed snapshot carries both; format 2
// also carries the version of the reducer that wrote the state (ReplicatedStoreOptions.version),
// so that a peer with an older reducer stops instead of restoring a state it cannot read.
//   format 1: [1 u8][table length u32 big-endian][table bytes][application state bytes]
//   format 2: [2 u8][reducer version u32 big-endian][table length u32 big-endian][table bytes][application state bytes]
// A store at version 0 writes format 1, byte for byte as before versions existed; one above 0
// writes format 2. Both are read, format 1 as reducer version 0.
import { copyBytes } from '../core/bytes.ts';
import { ClientSessionTable } from '../core/client-session-table.ts';
import { maxStoreVersion } from './store-command-stamp.ts';

/** The format a store above version 0 writes (a version-0 store writes format 1). */
export const storeSnapshotFormatVersion = 2;
const unversionedFormat = 1;
const headerBytes = { [unversionedFormat]: 5, [storeSnapshotFormatVersion]: 9 } as const;

export interface StoreSnapshotParts {
  /** The version of the reducer whose state this is (0 for format 1). */
  readonly reducerVersion: number;
  readonly sessions: ClientSessionTable;
  readonly state: Uint8Array;
}

export function encodeStoreSnapshot(sessions: ClientSessionTable, state: Uint8Array, reducerVersion = 0): Uint8Array {
  const table = sessions.toBytes();
  const format = reducerVersion === 0 ? unversionedFormat : storeSnapshotFormatVersion;
  const header = headerBytes[format];
  const bytes = new Uint8Array(header + table.length + state.length);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, format);
  if (format === storeSnapshotFormatVersion) view.setUint32(1, reducerVersion);
  view.setUint32(header - 4, table.length);
  bytes.set(table, header);
  bytes.set(state, header + table.length);
  return bytes;
}

/** Throws a RangeError naming the problem for bytes this version cannot read. */
export function decodeStoreSnapshot(bytes: Uint8Array): StoreSnapshotParts {
  if (bytes.length < 1) throw new RangeError('store snapshot of 0 bytes has no format byte');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const format = view.getUint8(0);
  if (format !== unversionedFormat && format !== storeSnapshotFormatVersion) throw new RangeError(`store snapshot format version ${format} is not ${unversionedFormat} or ${storeSnapshotFormatVersion}`);
  const header = headerBytes[format];
  if (bytes.length < header) throw new RangeError(`store snapshot of ${bytes.length} bytes is shorter than its ${header}-byte header`);
  const reducerVersion = format === storeSnapshotFormatVersion ? view.getUint32(1) : 0;
  if (reducerVersion > maxStoreVersion) throw new RangeError(`store snapshot reducer version ${reducerVersion} is above the largest a store writes (${maxStoreVersion})`);
  const tableLength = view.getUint32(header - 4);
  if (tableLength > bytes.length - header) throw new RangeError(`store snapshot session table length ${tableLength} exceeds the ${bytes.length - header} bytes that follow`);
  const sessions = ClientSessionTable.fromBytes(bytes.subarray(header, header + tableLength));
  return { reducerVersion, sessions, state: copyBytes(bytes.subarray(header + tableLength)) };
}
