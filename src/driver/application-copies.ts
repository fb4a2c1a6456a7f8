// What the node hands the application (the entry propose() resolves with, the entries and
// snapshots committed() yields) is the application's own: a copy with an ArrayBuffer of its own.
// Inside the engine, bytes share buffers (command-copier.ts packs small commands into 64 KiB
// slabs; a follower's entries are views into the frames it received; in-memory storage keeps the
// very objects), and an application that transferred one entry's `command.buffer` (postMessage
// or structuredClone with a transfer list, the usual way to hand bytes to a worker) detached every
// other entry in that buffer: entries still to be replicated, what storage held, and a later
// encode threw inside a step and stopped the node. One copy per handed-out item keeps the
// engine's cheap sharing (a copy per command costs about 1.2 µs on the propose path, see
// command-copier.ts) and frees the application to keep, mutate or transfer what it was given;
// it also means a kept entry no longer pins a whole slab or frame. Copied with copyBytes, not
// slice(), which on a Node Buffer is a view of the same memory.
import { copyBytes } from '../core/bytes.ts';
import type { Committed, LogEntry, Snapshot } from '../core/types.ts';

export function entryForApplication(entry: LogEntry): LogEntry {
  return { ...entry, command: copyBytes(entry.command) };
}

/** A snapshot's state too: the core keeps sending it to followers that need it. */
export function committedForApplication(committed: Committed): Committed {
  switch (committed.type) {
    case 'entry':
      return { type: 'entry', entry: entryForApplication(committed.entry) };
    case 'install':
      return { type: 'install', snapshot: snapshotForApplication(committed.snapshot) };
    case 'internal':
      return committed;
    default:
      return committed satisfies never;
  }
}

function snapshotForApplication(snapshot: Snapshot): Snapshot {
  return { throughIndex: snapshot.throughIndex, state: copyBytes(snapshot.state) };
}
