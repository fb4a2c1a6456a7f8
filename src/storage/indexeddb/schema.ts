// The IndexedDB schema of one node's durable state, its version and its upgrade path.
//
// Two object stores, both with out-of-line keys:
// - `state`: a few named records, each written whole: the hard state (term and vote), the
//   leader pinned for a term, the stored snapshot (meta and state together, so one never lands
//   without the other), and `logStart`, the first index the log may hold (moved by a prefix
//   discard or by an append that starts past a snapshot), and `commitIndex`, the highest index
//   the node knew committed (a number; absent in databases written before it existed, read as 0,
//   and ignored by the builds before it, so no schema version was needed), and `dataLost`, the
//   browser's own words when it recreated the database after deleting a corrupt one (Chromium
//   does that on the open after a torn write, reporting it only in that open's upgradeneeded
//   event); while it is there the database refuses to open (DataLostRecord, below).
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

/**
 * The browser deleted this node's database and made an empty one in its place: Chromium does so
 * when it finds its files corrupt, which a SIGKILL in the middle of a write can leave (3 and 2 of
 * 60 kills, strict and relaxed, `npm run bench:indexeddb-kill`, 2026-12-06), and says so only through
 * the `dataLoss` field of that open's upgradeneeded event. The empty database would otherwise
 * pass for a node that never existed: one that votes again in terms it already voted in and
 * forgets entries a quorum counted on it for. Kept until the database is destroyed.
 */
export interface DataLostRecord {
  readonly dataLoss: string;
  readonly message: string;
}

export const isDataLostRecord = (value: unknown): value is DataLostRecord => isObject(value) && typeof value.dataLoss === 'string' && typeof value.message === 'string';

/** What an upgradeneeded event says the browser lost before it ran ('total' for a deleted database); null when nothing. */
export function reportedDataLoss(event: Event | undefined): DataLostRecord | null {
  const fields = event as { dataLoss?: unknown; dataLossMessage?: unknown } | undefined;
  if (fields?.dataLoss !== 'total') return null;
  return { dataLoss: 'total', message: typeof fields.dataLossMessage === 'string' ? fields.dataLossMessage : '' };
}

export interface RaftDatabaseSchema extends DBSchema {
  state: {
    key: 'hardState' | 'leaderForTerm' | 'snapshot' | 'logStart' | 'commitIndex' | 'dataLost';
    value: HardStateRecord | LeaderRecord | SnapshotRecord | DataLostRecord | number;
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
export function upgradeSchema(database: RaftDatabase, oldVersion: number, dataLost: DataLostRecord | null = null): void {
  if (oldVersion < 1) {
    const state = database.createObjectStore('state');
    database.createObjectStore('log');
    // In the same transaction as the stores: no open can see the empty database without it.
    if (dataLost !== null) void state.put(dataLost, 'dataLost');
  }
}
