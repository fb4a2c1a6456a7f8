// The application state of a simulated node, and its snapshots at realistic sizes. The state is
// a 53-bit digest chained over every applied item (so two nodes agree on it at an index only if
// they applied the same history, or installed snapshots of it); a snapshot carries it in a
// 20-byte header followed by filler that is a pure function of (digest, index), up to a size the
// seed's profile picks per index. Every node that publishes at one index publishes the same bytes,
// so the checker can demand that an installed snapshot equal a publication byte for byte, and a
// node that installs one resumes the chain from the digest inside it.
//
// Layout: "RMS1" | u32 index high | u32 index low | u32 digest high | u32 digest low | filler.
// The empty state (digest 0: before any entry, and after some internal markers, which reset it)
// is the empty snapshot: 0 bytes.
import type { AppliedRecord } from './checkers.ts';

const magic = [0x52, 0x4d, 0x53, 0x31]; // "RMS1"
export const simulatedSnapshotHeaderBytes = 20;
const twoTo32 = 2 ** 32;

/** How large the snapshots of one run are. */
export interface SnapshotSizeProfile {
  /** Largest snapshot in bytes (at least the header). */
  readonly maxBytes: number;
  /** The chunk size the leaders stream in: sizes at and around its multiples are favoured. */
  readonly chunkBytes: number;
  /** Mixed into the size and filler choices, so seeds differ. */
  readonly salt: number;
}

/** The legacy profile: header-only snapshots. */
export const tinySnapshotProfile: SnapshotSizeProfile = { maxBytes: simulatedSnapshotHeaderBytes, chunkBytes: 16 * 1024, salt: 0 };

function mix(hash: number, value: number): number {
  let mixed = Math.imul(hash ^ value, 0x9e3779b1);
  mixed ^= mixed >>> 15;
  mixed = Math.imul(mixed, 0x85ebca77);
  return (mixed ^ (mixed >>> 13)) >>> 0;
}

function split(value: number): [number, number] {
  return [Math.floor(value / twoTo32) >>> 0, value >>> 0];
}

/** Whether an internal marker at this index resets the state to empty (about a third of them do). */
function resetsAt(index: number): boolean {
  return mix(0x5eed, index) % 3 === 0;
}

/** The state after applying one item on top of `digest`. */
export function advanceDigest(digest: number, record: AppliedRecord): number {
  if (record.term === null && resetsAt(record.index)) return 0;
  const [high, low] = split(digest);
  let first = mix(mix(mix(high, low), record.index), record.term ?? 0xffffffff);
  let second = mix(mix(low ^ 0xa5a5a5a5, high), record.index + 1);
  const command = record.command ?? new Uint8Array(0);
  for (const byte of command) {
    first = Math.imul(first ^ byte, 0x01000193);
    second = Math.imul((second ^ byte) + (second >>> 15), 0x2127599b);
  }
  first = mix(first, command.length);
  second = mix(second, first);
  const next = (first >>> 11) * twoTo32 + second;
  return next === 0 ? 1 : next;
}

/** The snapshot's total size: a pure function of the profile, index and digest. */
export function simulatedSnapshotBytes(profile: SnapshotSizeProfile, throughIndex: number, digest: number): number {
  if (digest === 0) return 0;
  const header = simulatedSnapshotHeaderBytes;
  if (profile.maxBytes <= header) return header;
  const [high, low] = split(digest);
  const hash = mix(mix(profile.salt, throughIndex), high ^ low);
  const roll = hash % 100;
  const maxChunks = Math.floor(profile.maxBytes / profile.chunkBytes);
  if (maxChunks >= 1 && roll < 30) {
    // On a chunk boundary, or one byte either side of it: where off-by-ones in offsets live.
    const chunks = 1 + (mix(hash, 1) % maxChunks);
    const nudge = roll < 15 ? 0 : roll < 22 ? -1 : 1;
    return Math.max(header, Math.min(profile.maxBytes, chunks * profile.chunkBytes + nudge));
  }
  return header + (mix(hash, 2) % (profile.maxBytes - header + 1));
}

/** The bytes a node publishes for its state at `throughIndex`. */
export function encodeSimulatedSnapshot(profile: SnapshotSizeProfile, throughIndex: number, digest: number): Uint8Array {
  const total = simulatedSnapshotBytes(profile, throughIndex, digest);
  const bytes = new Uint8Array(total);
  if (total === 0) return bytes;
  const view = new DataView(bytes.buffer);
  bytes.set(magic, 0);
  const [indexHigh, indexLow] = split(throughIndex);
  const [digestHigh, digestLow] = split(digest);
  view.setUint32(4, indexHigh);
  view.setUint32(8, indexLow);
  view.setUint32(12, digestHigh);
  view.setUint32(16, digestLow);
  fillFrom(bytes, simulatedSnapshotHeaderBytes, mix(mix(digestHigh, digestLow), indexLow) | 1);
  return bytes;
}

/** Xorshift filler: cheap, and any misplaced chunk shows as a byte mismatch. */
function fillFrom(bytes: Uint8Array, start: number, seed: number): void {
  let state = seed;
  for (let position = start; position < bytes.length; position += 4) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[position] = state & 0xff;
    if (position + 1 < bytes.length) bytes[position + 1] = (state >>> 8) & 0xff;
    if (position + 2 < bytes.length) bytes[position + 2] = (state >>> 16) & 0xff;
    if (position + 3 < bytes.length) bytes[position + 3] = (state >>> 24) & 0xff;
  }
}

/**
 * The digest inside an installed snapshot, after checking that the bytes are exactly what a node
 * would publish at `throughIndex` for it; a string says what is wrong.
 */
export function decodeSimulatedSnapshot(profile: SnapshotSizeProfile, throughIndex: number, bytes: Uint8Array): number | string {
  if (bytes.length === 0) return 0;
  if (bytes.length < simulatedSnapshotHeaderBytes || magic.some((byte, position) => bytes[position] !== byte)) return `${bytes.length} bytes without the snapshot header`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const index = view.getUint32(4) * twoTo32 + view.getUint32(8);
  if (index !== throughIndex) return `the header says index ${index}, the install says ${throughIndex}`;
  const digest = view.getUint32(12) * twoTo32 + view.getUint32(16);
  const expected = encodeSimulatedSnapshot(profile, throughIndex, digest);
  if (expected.length !== bytes.length) return `${bytes.length} bytes where the state at ${throughIndex} has ${expected.length}`;
  for (let position = 0; position < bytes.length; position += 1) {
    if (expected[position] !== bytes[position]) return `byte ${position} of ${bytes.length} differs from the state at ${throughIndex}`;
  }
  return digest;
}
