// Receiver side of chunked InstallSnapshot (§7): accepts only the next offset, re-acknowledges
// duplicates and reorders instead of appending them twice, and bounds what it will buffer.
import type { InstallSnapshot } from './messages.ts';
import type { SnapshotMeta } from './types.ts';

export interface SnapshotReassembly {
  readonly meta: SnapshotMeta;
  readonly totalBytes: number;
  readonly leaderTerm: number;
  received: number;
  readonly chunks: Uint8Array[];
}

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
    reassembly = { meta: message.meta, totalBytes: message.totalBytes, leaderTerm: message.term, received: 0, chunks: [] };
  }
  if (message.offset === reassembly.received && (message.data.length > 0 || message.totalBytes === 0)) {
    reassembly.chunks.push(message.data.slice());
    reassembly.received += message.data.length;
  }
  if (reassembly.received < reassembly.totalBytes) return { type: 'progress', reassembly };
  const state = new Uint8Array(reassembly.totalBytes);
  let offset = 0;
  for (const chunk of reassembly.chunks) {
    state.set(chunk, offset);
    offset += chunk.length;
  }
  return { type: 'complete', reassembly, state };
}
