// Every bound the codec enforces, in one place. A frame must fit comfortably in memory on a
// phone; transports split frames into 16 KiB chunks, so these bound reassembly too.
import { maxConfigMembers } from '../core/types.ts';

export const codecLimits = {
  /** Largest frame decoded at all: refused before parsing. */
  maxFrameBytes: 64 * 1024 * 1024,
  /** Entries one AppendEntries may carry (the engine sends far fewer: it batches by bytes). */
  maxEntriesPerFrame: 100_000,
  /** Largest single command (an application write). */
  maxCommandBytes: 16 * 1024 * 1024,
  /** Voters, and learners, listed in one cluster configuration (validateClusterConfig's bound). */
  maxConfigMembers,
  /** Largest snapshot chunk in one InstallSnapshot. */
  maxSnapshotChunkBytes: 16 * 1024 * 1024,
  /** Longest id string in bytes (UTF-8): ids are bounded to 256 UTF-16 units, at most 3 bytes each. */
  maxIdBytes: 768,
} as const;

/** The wire format version written as the first byte of every frame and record. */
export const codecVersion = 1;
