// The durable-state seam (API.md "Storage and transport").
import type { LogEntry, NodeId, SnapshotMeta, StoredSnapshot } from '../core/types.ts';

export interface RaftStorage {
  term(): Promise<number>;
  votedFor(): Promise<NodeId | null>;
  saveTermAndVotedFor(term: number, votedFor: NodeId | null): Promise<void>;
  leaderForTerm(): Promise<{ term: number; leaderId: NodeId } | null>;
  saveLeaderForTerm(term: number, leaderId: NodeId): Promise<void>;
  appendEntries(entries: readonly LogEntry[]): Promise<void>;
  entries(fromIndex?: number): Promise<LogEntry[]>;
  truncateFrom(index: number): Promise<void>;
  saveSnapshot(meta: SnapshotMeta, state: Uint8Array): Promise<void>;
  loadSnapshot(): Promise<StoredSnapshot | null>;
  discardLogPrefix(throughIndex: number): Promise<void>;
  /** Optional faster path: everything one engine step must persist, atomically, in one write. */
  writeBatch?(batch: StorageBatch): Promise<void>;
}

/** One step's durable changes, applied in this order: hard state, leader pin, truncation, append. */
export interface StorageBatch {
  readonly hardState?: { readonly term: number; readonly votedFor: NodeId | null };
  readonly leaderForTerm?: { readonly term: number; readonly leaderId: NodeId };
  readonly truncateFrom?: number;
  readonly entries: readonly LogEntry[];
}
