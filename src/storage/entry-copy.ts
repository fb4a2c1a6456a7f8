// A stored entry (and a snapshot's meta) is the value at the time of the call, like on a disk: the storages copy what a
// caller appends through the RaftStorage methods (a caller may reuse an encoder's buffer for
// the next command) and what they hand out (a caller may scribble on what it read).
import { copyBytes } from '../core/bytes.ts';
import type { LogEntry, SnapshotMeta } from '../core/types.ts';

/** A copy no caller shares: fresh command bytes, fresh config and dedup key objects. */
export function copyEntry(entry: LogEntry): LogEntry {
  const { config, dedupKey } = entry;
  return {
    ...entry,
    command: copyBytes(entry.command),
    ...(config === undefined ? {} : { config: structuredClone(config) }),
    ...(dedupKey === undefined ? {} : { dedupKey: { ...dedupKey } }),
  };
}

/** A snapshot's meta no caller shares: its configuration is a fresh object (the voters arrays too). */
export function copySnapshotMeta(meta: SnapshotMeta): SnapshotMeta {
  return meta.config === undefined ? { ...meta } : { ...meta, config: structuredClone(meta.config) };
}
