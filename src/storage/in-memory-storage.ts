// InMemoryRaftStorage: the RaftStorage contract held in memory. Every method is atomic (it
// validates before it changes anything). Entries are immutable values, so arrays are copied but
// commands are not cloned.
import type { LogEntry, NodeId, SnapshotMeta, StoredSnapshot } from '../core/types.ts';
import type { RaftStorage, StorageBatch } from './raft-storage.ts';

export class InMemoryRaftStorage implements RaftStorage {
  private currentTerm = 0;
  private vote: NodeId | null = null;
  private leaderPin: { term: number; leaderId: NodeId } | null = null;
  /** entries[k] holds index firstIndex + k. */
  private log: LogEntry[] = [];
  private firstIndex = 1;
  private snapshot: StoredSnapshot | null = null;

  async term(): Promise<number> {
    return this.currentTerm;
  }

  async votedFor(): Promise<NodeId | null> {
    return this.vote;
  }

  async saveTermAndVotedFor(term: number, votedFor: NodeId | null): Promise<void> {
    this.currentTerm = term;
    this.vote = votedFor;
  }

  async leaderForTerm(): Promise<{ term: number; leaderId: NodeId } | null> {
    return this.leaderPin === null ? null : { ...this.leaderPin };
  }

  async saveLeaderForTerm(term: number, leaderId: NodeId): Promise<void> {
    this.leaderPin = { term, leaderId };
  }

  /** A read-only look at the stored log without copying (for checkers and tools, not the engine). */
  peekLog(): { readonly firstIndex: number; readonly entries: readonly LogEntry[] } {
    return { firstIndex: this.firstIndex, entries: this.log };
  }

  private get lastIndex(): number {
    return this.firstIndex + this.log.length - 1;
  }

  private checkAppend(entries: readonly LogEntry[], lastIndex: number): void {
    entries.forEach((entry, position) => {
      const expected = lastIndex + 1 + position;
      if (entry.index !== expected) throw new Error(`InMemoryRaftStorage.appendEntries: expected index ${expected}, got ${entry.index} (appends must be contiguous)`);
    });
  }

  async appendEntries(entries: readonly LogEntry[]): Promise<void> {
    this.checkAppend(entries, this.lastIndex);
    for (const entry of entries) this.log.push(entry);
  }

  async entries(fromIndex = 1): Promise<LogEntry[]> {
    return this.log.slice(Math.max(0, fromIndex - this.firstIndex));
  }

  async truncateFrom(index: number): Promise<void> {
    if (index <= this.lastIndex) this.log.length = Math.max(0, index - this.firstIndex);
  }

  async saveSnapshot(meta: SnapshotMeta, state: Uint8Array): Promise<void> {
    this.snapshot = { meta, state: state.slice() };
  }

  async loadSnapshot(): Promise<StoredSnapshot | null> {
    return this.snapshot === null ? null : { meta: this.snapshot.meta, state: this.snapshot.state.slice() };
  }

  async discardLogPrefix(throughIndex: number): Promise<void> {
    if (throughIndex < this.firstIndex) return;
    if (throughIndex >= this.lastIndex) this.log = [];
    else this.log = this.log.slice(throughIndex - this.firstIndex + 1);
    this.firstIndex = throughIndex + 1;
  }

  async writeBatch(batch: StorageBatch): Promise<void> {
    // Validate the append against the log as it will be after truncation, then apply all.
    const lastAfterTruncate = batch.truncateFrom === undefined ? this.lastIndex : Math.min(this.lastIndex, batch.truncateFrom - 1);
    this.checkAppend(batch.entries, lastAfterTruncate);
    if (batch.hardState !== undefined) {
      this.currentTerm = batch.hardState.term;
      this.vote = batch.hardState.votedFor;
    }
    if (batch.leaderForTerm !== undefined) this.leaderPin = { ...batch.leaderForTerm };
    if (batch.truncateFrom !== undefined) await this.truncateFrom(batch.truncateFrom);
    for (const entry of batch.entries) this.log.push(entry);
  }
}
