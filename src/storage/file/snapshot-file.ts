// The snapshot file: [u32 meta length][u32 crc32 of meta and state][meta][state]. It is replaced
// whole (atomic-file.ts), so the checksum guards against damage at rest, not torn writes. The
// checksum function is passed in (node:zlib's crc32) so this file has no Node import.
export function encodeSnapshotFile(meta: Uint8Array, state: Uint8Array, checksum: (bytes: Uint8Array) => number): Uint8Array {
  const file = new Uint8Array(8 + meta.length + state.length);
  file.set(meta, 8);
  file.set(state, 8 + meta.length);
  const view = new DataView(file.buffer);
  view.setUint32(0, meta.length, true);
  view.setUint32(4, checksum(file.subarray(8)), true);
  return file;
}

export function decodeSnapshotFile(file: Uint8Array, checksum: (bytes: Uint8Array) => number): { meta: Uint8Array; state: Uint8Array } | null {
  if (file.length < 8) return null;
  const view = new DataView(file.buffer, file.byteOffset, 8);
  const metaLength = view.getUint32(0, true);
  if (8 + metaLength > file.length || checksum(file.subarray(8)) !== view.getUint32(4, true)) return null;
  return { meta: file.subarray(8, 8 + metaLength), state: file.slice(8 + metaLength) };
}
