// Persists readies in order. While one write is in flight the next readies' writes are merged
// into one batch, so throughput grows with load instead of paying one storage commit per step.
import type { Ready, SnapshotWrite } from '../core/ready.ts';
import type { LogEntry } from '../core/types.ts';
import type { RaftStorage, StorageBatch } from '../storage/raft-storage.ts';

export interface MergedWrite {
  readonly batch: StorageBatch;
  /** A snapshot ready is never merged: it is written alone, in its own safe order. */
  readonly snapshot: SnapshotWrite | null;
  /** How many readies (each counted by the core as one write) this batch acknowledges. */
  readonly readyCount: number;
  readonly lastEntry: { readonly index: number; readonly term: number } | null;
}

export function mergeReadies(readies: readonly Ready[]): MergedWrite {
  let hardState: StorageBatch['hardState'];
  let leaderForTerm: StorageBatch['leaderForTerm'];
  let truncateFrom: number | undefined;
  let commitIndex: number | undefined;
  // One array grown in place: concatenating per ready copied everything merged so far each time,
  // quadratic in the readies queued behind a slow write (up to 262,144 of them).
  const entries: LogEntry[] = [];
  for (const ready of readies) {
    if (ready.commitIndex !== null) commitIndex = ready.commitIndex;
    if (ready.hardState !== null) hardState = ready.hardState;
    if (ready.leaderForTerm !== null) leaderForTerm = ready.leaderForTerm;
    if (ready.truncateFrom !== null) {
      const cut = ready.truncateFrom;
      truncateFrom = truncateFrom === undefined ? cut : Math.min(truncateFrom, cut);
      let kept = 0;
      for (const entry of entries) if (entry.index < cut) entries[kept++] = entry;
      entries.length = kept;
    }
    for (const entry of ready.entries) entries.push(entry);
  }
  const last = entries[entries.length - 1];
  const batch: StorageBatch = {
    entries,
    ...(hardState === undefined ? {} : { hardState }),
    ...(leaderForTerm === undefined ? {} : { leaderForTerm }),
    ...(truncateFrom === undefined ? {} : { truncateFrom }),
    ...(commitIndex === undefined ? {} : { commitIndex }),
  };
  const snapshots = readies.filter((ready) => ready.snapshot !== null);
  if (snapshots.length > 1 || (snapshots.length === 1 && readies.length > 1)) throw new Error('a snapshot ready must be written alone');
  return { batch, snapshot: readies[0]?.snapshot ?? null, readyCount: readies.length, lastEntry: last === undefined ? null : { index: last.index, term: last.term } };
}

/** How many queued readies the next write may take: a snapshot ready goes alone. */
export function nextWriteCount(queued: readonly Ready[]): number {
  if (queued.length === 0) return 0;
  if (queued[0]?.snapshot !== null) return 1;
  const firstSnapshot = queued.findIndex((ready) => ready.snapshot !== null);
  return firstSnapshot === -1 ? queued.length : firstSnapshot;
}

export async function writeMerged(storage: RaftStorage, merged: MergedWrite): Promise<void> {
  if (merged.snapshot === null) {
    await writeBatch(storage, merged.batch);
    return;
  }
  // The commit index goes last: an installed snapshot raises it to an index the log may not
  // hold until the snapshot lands, and the log up to it may still be an old leader's.
  const { entries, commitIndex, ...beforeSnapshot } = merged.batch;
  await writeBatch(storage, { ...beforeSnapshot, entries: [] });
  await storage.saveSnapshot(merged.snapshot.meta, merged.snapshot.state);
  await storage.discardLogPrefix(merged.snapshot.discardLogThrough);
  if (entries.length > 0 || commitIndex !== undefined) await writeBatch(storage, commitIndex === undefined ? { entries } : { entries, commitIndex });
}

/** Applies a batch through the storage's batched path, or its atomic methods in a safe order. */
export async function writeBatch(storage: RaftStorage, batch: StorageBatch): Promise<void> {
  if (storage.writeBatch !== undefined) {
    await storage.writeBatch(batch);
    return;
  }
  // Hard state first: an entry must never be durable under a term the node has not recorded.
  if (batch.hardState !== undefined) await storage.saveTermAndVotedFor(batch.hardState.term, batch.hardState.votedFor);
  if (batch.leaderForTerm !== undefined) await storage.saveLeaderForTerm(batch.leaderForTerm.term, batch.leaderForTerm.leaderId);
  if (batch.truncateFrom !== undefined) await storage.truncateFrom(batch.truncateFrom);
  if (batch.entries.length > 0) await storage.appendEntries(batch.entries);
  // After the entries it vouches for; a storage without it restarts its node at the snapshot.
  if (batch.commitIndex !== undefined && storage.saveCommitIndex !== undefined) await storage.saveCommitIndex(batch.commitIndex);
}
