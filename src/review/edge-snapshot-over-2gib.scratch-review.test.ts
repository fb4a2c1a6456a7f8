// Review finding: FileRaftStorage reads the snapshot back with one readFile, which Node refuses
// for a file over 2 GiB (ERR_FS_FILE_TOO_LARGE). saveSnapshot writes and acknowledges such a
// snapshot (RaftConfig.snapshotTotalCeiling goes up to 4 GiB, an application's own snapshot has
// no bound), and the next open refuses the directory: the node cannot restart, its acknowledged
// state unreadable. The journal had this very defect and was fixed (file-storage-over-2gib.test.ts);
// the snapshot file was not. The snapshot here is a valid one written sparse (its state is zeros),
// so the test costs little disk; it needs /tmp to take a 2.1 GiB sparse file.
import { closeSync, openSync, ftruncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodeSnapshotMeta } from '../codec/records.ts';
import { RaftStorageError } from '../core/errors.ts';
import { FileRaftStorage } from '../storage/file/file-storage.ts';
import { temporaryDirectories } from '../storage/file/temporary-directories.test-support.ts';

const freshDirectory = temporaryDirectories('raftmesh-review-big-snapshot-');
const stateBytes = 2 ** 31 + 4096; // just past what one readFile returns

/** Writes a valid snapshot file whose state is `stateBytes` zeros, sparse. */
function writeSparseSnapshot(directory: string): void {
  const meta = encodeSnapshotMeta({ lastIncludedIndex: 10, lastIncludedTerm: 2 });
  let checksum = crc32(meta);
  const zeros = new Uint8Array(64 * 1024 * 1024);
  for (let done = 0; done < stateBytes; done += zeros.length) checksum = crc32(zeros.subarray(0, Math.min(zeros.length, stateBytes - done)), checksum);
  const header = new Uint8Array(8);
  new DataView(header.buffer).setUint32(0, meta.length, true);
  new DataView(header.buffer).setUint32(4, checksum, true);
  const descriptor = openSync(join(directory, 'snapshot'), 'w');
  try {
    writeSync(descriptor, header);
    writeSync(descriptor, meta);
    ftruncateSync(descriptor, 8 + meta.length + stateBytes);
  } finally {
    closeSync(descriptor);
  }
}

describe('review: a snapshot file over 2 GiB', () => {
  it('is read back at open (not refused because Node will not read it whole)', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory, { fsync: false });
    await storage.close();
    writeSparseSnapshot(directory);
    let outcome: string;
    try {
      const reopened = await FileRaftStorage.open(directory, { fsync: false });
      const snapshot = await reopened.loadSnapshot();
      await reopened.close();
      outcome = `opened: snapshot through ${snapshot?.meta.lastIncludedIndex}, ${snapshot?.state.length} bytes`;
    } catch (error) {
      outcome = error instanceof RaftStorageError ? `refused (${error.reason}): ${error.message}` : String(error);
    }
    expect(outcome).toBe(`opened: snapshot through 10, ${stateBytes} bytes`);
  }, 120_000);
});
