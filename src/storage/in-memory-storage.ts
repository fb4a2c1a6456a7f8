// InMemoryRaftStorage: the RaftStorage contract held in memory. Every method is atomic: it
// validates before it changes anything, and it changes everything in one synchronous step (no
// `await` in the middle), so no other call can observe half of it.
//
// Copies: what is stored is the value at the time of the call, like on a disk. The RaftStorage
// methods copy entries (their command bytes included) on the way in and on the way out, and
// snapshot bytes likewise, so a caller that reuses an encoder's buffer, or scribbles on what it
// read, changes nothing stored. writeBatch, the engine's hot path, does not copy: the driver
// already copied each command at propose time and never mutates an entry, and cloning every
// command there would cost more than the rest of a 200k entries/s write path.
import { copyBytes } from '../core/bytes.ts';
import type { LogEntry, NodeId, SnapshotMeta, StoredSnapshot } from '../core/types.ts';
import { copyEntry, copySnapshotMeta } from './entry-copy.ts';
import { requireCommitIndex, requireIndexArgument, requireStateTerms, requireStorableEntries, requireStorableSnapshotMeta } from './log-bounds.ts';
import type { RaftStorage, StorageBatch } from './raft-storage.ts';

const adapterName = 'InMemoryRaftStorage';

export class InMemoryRaftStorage implements RaftStorage {
  private currentTerm = 0;
  private vote: NodeId | null = null;
  private leaderPin: { term: number; leaderId: NodeId } | null = null;
  /** log[k] holds index firstIndex + k: an array offset by the first index, no map, no search. */
  private log: LogEntry[] = [];
  private firstIndex = 1;
  private snapshot: StoredSnapshot | null = null;
  private commit = 0;

  async term(): Promise<number> {
    return this.currentTerm;
  }

  async votedFor(): Promise<NodeId | null> {
    return this.vote;
  }

  async saveTermAndVotedFor(term: number, votedFor: NodeId | null): Promise<void> {
    requireStateTerms(adapterName, 'saveTermAndVotedFor', { hardState: { term, votedFor } });
    this.currentTerm = term;
    this.vote = votedFor;
  }

  async leaderForTerm(): Promise<{ term: number; leaderId: NodeId } | null> {
    return this.leaderPin === null ? null : { ...this.leaderPin };
  }

  async saveLeaderForTerm(term: number, leaderId: NodeId): Promise<void> {
    requireStateTerms(adapterName, 'saveLeaderForTerm', { leaderForTerm: { term, leaderId } });
    this.leaderPin = { term, leaderId };
  }

  async commitIndex(): Promise<number> {
    return this.commit;
  }

  async saveCommitIndex(index: number): Promise<void> {
    requireCommitIndex(adapterName, 'saveCommitIndex', index);
    this.commit = index;
  }

  /** The stored term and vote, read synchronously (for checkers and tools, not the engine). */
  peekHardState(): { readonly term: number; readonly votedFor: NodeId | null } {
    return { term: this.currentTerm, votedFor: this.vote };
  }

  /** The stored commit index, read synchronously (for checkers and tools, not the engine). */
  peekCommitIndex(): number {
    return this.commit;
  }

  /** The stored snapshot's last included index, 0 without one (for checkers and tools). */
  peekSnapshotIndex(): number {
    return this.snapshot?.meta.lastIncludedIndex ?? 0;
  }

  /** A read-only look at the stored log without copying (for checkers and tools, not the engine). */
  peekLog(): { readonly firstIndex: number; readonly entries: readonly LogEntry[] } {
    return { firstIndex: this.firstIndex, entries: this.log };
  }

  private get lastIndex(): number {
    return this.firstIndex + this.log.length - 1;
  }

  /**
   * Where an append may start: right after the last entry, or, on an empty log, right after the
   * stored snapshot (a snapshot installed past the end of the log). Anything else would leave a
   * gap or overwrite without a truncation: a broken invariant in the caller, so it throws.
   */
  private appendStart(entries: readonly LogEntry[], lastIndex: number, logEmpty: boolean): number {
    const first = entries[0];
    if (first === undefined) return lastIndex + 1;
    requireStorableEntries(adapterName, entries);
    const afterSnapshot = this.snapshot === null ? null : this.snapshot.meta.lastIncludedIndex + 1;
    const start = logEmpty && first.index === afterSnapshot ? afterSnapshot : lastIndex + 1;
    entries.forEach((entry, position) => {
      const expected = start + position;
      if (entry.index !== expected) {
        throw new Error(`InMemoryRaftStorage: append expected index ${expected}, got ${entry.index} (appends must be contiguous after index ${lastIndex})`);
      }
    });
    return start;
  }

  private pushEntries(entries: readonly LogEntry[], start: number): void {
    if (entries.length === 0) return;
    if (this.log.length === 0) this.firstIndex = start;
    for (const entry of entries) this.log.push(entry);
  }

  /** Removes every entry at or above `index`; below the first stored index it empties the log. */
  private truncateLog(index: number): void {
    if (index <= this.lastIndex) this.log.length = Math.max(0, index - this.firstIndex);
  }

  async appendEntries(entries: readonly LogEntry[]): Promise<void> {
    const start = this.appendStart(entries, this.lastIndex, this.log.length === 0);
    this.pushEntries(entries.map(copyEntry), start);
  }

  async entries(fromIndex = 1): Promise<LogEntry[]> {
    requireIndexArgument(adapterName, 'entries', fromIndex);
    return this.log.slice(Math.max(0, fromIndex - this.firstIndex)).map(copyEntry);
  }

  async truncateFrom(index: number): Promise<void> {
    requireIndexArgument(adapterName, 'truncateFrom', index);
    this.truncateLog(index);
  }

  async saveSnapshot(meta: SnapshotMeta, state: Uint8Array): Promise<void> {
    requireStorableSnapshotMeta(adapterName, meta);
    this.snapshot = { meta: copySnapshotMeta(meta), state: copyBytes(state) };
  }

  async loadSnapshot(): Promise<StoredSnapshot | null> {
    return this.snapshot === null ? null : { meta: copySnapshotMeta(this.snapshot.meta), state: copyBytes(this.snapshot.state) };
  }

  async discardLogPrefix(throughIndex: number): Promise<void> {
    requireIndexArgument(adapterName, 'discardLogPrefix', throughIndex);
    if (throughIndex < this.firstIndex) return;
    if (throughIndex >= this.lastIndex) this.log = [];
    else this.log = this.log.slice(throughIndex - this.firstIndex + 1);
    this.firstIndex = throughIndex + 1;
  }

  /** One step's changes in one atomic write: hard state, leader pin, truncation, append, commit index. */
  async writeBatch(batch: StorageBatch): Promise<void> {
    // Validate the append against the log as it will be after the truncation, then apply all.
    if (batch.truncateFrom !== undefined) requireIndexArgument(adapterName, 'truncateFrom', batch.truncateFrom);
    requireStateTerms(adapterName, 'writeBatch', batch);
    requireCommitIndex(adapterName, 'writeBatch', batch.commitIndex);
    const cut = batch.truncateFrom === undefined ? null : Math.max(batch.truncateFrom, this.firstIndex);
    const lastAfterCut = cut === null ? this.lastIndex : Math.min(this.lastIndex, cut - 1);
    const start = this.appendStart(batch.entries, lastAfterCut, lastAfterCut < this.firstIndex);
    if (batch.hardState !== undefined) {
      this.currentTerm = batch.hardState.term;
      this.vote = batch.hardState.votedFor;
    }
    if (batch.leaderForTerm !== undefined) this.leaderPin = { ...batch.leaderForTerm };
    if (cut !== null) this.truncateLog(cut);
    this.pushEntries(batch.entries, start);
    if (batch.commitIndex !== undefined) this.commit = batch.commitIndex;
  }
}
