// The version stamp in front of a replicated store's commands (store-command-stamp.ts): a store
// above version 0 writes it, a version-0 store writes the serializer's bytes alone, as before
// versions existed, and anything without the magic reads as version 0.
import { describe, expect, it } from 'vitest';
import { jsonSerializer } from './serializer.ts';
import { maxStoreVersion, readCommandStamp, stampCommand } from './store-command-stamp.ts';

const json = jsonSerializer<{ readonly type: string }>();
const body = json.encode({ type: 'add' });

describe('the command stamp', () => {
  it('round-trips a version and the serializer bytes, for small and the largest versions', () => {
    for (const version of [1, 2, 255, 65_536, maxStoreVersion]) {
      const stamped = stampCommand(version, body);
      expect(stamped.length).toBe(body.length + 8);
      const read = readCommandStamp(stamped);
      expect(read.type === 'versioned' ? { version: read.version, body: [...read.body] } : read).toEqual({ version, body: [...body] });
    }
    // Big-endian after the four magic bytes, as the file's comment says.
    expect([...stampCommand(0x01020304, body).subarray(0, 8)]).toEqual([0x00, 0x72, 0x6d, 0x76, 0x01, 0x02, 0x03, 0x04]);
  });

  it('writes version 0 unstamped: the serializer bytes, unchanged', () => {
    expect(stampCommand(0, body)).toBe(body);
  });

  it('reads bytes written before versions existed (no magic) as version 0, whole', () => {
    for (const legacy of [body, new Uint8Array(0), Uint8Array.of(0x00), Uint8Array.of(0x00, 0x72, 0x6d), Uint8Array.of(0x00, 0x72, 0x6d, 0x77, 0, 0, 0, 9)]) {
      const read = readCommandStamp(legacy);
      expect(read).toEqual({ type: 'versioned', version: 0, body: legacy });
    }
  });

  it('reads a stamp from a view into a larger buffer (a Node Buffer, a slice of a frame)', () => {
    const frame = new Uint8Array(100);
    const stamped = stampCommand(7, body);
    frame.set(stamped, 13);
    const read = readCommandStamp(frame.subarray(13, 13 + stamped.length));
    expect(read.type === 'versioned' ? [read.version, json.decode(read.body)] : read).toEqual([7, { type: 'add' }]);
  });

  it('calls a stamp cut short, or one above the largest version a store writes, garbled', () => {
    const stamped = stampCommand(3, body);
    for (const length of [4, 5, 7]) expect(readCommandStamp(stamped.subarray(0, length))).toMatchObject({ type: 'garbled', reason: expect.stringMatching(/ends inside its 8-byte version stamp/) });
    const tooHigh = stampCommand(3, body);
    new DataView(tooHigh.buffer).setUint32(4, 2 ** 31);
    expect(readCommandStamp(tooHigh)).toMatchObject({ type: 'garbled', reason: expect.stringMatching(/stamps version 2147483648, above the largest/) });
  });
});
