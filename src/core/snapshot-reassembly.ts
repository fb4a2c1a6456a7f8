// Receiver side of chunked InstallSnapshot (§7): accepts only the next offset, re-acknowledges
// duplicates and reorders instead of appending them twice, and bounds what it will buffer: the
// bytes (the total ceiling) and the memory they take (one buffer, grown as bytes arrive).
import { assert } from './assert.ts';
import type { InstallSnapshot } from './messages.ts';
import type { SnapshotMeta } from './types.ts';

export interface SnapshotReassembly {
  readonly meta: SnapshotMeta;
  readonly totalBytes: number;
  readonly leaderTerm: number;
  received: number;
  /**
   * The bytes received so far, at the start of a buffer that grows geometrically as they arrive
   * (at most twice what was received, or the first buffer, and never past totalBytes). One copy per chunk cost a
   * Uint8Array and its ArrayBuffer each, about 200 bytes of memory per byte a sender chose to
   * send in 1-byte chunks; a buffer of the size the sender claims would cost the ceiling on a
   * sender's word alone.
   */
  buffer: Uint8Array;
}

/** The first buffer's size at most: one default chunk. */
const firstBufferBytes = 16 * 1024;

export type ChunkVerdict =
  | { readonly type: 'tooLarge' }
  | { readonly type: 'invalidMeta' }
  /** A chunk of an older snapshot from the leader of the same term, still on its way: ignored. */
  | { readonly type: 'stale' }
  | { readonly type: 'progress'; readonly reassembly: SnapshotReassembly }
  | { readonly type: 'complete'; readonly reassembly: SnapshotReassembly; readonly state: Uint8Array };

function sameTransfer(reassembly: SnapshotReassembly, message: InstallSnapshot): boolean {
  return (
    reassembly.leaderTerm === message.term &&
    reassembly.totalBytes === message.totalBytes &&
    reassembly.meta.lastIncludedIndex === message.meta.lastIncludedIndex &&
    reassembly.meta.lastIncludedTerm === message.meta.lastIncludedTerm
  );
}

/**
 * A newer snapshot or a leader change restarts reassembly (an older one of the same leader is
 * ignored); anything but the next offset is re-acked.
 */
export function acceptChunk(current: SnapshotReassembly | null, message: InstallSnapshot, totalCeilingBytes: number): ChunkVerdict {
  if (message.totalBytes > totalCeilingBytes) return { type: 'tooLarge' };
  // Index 0 is the empty log; every later index has a term of at least 1 (restore refuses other metas).
  if (message.meta.lastIncludedTerm > message.term || message.meta.lastIncludedIndex === 0 || message.meta.lastIncludedTerm === 0) return { type: 'invalidMeta' };
  if (message.offset + message.data.length > message.totalBytes) return { type: 'invalidMeta' };
  // The leader of a term only ever streams newer snapshots, so a chunk of an older one in the same
  // term is a leftover of a stream it replaced (with a window of up to a megabyte, dozens of them
  // can still be in flight, and a reordering path delivers them among the new stream's chunks).
  // Restarting reassembly for it threw away the newer stream's progress, and the leader's next
  // chunk, now ahead of offset 0, made the follower report 0 and the leader start over.
  if (current !== null && current.leaderTerm === message.term && message.meta.lastIncludedIndex < current.meta.lastIncludedIndex) return { type: 'stale' };
  let reassembly = current;
  if (reassembly === null || !sameTransfer(reassembly, message)) {
    reassembly = { meta: message.meta, totalBytes: message.totalBytes, leaderTerm: message.term, received: 0, buffer: new Uint8Array(0) };
  }
  if (message.offset === reassembly.received && (message.data.length > 0 || message.totalBytes === 0)) {
    append(reassembly, message.data);
  }
  if (reassembly.received < reassembly.totalBytes) return { type: 'progress', reassembly };
  // Growth stops at totalBytes, and every byte up to it arrived: the buffer is the state.
  assert(reassembly.buffer.length === reassembly.totalBytes, `reassembled ${reassembly.buffer.length} bytes of ${reassembly.totalBytes}`);
  return { type: 'complete', reassembly, state: reassembly.buffer };
}

/** Copies `data` after the bytes received (acceptChunk checked it ends within totalBytes). */
function append(reassembly: SnapshotReassembly, data: Uint8Array): void {
  const needed = reassembly.received + data.length;
  if (needed > reassembly.buffer.length) {
    // Doubling keeps the copies linear in the bytes received, and the buffer within twice them.
    const capacity = Math.min(reassembly.totalBytes, Math.max(needed, 2 * reassembly.buffer.length, Math.min(firstBufferBytes, reassembly.totalBytes)));
    const grown = new Uint8Array(capacity);
    grown.set(reassembly.buffer.subarray(0, reassembly.received));
    reassembly.buffer = grown;
  }
  reassembly.buffer.set(data, reassembly.received);
  reassembly.received = needed;
}
