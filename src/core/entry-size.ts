// Upper bounds of encoded sizes, so batches are cut before they could exceed a frame limit.
import type { RaftLog } from './raft-log.ts';
import type { DedupKey, LogEntry } from './types.ts';

/** Entries one AppendEntries (or catch-up) frame carries at most, whatever their size. */
export const maxEntriesPerAppend = 50_000;

/**
 * The last index of a batch that follows `prevLogIndex` in `log` and fits `maxBytes` (frame
 * overhead included in `startBytes`); at least one entry when there is one, even a larger one.
 */
export function batchEnd(log: RaftLog, prevLogIndex: number, startBytes: number, maxBytes: number): number {
  let bytes = startBytes;
  let lastIndex = prevLogIndex;
  while (lastIndex < log.lastIndex && lastIndex - prevLogIndex < maxEntriesPerAppend) {
    const entry = log.entryAt(lastIndex + 1) as LogEntry;
    const size = encodedSizeBound(entry);
    if (lastIndex > prevLogIndex && bytes + size > maxBytes) break;
    bytes += size;
    lastIndex += 1;
  }
  return lastIndex;
}

/** Fixed bytes per entry besides its command (term, flags, lengths, request id). */
export const entryOverheadBytes = 48;

/** An upper bound of an entry's encoded size (ids are at most 3 UTF-8 bytes per unit). */
export function encodedSizeBound(entry: LogEntry): number {
  let size = commandEntrySizeBound(entry.command.length, entry.dedupKey);
  const config = entry.config;
  if (config !== undefined) {
    for (const half of [config.old, config.new]) {
      if (half === null) continue;
      for (const id of [...half.voters, ...(half.learners ?? [])]) size += id.length * 3 + 4;
      size += 8;
    }
  }
  return size;
}


/** The bound for an application command's entry (no config), before the entry exists. */
export function commandEntrySizeBound(commandBytes: number, dedupKey: DedupKey | null | undefined): number {
  return commandBytes + entryOverheadBytes + (dedupKey == null ? 0 : dedupKey.clientId.length * 3 + 12);
}
