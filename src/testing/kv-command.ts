// Commands and results of the example key-value state machine, and their compact binary form.
// Commands travel in every log entry, so they are binary (a version byte, an opcode, varint
// length-prefixed UTF-8), not JSON; decoding is strict, because a log entry is data from the
// network and a malformed one must become a clear error, not a guess.
//
// Command layout (version 1):
//   u8 version (1), u8 opcode, then per opcode:
//   1 put            key, value
//   2 get            key                (a read through the log: linearizable without readIndex)
//   3 append         key, value
//   4 compareAndSet  key, u8 expected present (0|1), [expected], value
//   5 delete         key
// where key and value are varint byte length + UTF-8.

import { ByteReader, ByteWriter, encodeUtf8 } from '../core/client-session-bytes.ts';

export const kvCommandFormatVersion = 1;

/** Longest key, in UTF-8 bytes. */
export const maxKeyBytes = 1024;
/** Longest value, in UTF-8 bytes (also the cap an append may grow a value to). */
export const maxValueBytes = 1024 * 1024;

export type KvCommand =
  | { readonly type: 'put'; readonly key: string; readonly value: string }
  | { readonly type: 'get'; readonly key: string }
  | { readonly type: 'append'; readonly key: string; readonly value: string }
  /** `expected: null` means "only if the key is absent". */
  | { readonly type: 'compareAndSet'; readonly key: string; readonly expected: string | null; readonly value: string }
  | { readonly type: 'delete'; readonly key: string };

export type KvResult =
  /** get: the value, or null for an absent key. */
  | { readonly type: 'read'; readonly value: string | null }
  /** put, append, delete. */
  | { readonly type: 'written' }
  | { readonly type: 'compared'; readonly succeeded: boolean }
  /** The entry was committed but not a valid command (malformed, or over a bound): a no-op. */
  | { readonly type: 'invalid'; readonly reason: string };

const opcodes = { put: 1, get: 2, append: 3, compareAndSet: 4, delete: 5 } as const;

export function encodeKvCommand(command: KvCommand): Uint8Array {
  const writer = new ByteWriter();
  writer.byte(kvCommandFormatVersion);
  writer.byte(opcodes[command.type]);
  writeBounded(writer, command.key, maxKeyBytes, 'key');
  switch (command.type) {
    case 'put':
    case 'append':
      writeBounded(writer, command.value, maxValueBytes, 'value');
      break;
    case 'compareAndSet':
      writer.byte(command.expected === null ? 0 : 1);
      if (command.expected !== null) writeBounded(writer, command.expected, maxValueBytes, 'expected value');
      writeBounded(writer, command.value, maxValueBytes, 'value');
      break;
    case 'get':
    case 'delete':
      break;
  }
  return writer.finish();
}

function writeBounded(writer: ByteWriter, text: string, maximumBytes: number, field: string): void {
  const encoded = encodeUtf8(text, `KvCommand ${field}`);
  if (encoded.length > maximumBytes) {
    throw new RangeError(`KvCommand ${field} is ${encoded.length} UTF-8 bytes, above the maximum ${maximumBytes}`);
  }
  writer.bytes(encoded);
}

/** Throws a RangeError naming the problem for malformed, truncated or newer-version bytes. */
export function decodeKvCommand(bytes: Uint8Array): KvCommand {
  const reader = new ByteReader(bytes, 'KvCommand bytes');
  const version = reader.byte('format version');
  if (version !== kvCommandFormatVersion) {
    reader.fail(`format version ${version} is not supported (this build reads ${kvCommandFormatVersion})`);
  }
  const opcode = reader.byte('opcode');
  const key = reader.text('key', maxKeyBytes);
  const command = readOperands(reader, opcode, key);
  reader.expectEnd();
  return command;
}

function readOperands(reader: ByteReader, opcode: number, key: string): KvCommand {
  switch (opcode) {
    case opcodes.put:
      return { type: 'put', key, value: reader.text('value', maxValueBytes) };
    case opcodes.get:
      return { type: 'get', key };
    case opcodes.append:
      return { type: 'append', key, value: reader.text('value', maxValueBytes) };
    case opcodes.compareAndSet: {
      const present = reader.byte('expected-present flag');
      if (present > 1) reader.fail(`expected-present flag must be 0 or 1, got ${present}`);
      const expected = present === 1 ? reader.text('expected value', maxValueBytes) : null;
      return { type: 'compareAndSet', key, expected, value: reader.text('value', maxValueBytes) };
    }
    case opcodes.delete:
      return { type: 'delete', key };
    default:
      return reader.fail(`unknown opcode ${opcode}`);
  }
}
