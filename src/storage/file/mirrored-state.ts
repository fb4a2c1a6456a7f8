// The live state of a FileRaftStorage, mirrored in memory: the hard state, the leader pin and an
// InMemoryRaftStorage holding the log, snapshot and commit index, so reads never touch the disk.
// Journal records change it in two ways: replayed at open (in file order), and applied after their
// append is durable. `bounds` runs ahead of the mirror: a call is checked against the log as the
// calls queued before it will leave it, and refused then, before anything is written.
import { copyBytes } from '../../core/bytes.ts';
import { storageFailure } from '../storage-failure.ts';
import type { LogEntry, NodeId, SnapshotMeta, StoredSnapshot } from '../../core/types.ts';
import { InMemoryRaftStorage } from '../in-memory-storage.ts';
import { afterAppend, afterDiscard, afterTruncate, appendStart, type LogBounds } from '../log-bounds.ts';
import type { JournalRecord, JournalState } from './journal-record.ts';

export interface HardState {
  readonly term: number;
  readonly votedFor: NodeId | null;
}

export interface LeaderPin {
  readonly term: number;
  readonly leaderId: NodeId;
}

export class MirroredState {
  hardState: HardState = { term: 0, votedFor: null };
  leaderPin: LeaderPin | null = null;
  /** The log's bounds once every queued call is done: ahead of the mirror while calls wait their turn. */
  bounds: LogBounds = { firstIndex: 1, lastIndex: 0, snapshotIndex: null };
  private mirror = new InMemoryRaftStorage();

  /** Starts from the snapshot file read at open (the journal replayed after it). */
  async startFromSnapshot(snapshot: StoredSnapshot): Promise<void> {
    await this.mirror.saveSnapshot(snapshot.meta, snapshot.state);
    this.bounds = { ...this.bounds, snapshotIndex: snapshot.meta.lastIncludedIndex };
  }

  commitIndex(): number {
    return this.mirror.peekCommitIndex();
  }

  entries(fromIndex: number): Promise<LogEntry[]> {
    return this.mirror.entries(fromIndex);
  }

  loadSnapshot(): Promise<StoredSnapshot | null> {
    return this.mirror.loadSnapshot();
  }

  /** After the snapshot file's rename (its bounds were moved when the call was made). */
  saveSnapshot(meta: SnapshotMeta, state: Uint8Array): Promise<void> {
    return this.mirror.saveSnapshot(meta, state);
  }

  /** Bytes of the live log's commands: a cheap bound on what a rewritten journal would hold. */
  liveCommandBytes(): number {
    let bytes = 0;
    for (const entry of this.mirror.peekLog().entries) bytes += entry.command.length;
    return bytes;
  }

  /** What a rewritten journal holds (recordsOfState). */
  journalState(): JournalState {
    const { entries, firstIndex } = this.mirror.peekLog();
    return { hardState: this.hardState, leaderForTerm: this.leaderPin, logStart: firstIndex, entries, commitIndex: this.mirror.peekCommitIndex() };
  }

  /** The bounds after `record`; throws (nothing written) for an append with a gap or overlap. */
  nextBounds(record: JournalRecord): LogBounds {
    const before = this.bounds;
    if (record.kind === 'discard') return afterDiscard(before, record.throughIndex);
    if (record.kind === 'reset') {
      const empty = { ...before, firstIndex: record.logStart, lastIndex: record.logStart - 1 };
      return afterAppend(empty, appendStart(empty, record.entries), record.entries.length);
    }
    const cut = record.truncateFrom === undefined ? null : Math.max(record.truncateFrom, before.firstIndex);
    const afterCut = cut === null ? before : afterTruncate(before, cut);
    return afterAppend(afterCut, appendStart(afterCut, record.entries), record.entries.length);
  }

  /** Applies a record whose append is durable (its bounds were moved when the call was made). */
  async apply(record: JournalRecord): Promise<void> {
    if (record.kind === 'discard') {
      await this.mirror.discardLogPrefix(record.throughIndex);
      return;
    }
    if (record.kind === 'reset') {
      this.hardState = { ...record.hardState };
      this.leaderPin = record.leaderForTerm === null ? null : { ...record.leaderForTerm };
      await this.restartLog(record.logStart, record.entries);
      return;
    }
    this.applyBatchHardState(record);
    await this.mirror.writeBatch({ entries: record.entries, ...(record.truncateFrom === undefined ? {} : { truncateFrom: record.truncateFrom }), ...(record.commitIndex === undefined ? {} : { commitIndex: record.commitIndex }) });
  }

  /** Replays one record read from `path` at open; a record that does not fit the state is 'corruptRecord'. */
  async replay(decoded: JournalRecord, path: string): Promise<void> {
    // Decoded commands are views into the journal reader's buffer, which its next read overwrites
    // (or, for a record larger than a chunk, a buffer the mirror must not keep alive): copy them.
    const record: JournalRecord = decoded.kind === 'discard' ? decoded : { ...decoded, entries: decoded.entries.map((entry) => ({ ...entry, command: copyBytes(entry.command) })) };
    try {
      const restart = logRestartOf(record, this.bounds);
      if (restart !== null && record.kind === 'batch') {
        // An append that started the emptied log right after the snapshot in force when it was
        // written. saveSnapshot leaves no record, so the snapshot read at open (a later one, after
        // a crash before the discard that follows an install) cannot vouch for it; the record
        // itself can: it was checked against the log when written, and its checksum holds.
        this.applyBatchHardState(record);
        await this.restartLog(restart.logStart, record.entries);
        if (record.commitIndex !== undefined) await this.mirror.saveCommitIndex(record.commitIndex);
        this.bounds = { ...this.bounds, firstIndex: restart.logStart, lastIndex: restart.logStart + record.entries.length - 1 };
        return;
      }
      const next = this.nextBounds(record);
      await this.apply(record);
      this.bounds = next;
    } catch (error) {
      throw storageFailure('corruptRecord', `replaying ${path}`, error, 'FileRaftStorage');
    }
  }

  /** The term, vote and leader pin a batch record carries (each only when it changed them). */
  private applyBatchHardState(record: Extract<JournalRecord, { kind: 'batch' }>): void {
    if (record.hardState !== undefined) this.hardState = { ...record.hardState };
    if (record.leaderForTerm !== undefined) this.leaderPin = { ...record.leaderForTerm };
  }

  /**
   * Replaces the mirror's log with `entries` from `logStart`, keeping its snapshot. A fresh mirror,
   * because an in-memory log never moves its start back, and a log a record restarts may begin
   * below the start a discard left (a snapshot saved below the discarded prefix, then appended after).
   */
  private async restartLog(logStart: number, entries: readonly LogEntry[]): Promise<void> {
    const fresh = new InMemoryRaftStorage();
    // A reset record does not carry the commit index (the batch after it does); a restart keeps it.
    await fresh.saveCommitIndex(this.mirror.peekCommitIndex());
    const snapshot = await this.mirror.loadSnapshot();
    if (snapshot !== null) await fresh.saveSnapshot(snapshot.meta, snapshot.state);
    await fresh.discardLogPrefix(logStart - 1);
    await fresh.appendEntries(entries);
    this.mirror = fresh;
  }
}

/**
 * Where a replayed append restarts the log, when it does: a snapshot exists, the log is empty after
 * the record's truncation (or was), and its first entry is not the next index. Live, only the
 * snapshot's next index allows that (appendStart); on replay the snapshot that allowed it may have
 * been replaced by a later one.
 */
function logRestartOf(record: JournalRecord, bounds: LogBounds): { readonly logStart: number } | null {
  if (record.kind !== 'batch') return null;
  const first = record.entries[0];
  if (first === undefined) return null;
  const cut = record.truncateFrom === undefined ? null : Math.max(record.truncateFrom, bounds.firstIndex);
  const lastAfterCut = cut === null ? bounds.lastIndex : Math.min(bounds.lastIndex, cut - 1);
  const emptyAfterCut = lastAfterCut < bounds.firstIndex;
  // Without a snapshot on disk none was ever saved (it is never deleted, and a record written after
  // one follows its rename and fsync), so the append could only have followed the log: a record
  // that does not is refused as before.
  if (bounds.snapshotIndex === null) return null;
  return emptyAfterCut && first.index !== lastAfterCut + 1 && first.index >= 1 ? { logStart: first.index } : null;
}
