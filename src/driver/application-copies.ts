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
import type { ClusterConfig, Committed, LogEntry, Snapshot } from '../core/types.ts';

/**
 * What a node hands out: copies (createRaftNode's, to an application), or the engine's own
 * objects (the worker host's node: everything it hands out is packed into an event batch for the
 * page, a copy already, and the page copies again for its application; copying in the worker as
 * well cost 4 backing stores per commit across a cluster, about a fifth of the throughput at
 * saturation, `npm run bench:browser-diagnose`, 2026-12-07, third session).
 */
export interface HandOut {
  entry(entry: LogEntry): LogEntry;
  committed(committed: Committed): Committed;
}

export const applicationCopies: HandOut = { entry: entryForApplication, committed: committedForApplication };

export const engineObjects: HandOut = { entry: (entry) => entry, committed: (committed) => committed };

/**
 * The dedup key too: the log, the leader's dedup cache and in-memory storage hold the very key
 * object, by which the leader judges exactly-once and client identity (a review of the session's
 * fixes, 2026-12-07). Entries with a configuration never come here: committed() yields them as
 * 'internal', and propose() is for commands.
 */
export function entryForApplication(entry: LogEntry): LogEntry {
  const { dedupKey } = entry;
  return { ...entry, command: copyBytes(entry.command), ...(dedupKey === undefined ? {} : { dedupKey: { ...dedupKey } }) };
}

/**
 * A configuration the application may keep but not change: the core's own object is what it
 * decides quorums and replicates by, and TypeScript's `readonly` binds no JavaScript caller. Frozen
 * rather than copied per reader, so the one copy made when the configuration changes can go to
 * every listener and caller (membership, changeMembership).
 */
export function frozenClusterConfig(config: ClusterConfig): ClusterConfig {
  const voters = Object.freeze([...config.voters]);
  return Object.freeze(config.learners === undefined ? { voters } : { voters, learners: Object.freeze([...config.learners]) });
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

/**
 * frozenClusterConfig of the current configuration, made once each time the core's object changes:
 * the driver asks for it on every step (publish), and a configuration changes rarely.
 */
export function membershipCopier(current: () => ClusterConfig): () => ClusterConfig {
  let copiedFrom: ClusterConfig | null = null;
  let copy: ClusterConfig | null = null;
  return () => {
    const config = current();
    if (copy === null || copiedFrom !== config) {
      copiedFrom = config;
      copy = frozenClusterConfig(config);
    }
    return copy;
  };
}
