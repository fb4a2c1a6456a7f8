// Reads the journal at open in bounded pieces. Reading it whole stopped working at 2 GiB (Node
// refuses such a file with ERR_FS_FILE_TOO_LARGE), and a peer that never compacts (an edge peer
// without --app) keeps its whole log there: past 2 GiB it could no longer restart. Memory for the
// scan is one chunk plus, for a record larger than a chunk, that record.
import type { FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { readWhole } from './file-chunks.ts';

/** A few MiB: large enough that a big journal is read in few calls, small beside the log it holds. */
export const defaultJournalChunkBytes = 4 * 1024 * 1024;
/** The most a caller may ask for one chunk (a test asks for a few bytes). */
export const maxJournalChunkBytes = 1024 * 1024 * 1024;

export class JournalReader {
  private readonly window: Uint8Array;
  private windowStart = 0;
  private windowLength = 0;

  private constructor(
    private readonly handle: FileHandle,
    /** The journal's length when the scan began: appends cannot happen during it (the lock). */
    readonly size: number,
    /** Reads larger than this get a buffer of their own. */
    readonly chunkBytes: number,
  ) {
    this.window = new Uint8Array(chunkBytes);
  }

  static async open(handle: FileHandle, chunkBytes: number): Promise<JournalReader> {
    if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1 || chunkBytes > maxJournalChunkBytes) {
      throw new RangeError(`FileRaftStorage: a journal chunk must be 1 to ${maxJournalChunkBytes} bytes, not ${chunkBytes}`);
    }
    return new JournalReader(handle, (await handle.stat()).size, chunkBytes);
  }

  /**
   * The `length` bytes at `offset`, which must lie within the journal. Up to a chunk, a view of
   * the reader's window, good only until the next call; longer, a buffer of their own.
   */
  async bytes(offset: number, length: number): Promise<Uint8Array> {
    this.requireWithin(offset, length);
    if (offset >= this.windowStart && offset + length <= this.windowStart + this.windowLength) {
      return this.window.subarray(offset - this.windowStart, offset - this.windowStart + length);
    }
    if (length > this.chunkBytes) {
      const own = new Uint8Array(length);
      await this.readInto(own, offset);
      return own;
    }
    this.windowLength = 0; // refilled below; never left claiming bytes it does not hold
    const filled = Math.min(this.chunkBytes, this.size - offset);
    await this.readInto(this.window.subarray(0, filled), offset);
    this.windowStart = offset;
    this.windowLength = filled;
    return this.window.subarray(0, length);
  }

  /**
   * The CRC-32 of `length` bytes at `offset`, read a chunk at a time: a damaged length field may
   * declare gigabytes, and checking it must not allocate them.
   */
  async checksum(offset: number, length: number): Promise<number> {
    this.requireWithin(offset, length);
    let checksum = 0;
    for (let done = 0; done < length; ) {
      const piece = Math.min(this.chunkBytes, length - done);
      checksum = crc32(await this.bytes(offset + done, piece), checksum);
      done += piece;
    }
    return checksum;
  }

  private requireWithin(offset: number, length: number): void {
    if (offset < 0 || length < 0 || offset + length > this.size) throw new RangeError(`journal read of ${length} bytes at ${offset} is outside its ${this.size} bytes`);
  }

  /** Fills `target` from `position`, a bounded read at a time (a record may be up to 4 GiB: file-chunks.ts). */
  private async readInto(target: Uint8Array, position: number): Promise<void> {
    const endedAt = await readWhole(this.handle, target, position);
    if (endedAt !== null) throw new Error(`the journal ended at byte ${endedAt} while it was being read (${this.size} bytes when the read began)`);
  }
}
