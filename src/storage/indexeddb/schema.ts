// The IndexedDB schema of one node's durable state, its version and its upgrade path.
//
// Two object stores, both with out-of-line keys:
// - `state`: a few named records, each written whole: the hard state (term and vote), the
//   leader pinned for a term, the stored snapshot (meta and state together, so one never lands
//   without the other), and `logStart`, the first index the log may hold (moved by a prefix
//   discard or by an append that starts past a snapshot), and `commitIndex`, the highest index
//   the node knew committed (a number; absent in databases written before it existed, read as 0,
//   and ignored by the builds before it, so no schema version was needed).
// - `log`: segments. Each batch of contiguous entries is ONE record keyed by its first index,
//   holding the codec's packed encoding of the entries (ENVIRONMENT.md measured 100 entries in one
//   record at 0.75–1.8 ms against 6–10 ms for 100 separate puts). A truncation or discard that
//   cuts through a segment rewrites that one segment.
import type { DBSchema, IDBPDatabase } from 'idb';

export const schemaVersion = 1;

export interface HardStateRecord {
  readonly term: number;
  readonly votedFor: string | null;
}

export interface LeaderRecord {
  readonly term: number;
  readonly leaderId: string;
}

export interface SnapshotRecord {
  /** The codec's encoding of SnapshotMeta (versioned like every stored record). */
  readonly meta: Uint8Array;
  readonly state: Uint8Array;
}

export interface SegmentRecord {
  readonly lastIndex: number;
  /** The codec's packed encoding of the segment's entries (encodeLogEntries). */
  readonly entries: Uint8Array;
}

/**
 * Whether a value read back has the shape its key says. Anything else (damaged, or written by
 * another program) is refused as corrupt by the reader, never read as an absent record: a hard
 * state read as term 0 and no vote would let the node vote again in a term it already voted in.
 * The values themselves (a term's range, a node id's form) are judged by restore.
 */
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

export const isHardStateRecord = (value: unknown): value is HardStateRecord => isObject(value) && typeof value.term === 'number' && (value.votedFor === null || typeof value.votedFor === 'string');

export const isLeaderRecord = (value: unknown): value is LeaderRecord => isObject(value) && typeof value.term === 'number' && typeof value.leaderId === 'string';

export const isSnapshotRecord = (value: unknown): value is SnapshotRecord => isObject(value) && value.meta instanceof Uint8Array && value.state instanceof Uint8Array;

export const isSegmentRecord = (value: unknown): value is SegmentRecord => isObject(value) && typeof value.lastIndex === 'number' && value.entries instanceof Uint8Array;

/** What a value that is not a record of its kind is, for the corruption's message. */
export function describeStoredValue(value: unknown): string {
  if (value === null) return 'null';
  return isObject(value) ? `an object with ${JSON.stringify(Object.keys(value))}` : `a ${typeof value}`;
}

export interface RaftDatabaseSchema extends DBSchema {
  state: {
    key: 'hardState' | 'leaderForTerm' | 'snapshot' | 'logStart' | 'commitIndex';
    value: HardStateRecord | LeaderRecord | SnapshotRecord | number;
  };
  log: { key: number; value: SegmentRecord };
}

export type RaftDatabase = IDBPDatabase<RaftDatabaseSchema>;

/** The database a node named `name` keeps its state in (one database per node). */
export function databaseName(name: string): string {
  return `raftmesh:${name}`;
}

/**
 * Creates the stores from nothing (oldVersion 0). Later schema versions add a case per step
 * here, migrating in the upgrade transaction, so a database written by any earlier version of
 * the library opens; a database written by a NEWER version is refused by IndexedDB itself
 * (VersionError), which open() maps to 'versionTooNew'.
 */
export function upgradeSchema(database: RaftDatabase, oldVersion: number): void {
  if (oldVersion < 1) {
    database.createObjectStore('state');
    database.createObjectStore('log');
  }
}
