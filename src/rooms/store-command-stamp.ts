// The version stamp a replicated store puts in front of each command it writes, so that a peer
// running an older reducer can tell a command it cannot fold from one it can, and stop, instead
// of folding the log differently from the newer peers (README "Rooms", "The store").
//
//   [magic 0x00 0x72 0x6d 0x76 ("\0rmv")][version u32 big-endian][the serializer's bytes]
//
// Written only by a store whose `version` is above 0; a version-0 store writes the serializer's
// bytes alone, as every store did before versions existed, and any entry without the magic reads
// as version 0. No UTF-8 JSON text (the default serializer) starts with a NUL byte, and the three
// letters after it make a false match by a binary serializer's bytes unlikely (one in 2^32 for
// random bytes): such an application can pass a serializer whose output never starts with 0x00.

/** The largest version a store takes: it must fit the stamp's u32, and stay a small safe integer. */
export const maxStoreVersion = 2 ** 31 - 1;

const magic = Uint8Array.of(0x00, 0x72, 0x6d, 0x76);
const stampBytes = magic.length + 4;

/**
 * What the front of a command's bytes says: its version and the serializer's bytes after the
 * stamp; `garbled` for bytes that start with the magic but end inside the stamp, or stamp a
 * version above maxStoreVersion. No store wrote those: they count as undecodable, like any bytes
 * the serializer refuses, on every peer alike (not as a newer version, which would stop them all).
 */
export type CommandStamp = { readonly type: 'versioned'; readonly version: number; readonly body: Uint8Array } | { readonly type: 'garbled'; readonly reason: string };

/** The serializer's bytes as a store at `version` writes them to the log. */
export function stampCommand(version: number, body: Uint8Array): Uint8Array {
  if (version === 0) return body;
  const bytes = new Uint8Array(stampBytes + body.length);
  bytes.set(magic, 0);
  new DataView(bytes.buffer).setUint32(magic.length, version);
  bytes.set(body, stampBytes);
  return bytes;
}

/** Reads a command's stamp; bytes without the magic are version 0 (the serializer's bytes, whole). */
export function readCommandStamp(bytes: Uint8Array): CommandStamp {
  if (!startsWithMagic(bytes)) return { type: 'versioned', version: 0, body: bytes };
  if (bytes.length < stampBytes) return { type: 'garbled', reason: `a command of ${bytes.length} bytes ends inside its ${stampBytes}-byte version stamp` };
  const version = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(magic.length);
  if (version > maxStoreVersion) return { type: 'garbled', reason: `a command stamps version ${version}, above the largest a store writes (${maxStoreVersion})` };
  return { type: 'versioned', version, body: bytes.subarray(stampBytes) };
}

function startsWithMagic(bytes: Uint8Array): boolean {
  if (bytes.length < magic.length) return false;
  return magic.every((byte, position) => bytes[position] === byte);
}
