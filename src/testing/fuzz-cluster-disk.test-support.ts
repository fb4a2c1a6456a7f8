// A fuzz cluster node's disk (fuzz-cluster.test-support.ts): what a ready writes, stored in the
// driver's order (write-queue.ts), and what a frame on the wire may claim of it. Writes that
// leave gaps or overlaps are reported, as the storage contract refuses them; a success
// acknowledgement beyond the sender's disk, or a vote its disk does not record, breaks SPEC's
// durability rule ("a node persists entries and hard state before it acknowledges them").
import type { RaftMessage } from '../core/messages.ts';
import type { Ready } from '../core/ready.ts';
import type { LogEntry, NodeId, SnapshotMeta } from '../core/types.ts';

export interface Disk {
  hardState: { term: number; votedFor: NodeId | null };
  pin: { term: number; leaderId: NodeId } | null;
  entries: LogEntry[];
  commitIndex: number;
  snapshot: { meta: SnapshotMeta; state: Uint8Array } | null;
}

/** The terms a disk held when a frame went out: `terms[i]` is the term at `floor + 1 + i`. */
export interface DiskTerms {
  readonly floor: number;
  readonly terms: readonly number[];
}

export function emptyDisk(): Disk {
  return { hardState: { term: 0, votedFor: null }, pin: null, entries: [], commitIndex: 0, snapshot: null };
}

/** The last index the disk holds, entry or snapshot. */
export function lastIndexOnDisk(disk: Disk): number {
  return disk.entries[disk.entries.length - 1]?.index ?? disk.snapshot?.meta.lastIncludedIndex ?? 0;
}

/** Stores what `ready` writes; returns what the write did wrong (nothing when all is well). */
export function writeToDisk(disk: Disk, ready: Ready): string[] {
  const wrong: string[] = [];
  if (ready.hardState !== null) disk.hardState = { ...ready.hardState };
  if (ready.leaderForTerm !== null) disk.pin = { ...ready.leaderForTerm };
  if (ready.truncateFrom !== null) disk.entries = disk.entries.filter((entry) => entry.index < (ready.truncateFrom as number));
  if (ready.snapshot !== null) {
    disk.snapshot = { meta: ready.snapshot.meta, state: ready.snapshot.state };
    const through = ready.snapshot.discardLogThrough;
    disk.entries = disk.entries.filter((entry) => entry.index > through);
  }
  const first = ready.entries[0]?.index;
  if (first !== undefined && first !== lastIndexOnDisk(disk) + 1) wrong.push(`writes entries from ${first} after ${lastIndexOnDisk(disk)}`);
  if (first !== undefined) disk.entries = disk.entries.filter((entry) => entry.index < first);
  disk.entries.push(...ready.entries);
  if (ready.commitIndex !== null) {
    if (ready.commitIndex > lastIndexOnDisk(disk)) wrong.push(`stores commit index ${ready.commitIndex} beyond its disk's ${lastIndexOnDisk(disk)}`);
    disk.commitIndex = ready.commitIndex;
  }
  return wrong;
}

export function termsOnDisk(disk: Disk): DiskTerms {
  const floor = disk.entries[0] === undefined ? lastIndexOnDisk(disk) : disk.entries[0].index - 1;
  return { floor, terms: disk.entries.map((entry) => entry.term) };
}

/** What `message`, sent by a node with this disk to `to`, claims that the disk does not hold. */
export function claimBeyondDisk(disk: Disk, to: NodeId, message: RaftMessage): string | null {
  if (message.type === 'appendEntriesResponse' && message.success && message.matchIndex > lastIndexOnDisk(disk)) {
    return `acknowledged ${message.matchIndex} to ${to} in term ${message.term} with ${lastIndexOnDisk(disk)} on disk`;
  }
  if (message.type === 'requestVoteResponse' && message.granted && !message.preVote) {
    const { term, votedFor } = disk.hardState;
    if (term < message.term || (term === message.term && votedFor !== to)) return `granted its vote in term ${message.term} to ${to} with term ${term}, votedFor ${votedFor} on disk`;
  }
  return null;
}

/**
 * The first index at which an acknowledgement's terms, as on its sender's disk when it went out,
 * differ from the log of the leader it reaches (null when they agree up to `matchIndex`).
 * Indices the leader or the disk no longer holds (below a snapshot floor) are committed and not
 * compared.
 */
export function firstDisagreement(sent: DiskTerms, matchIndex: number, termAt: (index: number) => number | undefined, leaderLastIndex: number): number | null {
  for (let index = sent.floor + 1; index <= Math.min(matchIndex, leaderLastIndex); index += 1) {
    const leaderTerm = termAt(index);
    if (leaderTerm !== undefined && sent.terms[index - sent.floor - 1] !== leaderTerm) return index;
  }
  return null;
}
