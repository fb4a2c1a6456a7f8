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
// - `owner`: the node the directory belongs to, when opened with FileStorageOptions.nodeId
//   (directory-owner.ts): another node's id is refused before anything is written.
// When prefix discards have left the journal mostly dead, it is rewritten as its live state (a
// `reset` record, then batches of ~64 MiB) and replaced the same atomic way.
//
// The live state is mirrored in memory (mirrored-state.ts), so reads never touch the disk; the
// mirror changes only after the record is durable. Calls run one at a time, in call order. Opening
// (finding, migrating, replaying and repairing the journal) is journal-open.ts.
import { copyBytes } from '../../core/bytes.ts';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeSnapshotMeta } from '../../codec/records.ts';
import type { RaftStorageError } from '../../core/errors.ts';
import { createWatchable, type Watchable } from '../../core/observable.ts';
import type { LogEntry, NodeId, SnapshotMeta, StoredSnapshot } from '../../core/types.ts';
import { copyEntry, copySnapshotMeta } from '../entry-copy.ts';
import { requireCommitIndex, requireIndexArgument, requireStateTerms, requireStorableEntries, requireStorableSnapshotMeta } from '../log-bounds.ts';
import type { RaftStorage, StorageBatch } from '../raft-storage.ts';
import { removeStaleTemporaries, replaceFile, syncDirectory } from './atomic-file.ts';
import { writeWhole } from './file-chunks.ts';
import { acquireDirectoryLock, type DirectoryLock } from './directory-lock.ts';
import { defaultLeaseTiming, type LeaseTiming } from './directory-lease.ts';
import { closedFailure, fileFailure } from './file-failure.ts';
import { makeDirectory } from './make-directory.ts';
import { checkBeforeOpen, ownerFileName, ownershipOptionsOf, recordOwner } from './directory-owner.ts';
import { format1JournalFileName } from './journal-format1.ts';
import { fileHeaderBytes, frameAnchoredRecord, journalFileName, recordHeaderBytes } from './journal-format.ts';
import { openJournal, tornTailFileName, writeJournalFile, type JournalRecovery } from './journal-open.ts';
import { encodeRecord, recordsOfState, type JournalRecord } from './journal-record.ts';
import { defaultJournalChunkBytes } from './journal-reader.ts';
import { MirroredState } from './mirrored-state.ts';
import { encodeSnapshotFile, readSnapshotFile, snapshotFileName } from './snapshot-file.ts';

export { fileFailure } from './file-failure.ts';

export interface FileStorageOptions {
  /** fsync every record (default true). false is for tests and throwaway nodes only. */
  readonly fsync?: boolean;
  /** Rewrite the journal once it exceeds this many bytes and is mostly discarded. Default 64 MiB. */
  readonly compactAfterBytes?: number;
  /**
   * The node this directory belongs to: recorded at the first open that gives it, and checked at
   * every later open that gives it; another id is refused (RaftStorageError 'wrongOwner') before
   * anything is written. Without it nothing is checked (as before this option).
   */
  readonly nodeId?: string;
  /**
   * false: refuse (RaftStorageError 'notFound') a directory that is missing or holds no journal or
   * snapshot, instead of starting an empty log there. Default true: created as needed.
   */
  readonly create?: boolean;
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

export class FileRaftStorage implements RaftStorage {
  private queue: Promise<unknown> = Promise.resolve();
  private failedWith: RaftStorageError | null = null;
  /** Set by a failure outside any call (the lock lost): the node on this storage stops then. */
  private readonly failed = createWatchable<RaftStorageError | null>(null);
  private readonly stopWatchingLock: () => void;
  private closing: Promise<void> | null = null;
  /** Set by close() at once: calls made after it are refused, calls made before it finish. */
  private closeRequested = false;
  /** Set by open, before the storage is handed out. */
  private journal!: FileHandle;
  /** The journal file's id (journal-format.ts): every record's anchor names it. */
  private journalId!: Uint8Array;
  /** The journal's length: where the next record goes, the offset its anchor names. */
  private journalBytes = 0;

  private constructor(
    readonly directory: string,
    private readonly state: MirroredState,
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
    const ownership = ownershipOptionsOf(options);
    let lock: DirectoryLock;
    try {
      // Before anything is written, the lock included: a mistyped path or another node's directory.
      await checkBeforeOpen(directory, ownership);
      if (ownership.create) await makeDirectory(directory, { sync: options.fsync !== false });
      lock = await acquireDirectoryLock(directory, 'FileRaftStorage', (options as InternalFileStorageOptions).leaseTiming ?? defaultLeaseTiming);
    } catch (error) {
      throw fileFailure(error, 'open');
    }
    try {
      // Each write has a temporary file of its own, so nothing else would ever remove a crash's.
      await removeStaleTemporaries(directory, [snapshotFileName, journalFileName, format1JournalFileName, tornTailFileName, ownerFileName]);
      const state = new MirroredState();
      const snapshot = await readSnapshotFile(directory);
      if (snapshot !== null) await state.startFromSnapshot(snapshot);
      // Reading a large snapshot takes seconds: a lock lost meanwhile refuses the open before the
      // journal's recovery writes anything beside the lock's new owner.
      if (lock.lost.value !== null) throw lock.lost.value;
      const storage = new FileRaftStorage(directory, state, options, lock);
      await recordOwner(directory, ownership, options.fsync !== false, () => storage.confirmLockBeforeRename());
      const journal = await openJournal(storage.recovery);
      storage.journal = journal.handle;
      storage.journalId = journal.journalId;
      storage.journalBytes = journal.bytes;
      return storage;
    } catch (error) {
      await lock.release();
      throw fileFailure(error, 'open');
    }
  }

  /** What opening and rewriting the journal need from this storage. */
  private get recovery(): JournalRecovery {
    return {
      directory: this.directory,
      sync: this.options.fsync !== false,
      chunkBytes: (this.options as InternalFileStorageOptions).journalChunkBytes ?? defaultJournalChunkBytes,
      state: this.state,
      confirmLockBeforeRecovery: () => this.confirmLockBeforeRecovery(),
      confirmLockBeforeRename: () => this.confirmLockBeforeRename(),
    };
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
    if (record.kind === 'discard' && record.throughIndex < this.state.bounds.firstIndex) return this.run(operation, async () => undefined);
    if (record.kind === 'batch' && record.truncateFrom !== undefined && record.truncateFrom < this.state.bounds.firstIndex) record = { ...record, truncateFrom: this.state.bounds.firstIndex };
    if (record.kind === 'batch') requireCommitIndex('FileRaftStorage', operation, record.commitIndex);
    if (record.kind !== 'discard') {
      requireStateTerms('FileRaftStorage', operation, record);
      requireStorableEntries('FileRaftStorage', record.entries);
    }
    this.state.bounds = this.state.nextBounds(record);
    return this.run(operation, async () => {
      await this.confirmLock();
      const framed = frameAnchoredRecord(record, this.journalId, this.journalBytes);
      await writeWhole(this.journal, framed);
      if (this.options.fsync !== false) await this.journal.datasync();
      this.journalBytes += framed.length;
      await this.state.apply(record);
      if (record.kind === 'discard') await this.compactIfMostlyDead();
    });
  }

  async term(): Promise<number> {
    return this.run('term', async () => this.state.hardState.term);
  }

  async votedFor(): Promise<NodeId | null> {
    return this.run('votedFor', async () => this.state.hardState.votedFor);
  }

  async saveTermAndVotedFor(term: number, votedFor: NodeId | null): Promise<void> {
    await this.append('saveTermAndVotedFor', { kind: 'batch', hardState: { term, votedFor }, entries: [] });
  }

  async leaderForTerm(): Promise<{ term: number; leaderId: NodeId } | null> {
    return this.run('leaderForTerm', async () => (this.state.leaderPin === null ? null : { ...this.state.leaderPin }));
  }

  async saveLeaderForTerm(term: number, leaderId: NodeId): Promise<void> {
    await this.append('saveLeaderForTerm', { kind: 'batch', leaderForTerm: { term, leaderId }, entries: [] });
  }

  async commitIndex(): Promise<number> {
    return this.run('commitIndex', async () => this.state.commitIndex());
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
    return this.run('entries', () => this.state.entries(fromIndex));
  }

  async truncateFrom(index: number): Promise<void> {
    await this.append('truncateFrom', { kind: 'batch', truncateFrom: index, entries: [] });
  }

  async writeBatch(batch: StorageBatch): Promise<void> {
    await this.append('writeBatch', { kind: 'batch', ...batch });
  }

  async saveSnapshot(meta: SnapshotMeta, state: Uint8Array): Promise<void> {
    if (this.failedWith !== null || this.closeRequested) throw this.failedWith ?? closedFailure();
    // Checked now: a meta the codec refuses (NaN, a negative term) or could not read back (a
    // configuration naming a voter twice) is the caller's mistake, a RangeError that changes
    // nothing, not a write failure that would fail the storage for good or a snapshot file that
    // fails the next open.
    requireStorableSnapshotMeta('FileRaftStorage', meta);
    const copy = copyBytes(state);
    const file = encodeSnapshotFile(encodeSnapshotMeta(meta), copy);
    const metaCopy = copySnapshotMeta(meta); // the value at the call: the mirror takes it after the write
    this.state.bounds = { ...this.state.bounds, snapshotIndex: meta.lastIncludedIndex };
    await this.run('saveSnapshot', async () => {
      await this.confirmLock();
      await replaceFile(this.directory, snapshotFileName, file, this.options.fsync !== false, () => this.confirmLockBeforeRename());
      await this.state.saveSnapshot(metaCopy, copy);
    });
  }

  async loadSnapshot(): Promise<StoredSnapshot | null> {
    return this.run('loadSnapshot', () => this.state.loadSnapshot());
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
    if (this.state.liveCommandBytes() * 2 > this.journalBytes) return;
    let liveBytes = fileHeaderBytes;
    for (const record of recordsOfState(this.state.journalState())) liveBytes += recordHeaderBytes + encodeRecord(record).length;
    if (liveBytes * 2 > this.journalBytes) return;
    const path = join(this.directory, journalFileName);
    const sync = this.options.fsync !== false;
    await this.journal.close();
    let written: { readonly journalId: Uint8Array; readonly bytes: number };
    try {
      written = await writeJournalFile(this.recovery);
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
