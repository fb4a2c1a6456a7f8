// The durable-state seam (API.md "Storage and transport").
import type { RaftStorageError } from '../core/errors.ts';
import type { Watchable } from '../core/observable.ts';
import type { LogEntry, NodeId, SnapshotMeta, StoredSnapshot } from '../core/types.ts';

export interface RaftStorage {
  term(): Promise<number>;
  votedFor(): Promise<NodeId | null>;
  saveTermAndVotedFor(term: number, votedFor: NodeId | null): Promise<void>;
  leaderForTerm(): Promise<{ term: number; leaderId: NodeId } | null>;
  saveLeaderForTerm(term: number, leaderId: NodeId): Promise<void>;
  /**
   * Appends contiguously after the last entry (on an empty log, right after the snapshot). An
   * entry no stored record could carry back is a caller's mistake, refused with a RangeError that
   * changes nothing and leaves the storage usable: an index past 2^53-1, a term or dedup request
   * id that is not a safe non-negative integer, a command over 16 MiB, a dedup client id or
   * configuration that nodeId/clientId and validateClusterConfig refuse (log-bounds.ts,
   * requireStorableEntries). Every storage here refuses alike, and the conformance suite checks it.
   */
  appendEntries(entries: readonly LogEntry[]): Promise<void>;
  entries(fromIndex?: number): Promise<LogEntry[]>;
  truncateFrom(index: number): Promise<void>;
  /** A meta no stored record could carry back (requireStorableSnapshotMeta) is refused, as appendEntries refuses such an entry. */
  saveSnapshot(meta: SnapshotMeta, state: Uint8Array): Promise<void>;
  loadSnapshot(): Promise<StoredSnapshot | null>;
  discardLogPrefix(throughIndex: number): Promise<void>;
  /** Optional faster path: everything one engine step must persist, atomically, in one write (its entries refused as appendEntries refuses them). */
  writeBatch?(batch: StorageBatch): Promise<void>;
  /**
   * Optional, as a pair: the highest index this node knew committed, as last saved (0 when none
   * was). A node restarting on it applies its log through that index at once, so a page reloaded
   * while no quorum is reachable shows what it had instead of its last snapshot. The engine saves
   * it only along with writes it makes anyway, and on its own once it has stood unwritten for a
   * heartbeat interval, so it may lag; it never runs ahead of the entries stored before it. A
   * storage without the pair restarts its node at the snapshot, as Raft's commit index is
   * volatile state.
   */
  commitIndex?(): Promise<number>;
  saveCommitIndex?(index: number): Promise<void>;
  /**
   * Optional: set (once, never cleared) when the storage fails outside any call, as IndexedDB does
   * when another tab deletes or upgrades the database or the browser closes the connection
   * (site data cleared). The node stops at once with this error: an idle node makes no write
   * that would tell it, and would go on leading or serving reads on state it can no longer keep.
   * A failure inside a call is reported by that call's rejection, as always.
   */
  readonly failure?: Watchable<RaftStorageError | null>;
}

/**
 * One step's durable changes, applied in this order: hard state, leader pin, truncation, append,
 * commit index (a storage without saveCommitIndex ignores the last).
 */
export interface StorageBatch {
  readonly hardState?: { readonly term: number; readonly votedFor: NodeId | null };
  readonly leaderForTerm?: { readonly term: number; readonly leaderId: NodeId };
  readonly truncateFrom?: number;
  readonly entries: readonly LogEntry[];
  readonly commitIndex?: number;
}
