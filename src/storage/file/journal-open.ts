// Opening a FileRaftStorage's journal: found, migrated from format 1 or created, replayed into the
// mirrored state, its torn tail cut (and kept aside), and opened for appends. Every write of this
// recovery confirms the directory lock first (JournalRecovery): the scan before it can take
// minutes, and a lock lost meanwhile has a new owner writing here.
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { sameBytes } from '../../core/bytes.ts';
import { storageFailure } from '../storage-failure.ts';
import { replaceFile, swapInFile, syncDirectory } from './atomic-file.ts';
import { format1JournalFileName, format1Sentinel } from './journal-format1.ts';
import { scanFormat1Journal } from './journal-format1-scan.ts';
import { journalFileName, journalFileOf, newJournalId } from './journal-format.ts';
import { recordsOfState } from './journal-record.ts';
import { JournalReader } from './journal-reader.ts';
import { scanJournal } from './journal-scan.ts';
import type { MirroredState } from './mirrored-state.ts';

/** The bytes of the last torn tail an open cut off (its first maxTornTailKeptBytes). */
export const tornTailFileName = `${journalFileName}.torn`;
/** A torn tail is one record, but a damaged length can make the rest of a file look like one: bounded. */
const maxTornTailKeptBytes = 64 * 1024 * 1024;

/** What opening and rewriting a journal need from the storage that owns it. */
export interface JournalRecovery {
  readonly directory: string;
  /** fsync files and the directory (FileStorageOptions.fsync). */
  readonly sync: boolean;
  /** Bytes the journal is read in. */
  readonly chunkBytes: number;
  readonly state: MirroredState;
  /** Before each write of the recovery: throws when the storage failed or the lock is lost. */
  readonly confirmLockBeforeRecovery: () => Promise<void>;
  /** Before the rename that replaces a whole file. */
  readonly confirmLockBeforeRename: () => Promise<void>;
}

/** A journal open for appends: its handle, its id (every record's anchor names it) and its length. */
export interface OpenJournal {
  readonly handle: FileHandle;
  readonly journalId: Uint8Array;
  readonly bytes: number;
}

/**
 * Finds, migrates or creates the journal, replays it into the state, and opens it for appends.
 * Beside `journal.v2` lies a `journal` that builds before format 2 refuse (journal-format1.ts,
 * format1Sentinel): without it they opened a migrated directory as an empty log, free to vote
 * again in a term it had voted in. A format-1 journal is read where it is, renamed aside
 * (`journal.format1`), written whole as `journal.v2` by rename, the sentinel put in its place,
 * and only then the old copy removed: a crash anywhere leaves one whole journal to read. A
 * `journal` that is not the sentinel beside `journal.v2` means an older build wrote here after
 * this one (it found no sentinel): refused, since neither can be trusted to be the newer.
 */
export async function openJournal(recovery: JournalRecovery): Promise<OpenJournal> {
  const { directory, sync } = recovery;
  const path = join(directory, journalFileName);
  const format1Path = join(directory, format1JournalFileName);
  const asidePath = join(directory, `${format1JournalFileName}.format1`);
  const [current, format1, aside] = await Promise.all([fileExists(path), format1FileOf(format1Path), fileExists(asidePath)]);
  const sentinelInPlace = format1 === 'sentinel';
  if (current && format1 === 'journal') {
    throw storageFailure('corruptRecord', `opening ${directory}`, undefined, 'FileRaftStorage', `both ${format1JournalFileName} (journal format 1) and ${journalFileName} are here: a build before 2026-12-04 wrote in this directory after this one did, and neither journal can be trusted to be the newer; keep the one you trust and move the other away`);
  }
  if (!current && sentinelInPlace) {
    // The sentinel is only ever written after journal.v2 took its name: the journal is gone, not new.
    throw storageFailure('corruptRecord', `opening ${directory}`, undefined, 'FileRaftStorage', `${journalFileName} is missing, but ${format1JournalFileName} says this directory held one: refusing to start again from an empty log; restore ${journalFileName} (or remove the whole directory to join as a new member)`);
  }
  let journal: OpenJournal;
  if (!current) {
    // A new directory, or one a build before format 2 wrote (or a migration a crash stopped).
    // Read where it is first: a journal refused (damaged) is left as it was found.
    const migrating = format1 === 'journal';
    if (migrating || aside) await replayFormat1(recovery, migrating ? format1Path : asidePath);
    if (migrating) {
      await recovery.confirmLockBeforeRecovery();
      await rename(format1Path, asidePath);
      if (sync) await syncDirectory(directory);
    }
    const written = await writeJournalFile(recovery);
    journal = { handle: await open(path, 'a'), ...written };
  } else {
    journal = await openCurrentJournal(recovery, path);
  }
  // The handle is open from here: a step that fails closes it, or each failed open (a full disk
  // refusing the sentinel, retried by a supervisor in-process) would leave a descriptor behind.
  try {
    if (!current && sync) await syncDirectory(directory);
    // Appends go to the end of the file, anchors name the journal's length: the two must agree, or
    // every later record would fail its anchor and be cut at the next open as a torn tail.
    const size = (await journal.handle.stat()).size;
    if (size !== journal.bytes) throw new Error(`${path} is ${size} bytes where ${journal.bytes} were written or read`);
    // Only now that journal.v2 has been read whole (or written) are the sentinel put in place and
    // the old copy removed.
    if (!sentinelInPlace) {
      await recovery.confirmLockBeforeRecovery();
      await replaceFile(directory, format1JournalFileName, format1Sentinel, sync, recovery.confirmLockBeforeRename);
    }
    if (aside || format1 === 'journal') {
      await recovery.confirmLockBeforeRecovery();
      await removeFile(asidePath, directory, sync);
    }
    return journal;
  } catch (error) {
    await journal.handle.close().catch(() => undefined);
    throw error;
  }
}

/**
 * Writes the live state as a new journal (a fresh id, the header, a reset record and batches)
 * under a temporary name, fsyncs it and renames it over `journal.v2`; the directory is the
 * caller's to fsync. A failure before the rename leaves the old journal, if any, in place.
 */
export async function writeJournalFile(recovery: JournalRecovery): Promise<{ readonly journalId: Uint8Array; readonly bytes: number }> {
  const journalId = newJournalId();
  const records = recordsOfState(recovery.state.journalState());
  const bytes = await swapInFile(recovery.directory, journalFileName, journalFileOf(journalId, records), recovery.sync, recovery.confirmLockBeforeRename);
  return { journalId, bytes };
}

/** Reads journal.v2, cuts a torn tail (keeping its bytes in `journal.v2.torn`), and opens it for appends. */
async function openCurrentJournal(recovery: JournalRecovery, path: string): Promise<OpenJournal> {
  const { directory, sync } = recovery;
  // Read and appended through one handle ('a+': reads at a position, writes at the end).
  const journal = await open(path, 'a+');
  try {
    const reader = await JournalReader.open(journal, recovery.chunkBytes);
    const { journalId, validBytes } = await scanJournal(reader, path, (record) => recovery.state.replay(record, path));
    if (validBytes < reader.size) {
      // A torn tail: the call that wrote it never resolved. Cut it so appends follow valid data,
      // its bytes kept aside first: damage to the last record's payload reads the same as a
      // torn append (no format can tell them apart), and cutting must not destroy the evidence.
      const kept = Math.min(reader.size - validBytes, maxTornTailKeptBytes);
      await recovery.confirmLockBeforeRecovery();
      await replaceFile(directory, tornTailFileName, await reader.bytes(validBytes, kept), sync, recovery.confirmLockBeforeRename);
      await recovery.confirmLockBeforeRecovery();
      await journal.truncate(validBytes);
    }
    if (sync) {
      await journal.sync();
      await syncDirectory(directory);
    }
    return { handle: journal, journalId, bytes: validBytes };
  } catch (error) {
    await journal.close().catch(() => undefined);
    throw error;
  }
}

/** Replays a format-1 journal into the state (its torn tail, if any, is left where it is: the file goes). */
async function replayFormat1(recovery: JournalRecovery, path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    const reader = await JournalReader.open(handle, recovery.chunkBytes);
    await scanFormat1Journal(reader, path, (record) => recovery.state.replay(record, path));
  } finally {
    await handle.close();
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
