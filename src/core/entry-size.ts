// Upper bounds of encoded sizes, so batches are cut before they could exceed a frame limit.
import type { DedupKey, LogEntry } from './types.ts';

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
