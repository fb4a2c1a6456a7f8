// FileRaftStorage: a durable RaftStorage for Node (edge peers, always-on members).
//
// On disk, in one directory:
// - `journal.v2`: an append-only sequence of checksummed records, each anchored to its offset
//   (journal-format.ts; their payloads, journal-record.ts). Each call appends ONE record and
//   fsyncs before it resolves, so a step's hard state, truncation and entries land together or
//   (torn by a crash) not at all. The hard state lives in the journal rather than in a file of
//   its own for exactly that reason: a separate file would need a second fsync per step and could
//   tear from the entries it goes with.
// - `journal`: a sentinel that builds before journal format 2 refuse (or, from such a build, a
//   format-1 journal, migrated at open).
// - `snapshot`: replaced whole (write, fsync, rename, fsync the directory).
// - `lock`: one process per directory (directory-lock.ts), its lease renewed while open; a lock
//   found taken over fails the storage, and every write after a stall confirms it first.
// When prefix discards have left the journal mostly dead, it is rewritten as its live state (a
// `reset` record, then batches of ~64 MiB) and replaced the same atomic way.
//
// The live state is mirrored in memory (an InMemoryRaftStorage), so reads never touch the disk;
// the mirror changes only after the record is durable. Calls run one at a time, in call order.
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { codecLimits } from '../../codec/limits.ts';
import { encodeSnapshotMeta } from '../../codec/records.ts';
import type { RaftStorageError, StorageFailureReason } from '../../core/errors.ts';
import { createWatchable, type Watchable } from '../../core/observable.ts';
import type { LogEntry, NodeId, SnapshotMeta, StoredSnapshot } from '../../core/types.ts';
import { InMemoryRaftStorage } from '../in-memory-storage.ts';
import { mapIndexedDbError, storageFailure } from '../storage-failure.ts';
import { copyEntry, copySnapshotMeta } from '../entry-copy.ts';
import { sameBytes } from '../../core/bytes.ts';
import { afterAppend, afterDiscard, afterTruncate, appendStart, requireCommitIndex, requireEntryTerms, requireIndexArgument, requireStateTerms, type LogBounds } from '../log-bounds.ts';
import type { RaftStorage, StorageBatch } from '../raft-storage.ts';
import { removeStaleTemporaries, replaceFile, swapInFile, syncDirectory } from './atomic-file.ts';
import { writeWhole } from './file-chunks.ts';
import { acquireDirectoryLock, type DirectoryLock } from './directory-lock.ts';
import { defaultLeaseTiming, type LeaseTiming } from './directory-lease.ts';
import { makeDirectory } from './make-directory.ts';
import { format1JournalFileName, format1Sentinel } from './journal-format1.ts';
import { scanFormat1Journal } from './journal-format1-scan.ts';
import { fileHeaderBytes, frameAnchoredRecord, journalFileName, journalFileOf, newJournalId, recordHeaderBytes } from './journal-format.ts';
import { encodeRecord, recordsOfState, type JournalRecord } from './journal-record.ts';
import { defaultJournalChunkBytes, JournalReader } from './journal-reader.ts';
import { scanJournal } from './journal-scan.ts';
import { encodeSnapshotFile, readSnapshotFile, snapshotFileName } from './snapshot-file.ts';

export interface FileStorageOptions {
  /** fsync every record (default true). false is for tests and throwaway nodes only. */
  readonly fsync?: boolean;
  /** Rewrite the journal once it exceeds this many bytes and is mostly discarded. Default 64 MiB. */
  readonly compactAfterBytes?: number;
}

/**
 * Options for this library's own tests, not the public API (`raftmesh/node` exports only
 * FileStorageOptions): a tiny chunk makes records straddle chunk boundaries.
 */
export interface InternalFileStorageOptions extends FileStorageOptions {
  /** Bytes the journal is read in at open. Default defaultJournalChunkBytes (4 MiB). */
  readonly journalChunkBytes?: number;
  /** The lock's lease (directory-lease.ts). Default defaultLeaseTiming (renewed every 2 s, expiring after 15 s). */
  readonly leaseTiming?: LeaseTiming;
}

function journalChunkBytesOf(options: FileStorageOptions): number {
  return (options as InternalFileStorageOptions).journalChunkBytes ?? defaultJournalChunkBytes;
}

/** The bytes of the last torn tail an open cut off (its first maxTornTailKeptBytes). */
const tornTailFileName = `${journalFileName}.torn`;
/** A torn tail is one record, but a damaged length can make the rest of a file look like one: bounded. */
const maxTornTailKeptBytes = 64 * 1024 * 1024;

const reasonsByCode: Readonly<Record<string, StorageFailureReason>> = { ENOSPC: 'diskFull', EDQUOT: 'diskFull', EROFS: 'closed', EACCES: 'closed', EPERM: 'closed' };

/** What the file system said, in words, where the reason's own advice would mislead ('closed' for a permission). */
const adviceByCode: Readonly<Record<string, string>> = {
  EACCES: 'permission denied: this process may not write the data directory (check its owner and mode)',
  EPERM: 'operation not permitted on the data directory (check its owner, mode and attributes)',
  EROFS: 'the data directory is on a read-only file system',
};

export function fileFailure(error: unknown, operation: string): RaftStorageError {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const reason = code === undefined ? undefined : reasonsByCode[code];
  if (code !== undefined && reason !== undefined) return storageFailure(reason, operation, error, 'FileRaftStorage', adviceByCode[code]);
  const mapped = mapIndexedDbError(error, operation);
  // 'unknown' here is the file system's failure, not IndexedDB's (the cause names it).
  return mapped.reason === 'unknown' ? storageFailure('unknown', operation, error, 'FileRaftStorage', 'the file system refused an operation') : mapped;
}

export class FileRaftStorage implements RaftStorage {
  private queue: Promise<unknown> = Promise.resolve();
  private failedWith: RaftStorageError | null = null;
  /** Set by a failure outside any call (the lock lost): the node on this storage stops then. */
  private readonly failed = createWatchable<RaftStorageError | null>(null);
  private readonly stopWatchingLock: () => void;
  private closing: Promise<void> | null = null;
  /** Set by close() at once: calls made after it are refused, calls made before it finish. */
  private closeRequested = false;
  private hardState = { term: 0, votedFor: null as NodeId | null };
  private leaderPin: { term: number; leaderId: NodeId } | null = null;

  /** Set by openJournal, before the storage is handed out. */
  private journal!: FileHandle;
  /** The journal file's id (journal-format.ts): every record's anchor names it. */
  private journalId!: Uint8Array;
  /** The journal's length: where the next record goes, the offset its anchor names. */
  private journalBytes = 0;

  private constructor(
    readonly directory: string,
    private mirror: InMemoryRaftStorage,
    private bounds: LogBounds,
    private readonly options: FileStorageOptions,
    private readonly lock: DirectoryLock,
  ) {
    // A lock taken over (another container judged this process's lease expired) or removed:
    // another process may be writing here, so nothing more may be, and the node must stop.
    const onLost = (lost: RaftStorageError | null): void => {
      if (lost === null || this.failedWith !== null) return;
      this.failedWith = lost;
      this.failed.set(lost);
    };
    this.stopWatchingLock = lock.lost.subscribe(onLost);
    // A watchable does not replay its value to a new listener: a lock lost while open read the
    // snapshot (seconds for a large one) is taken here (found by a review).
    onLost(lock.lost.value);
  }

  /**
   * Set once when the storage fails outside any call: its directory lock found taken over or
   * removed (RaftStorage.failure; the node on it stops). Failures inside a call reject that call.
   */
  get failure(): Watchable<RaftStorageError | null> {
    return this.failed;
  }

  /**
   * Opens (creating) the storage in `directory`, recovering from a torn journal tail; a journal
   * of format 1 (builds before 2026-12-04) is migrated to format 2 first.
   */
  static async open(directory: string, options: FileStorageOptions = {}): Promise<FileRaftStorage> {
    let lock: DirectoryLock;
    try {
      await makeDirectory(directory, { sync: options.fsync !== false });
      lock = await acquireDirectoryLock(directory, 'FileRaftStorage', (options as InternalFileStorageOptions).leaseTiming ?? defaultLeaseTiming);
    } catch (error) {
      throw fileFailure(error, 'open');
    }
    try {
      // Each write has a temporary file of its own, so nothing else would ever remove a crash's.
      await removeStaleTemporaries(directory, [snapshotFileName, journalFileName, format1JournalFileName, tornTailFileName]);
      const mirror = new InMemoryRaftStorage();
      let bounds: LogBounds = { firstIndex: 1, lastIndex: 0, snapshotIndex: null };
      const snapshot = await readSnapshotFile(directory);
      if (snapshot !== null) {
        await mirror.saveSnapshot(snapshot.meta, snapshot.state);
        bounds = { ...bounds, snapshotIndex: snapshot.meta.lastIncludedIndex };
      }
      // Reading a large snapshot takes seconds: a lock lost meanwhile refuses the open before the
      // journal's recovery writes anything beside the lock's new owner.
      if (lock.lost.value !== null) throw lock.lost.value;
      const storage = new FileRaftStorage(directory, mirror, bounds, options, lock);
      await storage.openJournal();
      return storage;
    } catch (error) {
      await lock.release();
      throw fileFailure(error, 'open');
    }
  }

  /**
   * Finds, migrates or creates the journal, replays it into the mirror, and opens it for appends.
   * Beside `journal.v2` lies a `journal` that builds before format 2 refuse (journal-format1.ts,
   * format1Sentinel): without it they opened a migrated directory as an empty log, free to vote
   * again in a term it had voted in. A format-1 journal is read where it is, renamed aside
   * (`journal.format1`), written whole as `journal.v2` by rename, the sentinel put in its place,
   * and only then the old copy removed: a crash anywhere leaves one whole journal to read. A
   * `journal` that is not the sentinel beside `journal.v2` means an older build wrote here after
   * this one (it found no sentinel): refused, since neither can be trusted to be the newer.
   */
  private async openJournal(): Promise<void> {
    const sync = this.options.fsync !== false;
    const path = join(this.directory, journalFileName);
    const format1Path = join(this.directory, format1JournalFileName);
    const asidePath = join(this.directory, `${format1JournalFileName}.format1`);
    const [current, format1, aside] = await Promise.all([fileExists(path), format1FileOf(format1Path), fileExists(asidePath)]);
    const sentinelInPlace = format1 === 'sentinel';
    if (current && format1 === 'journal') {
      throw storageFailure('corruptRecord', `opening ${this.directory}`, undefined, 'FileRaftStorage', `both ${format1JournalFileName} (journal format 1) and ${journalFileName} are here: a build before 2026-12-04 wrote in this directory after this one did, and neither journal can be trusted to be the newer; keep the one you trust and move the other away`);
    }
    if (!current && sentinelInPlace) {
      // The sentinel is only ever written after journal.v2 took its name: the journal is gone, not new.
      throw storageFailure('corruptRecord', `opening ${this.directory}`, undefined, 'FileRaftStorage', `${journalFileName} is missing, but ${format1JournalFileName} says this directory held one: refusing to start again from an empty log; restore ${journalFileName} (or remove the whole directory to join as a new member)`);
    }
    if (!current) {
      // A new directory, or one a build before format 2 wrote (or a migration a crash stopped).
      // Read where it is first: a journal refused (damaged) is left as it was found.
      const migrating = format1 === 'journal';
      if (migrating || aside) await this.replayFormat1(migrating ? format1Path : asidePath);
      if (migrating) {
        await this.confirmLockBeforeRecovery();
        await rename(format1Path, asidePath);
        if (sync) await syncDirectory(this.directory);
      }
      const written = await this.writeJournalFile();
      this.journal = await open(path, 'a');
      this.journalId = written.journalId;
      this.journalBytes = written.bytes;
    } else {
      await this.openCurrentJournal(path, sync);
    }
    // The handle is open from here: a step that fails closes it, or each failed open (a full disk
    // refusing the sentinel, retried by a supervisor in-process) would leave a descriptor behind.
    try {
      if (!current && sync) await syncDirectory(this.directory);
      // Appends go to the end of the file, anchors name journalBytes: the two must agree, or every
      // later record would fail its anchor and be cut at the next open as a torn tail.
      const size = (await this.journal.stat()).size;
      if (size !== this.journalBytes) throw new Error(`${path} is ${size} bytes where ${this.journalBytes} were written or read`);
      // Only now that journal.v2 has been read whole (or written) are the sentinel put in place and
      // the old copy removed.
      if (!sentinelInPlace) {
        await this.confirmLockBeforeRecovery();
        await replaceFile(this.directory, format1JournalFileName, format1Sentinel, sync, () => this.confirmLockBeforeRename());
      }
      if (aside || format1 === 'journal') {
        await this.confirmLockBeforeRecovery();
        await removeFile(asidePath, this.directory, sync);
      }
    } catch (error) {
      await this.journal.close().catch(() => undefined);
      throw error;
    }
  }

  /** Reads journal.v2, cuts a torn tail (keeping its bytes in `journal.v2.torn`), and opens it for appends. */
  private async openCurrentJournal(path: string, sync: boolean): Promise<void> {
    // Read and appended through one handle ('a+': reads at a position, writes at the end).
    const journal = await open(path, 'a+');
    try {
      const reader = await JournalReader.open(journal, journalChunkBytesOf(this.options));
      const { journalId, validBytes } = await scanJournal(reader, path, (record) => this.replay(record, path));
      if (validBytes < reader.size) {
        // A torn tail: the call that wrote it never resolved. Cut it so appends follow valid data,
        // its bytes kept aside first: damage to the last record's payload reads the same as a
        // torn append (no format can tell them apart), and cutting must not destroy the evidence.
        const kept = Math.min(reader.size - validBytes, maxTornTailKeptBytes);
        await this.confirmLockBeforeRecovery();
        await replaceFile(this.directory, tornTailFileName, await reader.bytes(validBytes, kept), sync, () => this.confirmLockBeforeRename());
        await this.confirmLockBeforeRecovery();
        await journal.truncate(validBytes);
      }
      if (sync) {
        await journal.sync();
        await syncDirectory(this.directory);
      }
      this.journal = journal;
      this.journalId = journalId;
      this.journalBytes = validBytes;
    } catch (error) {
      await journal.close().catch(() => undefined);
      throw error;
    }
  }

  /** Replays a format-1 journal into the mirror (its torn tail, if any, is left where it is: the file goes). */
  private async replayFormat1(path: string): Promise<void> {
    const handle = await open(path, 'r');
    try {
      const reader = await JournalReader.open(handle, journalChunkBytesOf(this.options));
      await scanFormat1Journal(reader, path, (record) => this.replay(record, path));
    } finally {
      await handle.close();
    }
  }

  /**
   * Writes the live state as a new journal (a fresh id, the header, a reset record and batches)
   * under a temporary name, fsyncs it and renames it over `journal.v2`; the directory is the
   * caller's to fsync. A failure before the rename leaves the old journal, if any, in place.
   */
  private async writeJournalFile(): Promise<{ readonly journalId: Uint8Array; readonly bytes: number }> {
    const journalId = newJournalId();
    const { entries, firstIndex } = this.mirror.peekLog();
    const state = { hardState: this.hardState, leaderForTerm: this.leaderPin, logStart: firstIndex, entries, commitIndex: this.mirror.peekCommitIndex() };
    const bytes = await swapInFile(this.directory, journalFileName, journalFileOf(journalId, recordsOfState(state)), this.options.fsync !== false, () => this.confirmLockBeforeRename());
    return { journalId, bytes };
  }

  private async replay(decoded: JournalRecord, path: string): Promise<void> {
    // Decoded commands are views into the journal reader's buffer, which its next read overwrites
    // (or, for a record larger than a chunk, a buffer the mirror must not keep alive): copy them.
    const record: JournalRecord = decoded.kind === 'discard' ? decoded : { ...decoded, entries: decoded.entries.map((entry) => ({ ...entry, command: entry.command.slice() })) };
    try {
      const restart = logRestartOf(record, this.bounds);
      if (restart !== null && record.kind === 'batch') {
        // An append that started the emptied log right after the snapshot in force when it was
        // written. saveSnapshot leaves no record, so the snapshot read at open (a later one, after
        // a crash before the discard that follows an install) cannot vouch for it; the record
        // itself can: it was checked against the log when written, and its checksum holds.
        this.applyBatchHardState(record);
        await this.restartMirrorLog(restart.logStart, record.entries);
        if (record.commitIndex !== undefined) await this.mirror.saveCommitIndex(record.commitIndex);
        this.bounds = { ...this.bounds, firstIndex: restart.logStart, lastIndex: restart.logStart + record.entries.length - 1 };
        return;
      }
      const next = this.nextBounds(record);
      await this.applyToMirror(record);
      this.bounds = next;
    } catch (error) {
      throw storageFailure('corruptRecord', `replaying ${path}`, error, 'FileRaftStorage');
    }
  }

  /** The bounds after `record`; throws (nothing written) for an append with a gap or overlap. */
  private nextBounds(record: JournalRecord): LogBounds {
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

  private async applyToMirror(record: JournalRecord): Promise<void> {
    if (record.kind === 'discard') {
      await this.mirror.discardLogPrefix(record.throughIndex);
      return;
    }
    if (record.kind === 'reset') {
      this.hardState = { ...record.hardState };
      this.leaderPin = record.leaderForTerm === null ? null : { ...record.leaderForTerm };
      await this.restartMirrorLog(record.logStart, record.entries);
      return;
    }
    this.applyBatchHardState(record);
    await this.mirror.writeBatch({ entries: record.entries, ...(record.truncateFrom === undefined ? {} : { truncateFrom: record.truncateFrom }), ...(record.commitIndex === undefined ? {} : { commitIndex: record.commitIndex }) });
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
  private async restartMirrorLog(logStart: number, entries: readonly LogEntry[]): Promise<void> {
    const fresh = new InMemoryRaftStorage();
    // A reset record does not carry the commit index (the batch after it does); a restart keeps it.
    await fresh.saveCommitIndex(this.mirror.peekCommitIndex());
    const snapshot = await this.mirror.loadSnapshot();
    if (snapshot !== null) await fresh.saveSnapshot(snapshot.meta, snapshot.state);
    await fresh.discardLogPrefix(logStart - 1);
    await fresh.appendEntries(entries);
    this.mirror = fresh;
  }

  /** Runs `task` after every earlier call; a failure fails the storage for good. */
  private run<T>(operation: string, task: () => Promise<T>): Promise<T> {
    if (this.closeRequested) return Promise.reject(this.failedWith ?? closedFailure());
    const result = this.queue.then(async () => {
      if (this.failedWith !== null) throw this.failedWith;
      try {
        return await task();
      } catch (error) {
        this.failedWith ??= fileFailure(error, operation);
        throw this.failedWith;
      }
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * Before a write: one clock comparison while the lease was renewed lately; after a stall (this
   * process frozen longer than a renewal or two), the lock is read back first, and a lock taken
   * over meanwhile fails the storage before anything is written beside its new owner.
   */
  private async confirmLock(): Promise<void> {
    const confirming = this.lock.confirmHeld();
    if (confirming !== null) await confirming;
  }

  /**
   * Before a rename that replaces a whole file (a snapshot, a rewritten journal): writing it may
   * take longer than the lease, and the lock may have been found lost meanwhile (a review found
   * the rename then replaced the new owner's snapshot). Checked once more, after the write.
   */
  private async confirmLockBeforeRename(): Promise<void> {
    const lost = this.lock.lost.value;
    if (lost !== null) throw lost;
    await this.confirmLock();
    const lostWhileConfirming = this.lock.lost.value;
    if (lostWhileConfirming !== null) throw lostWhileConfirming;
  }

  /**
   * Before each write of the recovery at open (the torn tail cut and kept aside, the sentinel, the
   * migration's renames): the scan before it takes minutes on a journal of gigabytes, and a lock
   * lost meanwhile has a new owner that cut the same tail and appended past it (a review found this
   * process's truncate then cut off the new owner's acknowledged records).
   */
  private async confirmLockBeforeRecovery(): Promise<void> {
    if (this.failedWith !== null) throw this.failedWith;
    await this.confirmLockBeforeRename();
  }

  /** Validates now (so a refused call changes nothing), appends and fsyncs in turn, then mirrors. */
  private append(operation: string, record: JournalRecord): Promise<void> {
    if (this.failedWith !== null || this.closeRequested) return Promise.reject(this.failedWith ?? closedFailure());
    // Caller mistakes are refused here: the journal encoder would throw later, failing the storage.
    if (record.kind === 'discard') requireIndexArgument('FileRaftStorage', operation, record.throughIndex);
    if (record.kind === 'batch' && record.truncateFrom !== undefined) requireIndexArgument('FileRaftStorage', operation, record.truncateFrom);
    // Below the log's start these change nothing (as in memory), and the journal's varints hold no
    // negative index: a discard there writes nothing, a truncation from there is one from the start.
    if (record.kind === 'discard' && record.throughIndex < this.bounds.firstIndex) return this.run(operation, async () => undefined);
    if (record.kind === 'batch' && record.truncateFrom !== undefined && record.truncateFrom < this.bounds.firstIndex) record = { ...record, truncateFrom: this.bounds.firstIndex };
    if (record.kind === 'batch') requireCommitIndex('FileRaftStorage', operation, record.commitIndex);
    if (record.kind !== 'discard') {
      requireStateTerms('FileRaftStorage', operation, record);
      requireEntryTerms('FileRaftStorage', record.entries);
      requireReadableCommands(record.entries);
    }
    const next = this.nextBounds(record);
    this.bounds = next;
    return this.run(operation, async () => {
      await this.confirmLock();
      const framed = frameAnchoredRecord(record, this.journalId, this.journalBytes);
      await writeWhole(this.journal, framed);
      if (this.options.fsync !== false) await this.journal.datasync();
      this.journalBytes += framed.length;
      await this.applyToMirror(record);
      if (record.kind === 'discard') await this.compactIfMostlyDead();
    });
  }

  async term(): Promise<number> {
    return this.run('term', async () => this.hardState.term);
  }

  async votedFor(): Promise<NodeId | null> {
    return this.run('votedFor', async () => this.hardState.votedFor);
  }

  async saveTermAndVotedFor(term: number, votedFor: NodeId | null): Promise<void> {
    await this.append('saveTermAndVotedFor', { kind: 'batch', hardState: { term, votedFor }, entries: [] });
  }

  async leaderForTerm(): Promise<{ term: number; leaderId: NodeId } | null> {
    return this.run('leaderForTerm', async () => (this.leaderPin === null ? null : { ...this.leaderPin }));
  }

  async saveLeaderForTerm(term: number, leaderId: NodeId): Promise<void> {
    await this.append('saveLeaderForTerm', { kind: 'batch', leaderForTerm: { term, leaderId }, entries: [] });
  }

  async commitIndex(): Promise<number> {
    return this.run('commitIndex', async () => this.mirror.peekCommitIndex());
  }

  async saveCommitIndex(index: number): Promise<void> {
    await this.append('saveCommitIndex', { kind: 'batch', entries: [], commitIndex: index });
  }

  async appendEntries(entries: readonly LogEntry[]): Promise<void> {
    // Copied now: the record is encoded and mirrored later, in turn, when the caller may have
    // reused its buffers (writeBatch, the driver's path, hands over entries it never mutates).
    await this.append('appendEntries', { kind: 'batch', entries: entries.map(copyEntry) });
  }

  async entries(fromIndex = 1): Promise<LogEntry[]> {
    requireIndexArgument('FileRaftStorage', 'entries', fromIndex);
    return this.run('entries', () => this.mirror.entries(fromIndex));
  }

  async truncateFrom(index: number): Promise<void> {
    await this.append('truncateFrom', { kind: 'batch', truncateFrom: index, entries: [] });
  }

  async writeBatch(batch: StorageBatch): Promise<void> {
    await this.append('writeBatch', { kind: 'batch', ...batch });
  }

  async saveSnapshot(meta: SnapshotMeta, state: Uint8Array): Promise<void> {
    if (this.failedWith !== null || this.closeRequested) throw this.failedWith ?? closedFailure();
    // Encoded now: a meta the codec refuses (NaN, a negative term) is the caller's mistake, a
    // RangeError that changes nothing, not a write failure that would fail the storage for good.
    const copy = state.slice();
    const file = encodeSnapshotFile(encodeSnapshotMeta(meta), copy);
    const metaCopy = copySnapshotMeta(meta); // the value at the call: the mirror takes it after the write
    this.bounds = { ...this.bounds, snapshotIndex: meta.lastIncludedIndex };
    await this.run('saveSnapshot', async () => {
      await this.confirmLock();
      await replaceFile(this.directory, snapshotFileName, file, this.options.fsync !== false, () => this.confirmLockBeforeRename());
      await this.mirror.saveSnapshot(metaCopy, copy);
    });
  }

  async loadSnapshot(): Promise<StoredSnapshot | null> {
    return this.run('loadSnapshot', () => this.mirror.loadSnapshot());
  }

  async discardLogPrefix(throughIndex: number): Promise<void> {
    await this.append('discardLogPrefix', { kind: 'discard', throughIndex });
  }

  /** Closes the journal and releases the directory; later calls reject with reason 'closed'. */
  close(): Promise<void> {
    // Once, whatever the failure: a second close must not release the lock again (another
    // process may hold it by then), and a storage failed by a write must still release it once.
    this.closeRequested = true;
    this.closing ??= (async () => {
      await this.queue.catch(() => undefined);
      this.failedWith ??= closedFailure();
      await this.journal.close().catch(() => undefined);
      this.stopWatchingLock();
      await this.lock.release();
    })();
    return this.closing;
  }

  /** Rewrites the journal as its live state alone when it is large and mostly discarded entries. */
  private async compactIfMostlyDead(): Promise<void> {
    const threshold = this.options.compactAfterBytes ?? 64 * 1024 * 1024;
    if (this.journalBytes < threshold) return;
    // Worth it only when the live state takes less than half the journal: a bound from the
    // commands alone first (each entry takes its command and a few bytes more), then the exact size.
    const { entries, firstIndex } = this.mirror.peekLog();
    let commandBytes = 0;
    for (const entry of entries) commandBytes += entry.command.length;
    if (commandBytes * 2 > this.journalBytes) return;
    let liveBytes = fileHeaderBytes;
    for (const record of recordsOfState({ hardState: this.hardState, leaderForTerm: this.leaderPin, logStart: firstIndex, entries, commitIndex: this.mirror.peekCommitIndex() })) liveBytes += recordHeaderBytes + encodeRecord(record).length;
    if (liveBytes * 2 > this.journalBytes) return;
    const path = join(this.directory, journalFileName);
    const sync = this.options.fsync !== false;
    await this.journal.close();
    let written: { readonly journalId: Uint8Array; readonly bytes: number };
    try {
      written = await this.writeJournalFile();
    } catch {
      // A full disk, say, before the rewritten journal took the name: the old one is in place and
      // whole, and the discard that led here is durable in it. The rewrite is only an economy, so
      // the discard resolves and the storage goes on; the next write meets the disk as it is.
      this.journal = await open(path, 'a');
      this.journalBytes = (await stat(path)).size;
      return;
    }
    this.journal = await open(path, 'a');
    this.journalId = written.journalId;
    this.journalBytes = written.bytes;
    if (!sync) return;
    try {
      await syncDirectory(this.directory);
    } catch (error) {
      // After the rename: a power loss may bring the old name back, so nothing written from now on
      // could be trusted to survive. The discard itself is durable in either journal and resolves;
      // every later call is refused, as after any failed write.
      this.failedWith ??= fileFailure(error, 'discardLogPrefix (rewriting the journal)');
    }
  }

  /** Bytes the journal holds now (for tests and metrics). */
  async journalSize(): Promise<number> {
    return this.run('journalSize', async () => (await stat(join(this.directory, journalFileName))).size);
  }
}

const closedFailure = (): RaftStorageError => storageFailure('closed', 'closed by its owner', undefined, 'FileRaftStorage');

/**
 * Refuses a command the journal could not read back (the codec's bound on one command), before
 * anything is written: acknowledged, it would be lost at the next open.
 */
function requireReadableCommands(entries: readonly LogEntry[]): void {
  for (const entry of entries) {
    if (entry.command.length > codecLimits.maxCommandBytes) throw new RangeError(`FileRaftStorage append: entry ${entry.index} has a command of ${entry.command.length} bytes, more than the ${codecLimits.maxCommandBytes} a log entry may hold`);
  }
}

async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

async function removeFile(path: string, directory: string, sync: boolean): Promise<void> {
  await unlink(path);
  if (sync) await syncDirectory(directory);
}

/** What `journal` is: none, the sentinel (byte for byte), or anything else (a format-1 journal). */
async function format1FileOf(path: string): Promise<'absent' | 'sentinel' | 'journal'> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw error;
  }
  try {
    if ((await handle.stat()).size !== format1Sentinel.length) return 'journal';
    const bytes = new Uint8Array(format1Sentinel.length);
    await handle.read(bytes, 0, bytes.length, 0);
    return sameBytes(bytes, format1Sentinel) ? 'sentinel' : 'journal';
  } finally {
    await handle.close();
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
