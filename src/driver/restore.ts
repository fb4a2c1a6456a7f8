// Reads a node's durable state at start and refuses corrupted state with a clear error
// (SPEC "Storage contract") instead of starting an engine on it. It only reads: a compaction a
// crash interrupted is reported for the driver to finish with its first write.
import type { ConfigPayload, LogEntry, NodeId, SnapshotMeta, StoredSnapshot } from '../core/types.ts';
import { isValidCounter, maxIdLength, nodeId, validateClusterConfig } from '../core/types.ts';
import type { RaftStorage } from '../storage/raft-storage.ts';

export interface RestoredState {
  readonly term: number;
  readonly votedFor: NodeId | null;
  readonly leaderPin: { readonly term: number; readonly leaderId: NodeId } | null;
  readonly snapshot: StoredSnapshot | null;
  readonly entries: readonly LogEntry[];
  /**
   * Set when a crash interrupted a compaction: a snapshot is stored by two atomic calls,
   * saveSnapshot then discardLogPrefix, and a crash between them leaves a log that lies wholly
   * at or below the snapshot (an installed snapshot past the end of the log, say). Nothing after
   * the snapshot is lost, but the storage would refuse the next append, at the snapshot's index
   * + 1, as a gap, and the node would stop at its first write. The driver discards through this
   * index before that write. (Not here: restore only reads, so a storage whose writes land only as
   * a virtual clock advances still starts.)
   */
  readonly interruptedCompactionThrough: number | null;
  /**
   * The stored commit index (RaftStorage.commitIndex; 0 from a storage without it), raised to the
   * snapshot's index: a crash can land a snapshot and lose the commit index written after it.
   */
  readonly commitIndex: number;
}

export class CorruptStorageError extends Error {
  constructor(detail: string) {
    super(`raftmesh refuses to start on corrupted storage: ${detail}`);
    this.name = 'CorruptStorageError';
  }
}

export async function restoreState(storage: RaftStorage): Promise<RestoredState> {
  const term = await storage.term();
  const votedFor = await storage.votedFor();
  const leaderPin = await storage.leaderForTerm();
  const snapshot = await storage.loadSnapshot();
  if (!isValidCounter(term)) throw new CorruptStorageError(`term ${String(term)} is not a safe non-negative integer`);
  if (votedFor !== null) requireStoredNodeId(votedFor, 'votedFor');
  // Every campaign is for a term above 0, so a vote can only be cast in one.
  if (votedFor !== null && term === 0) throw new CorruptStorageError(`a vote for ${JSON.stringify(votedFor)} is stored in term 0, where no election is held`);
  if (leaderPin !== null) requireStoredNodeId(leaderPin.leaderId, 'the pinned leader');
  if (leaderPin !== null && (!isValidCounter(leaderPin.term) || leaderPin.term > term)) {
    throw new CorruptStorageError(`leader pin term ${leaderPin.term} is beyond the stored term ${term}`);
  }
  if (snapshot !== null) validateSnapshotMeta(snapshot.meta, term);
  // Read once the snapshot's index is known good: a stored index the log cannot go past would
  // otherwise surface as the storage refusing its own argument, not as damaged storage.
  const floor = snapshot?.meta.lastIncludedIndex ?? 0;
  const entries = (await storage.entries(floor + 1)).filter((entry) => entry.index > floor);
  // The application gets these bytes back at the install; anything else would fail inside its code.
  if (snapshot !== null && !(snapshot.state instanceof Uint8Array)) throw new CorruptStorageError(`the snapshot through ${snapshot.meta.lastIncludedIndex} holds no bytes (its state is ${typeof snapshot.state})`);
  validateEntries(entries, floor, snapshot?.meta.lastIncludedTerm ?? 0, term);
  // Only when nothing follows the snapshot is the whole log read, and then it holds at most what
  // lies at or below the snapshot: nothing after a clean compaction, little with a trailing tail.
  // Those entries are never read again (filtered out above), so discarding a tail is no loss.
  const interruptedCompactionThrough = snapshot !== null && entries.length === 0 && (await storage.entries()).length > 0 ? floor : null;
  const commitIndex = await restoreCommitIndex(storage, floor, entries[entries.length - 1]?.index ?? floor);
  return { term, votedFor, leaderPin, snapshot, entries, interruptedCompactionThrough, commitIndex };
}

/**
 * The engine stores a commit index only with (or after) the entries through it, so one beyond the
 * stored log means the storage lost entries it had acknowledged: applying what is left would hand
 * the application a history with a hole, so the node refuses to start.
 */
async function restoreCommitIndex(storage: RaftStorage, floor: number, lastIndex: number): Promise<number> {
  if (storage.commitIndex === undefined) return floor;
  const stored = await storage.commitIndex();
  if (!isValidCounter(stored)) throw new CorruptStorageError(`commit index ${String(stored)} is not a safe non-negative integer`);
  if (stored > lastIndex) throw new CorruptStorageError(`commit index ${stored} is beyond the last stored index ${lastIndex}: entries stored before it are missing`);
  return Math.max(stored, floor);
}

function validateSnapshotMeta(meta: SnapshotMeta, term: number): void {
  if (!isValidCounter(meta.lastIncludedIndex) || !isValidCounter(meta.lastIncludedTerm)) {
    throw new CorruptStorageError('snapshot meta has an index or term out of range');
  }
  if (meta.lastIncludedIndex >= Number.MAX_SAFE_INTEGER) {
    throw new CorruptStorageError(`snapshot index ${meta.lastIncludedIndex} leaves no index for the entry after it (the largest is ${Number.MAX_SAFE_INTEGER - 1})`);
  }
  // Index 0 is the empty log, whose term is 0; every entry after it has a term of at least 1.
  if ((meta.lastIncludedIndex === 0) !== (meta.lastIncludedTerm === 0)) {
    throw new CorruptStorageError(`snapshot meta pairs index ${meta.lastIncludedIndex} with term ${meta.lastIncludedTerm}: index 0 has term 0, and every later index a term of at least 1`);
  }
  if (meta.lastIncludedTerm > term) {
    throw new CorruptStorageError(`snapshot term ${meta.lastIncludedTerm} is beyond the stored term ${term}`);
  }
  if (meta.config !== undefined) validateConfigPayload(meta.config, `the snapshot through ${meta.lastIncludedIndex}`);
}

/** The same rule as every id the engine accepts (nodeId), reported as corruption here. */
function requireStoredNodeId(value: unknown, what: string): void {
  try {
    nodeId(value as string);
  } catch (error) {
    throw new CorruptStorageError(`${what} ${JSON.stringify(value)} is not a node id: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * A stored configuration the engine would adopt as its membership: one with no voter, a
 * duplicate or an id both voter and learner would make every quorum count wrong, so the node
 * refuses to start instead of electing or committing on it.
 */
function validateConfigPayload(payload: ConfigPayload, where: string): void {
  try {
    if (payload.old !== null) validateClusterConfig(payload.old);
    validateClusterConfig(payload.new);
  } catch (error) {
    throw new CorruptStorageError(`${where} holds an invalid configuration: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * A dedup key is replicated to every peer and handed to the application's ClientSessionTable:
 * one the wire cannot carry (a request id past 2^53) or the table refuses would stop this node,
 * or every replica, at the first send or apply instead of here with the entry named.
 */
function validateDedupKey(key: unknown, index: number): void {
  const candidate = key as Partial<Record<'clientId' | 'requestId', unknown>> | null;
  const wellFormed =
    typeof key === 'object' &&
    candidate !== null &&
    typeof candidate.clientId === 'string' &&
    candidate.clientId.length > 0 &&
    candidate.clientId.length <= maxIdLength &&
    typeof candidate.requestId === 'number' &&
    isValidCounter(candidate.requestId);
  if (!wellFormed) {
    throw new CorruptStorageError(`entry ${index} has a malformed dedup key ${JSON.stringify(key)}: it needs a client id of 1..${maxIdLength} characters and a safe non-negative integer request id`);
  }
}

function validateEntries(entries: readonly LogEntry[], floor: number, floorTerm: number, term: number): void {
  let expectedIndex = floor + 1;
  let previousTerm = floorTerm;
  for (const entry of entries) {
    if (entry.index !== expectedIndex) {
      throw new CorruptStorageError(`log is not contiguous: expected index ${expectedIndex}, found ${entry.index}`);
    }
    if (!isValidCounter(entry.term) || entry.term < previousTerm) {
      throw new CorruptStorageError(`log terms decrease at index ${entry.index} (${previousTerm} then ${entry.term})`);
    }
    // Only a leader appends, and no one leads term 0.
    if (entry.term === 0) throw new CorruptStorageError(`entry ${entry.index} has term 0, in which no leader appends`);
    // Hard state is written before the entries of a step, so no entry can outrun the term.
    if (entry.term > term) throw new CorruptStorageError(`entry ${entry.index} has term ${entry.term} beyond the stored term ${term}`);
    if (!(entry.command instanceof Uint8Array)) throw new CorruptStorageError(`entry ${entry.index} has no command bytes`);
    if (typeof entry.isNoOp !== 'boolean') throw new CorruptStorageError(`entry ${entry.index} has isNoOp ${JSON.stringify(entry.isNoOp)}, not a boolean`);
    if (entry.dedupKey !== undefined) validateDedupKey(entry.dedupKey, entry.index);
    // SPEC "Exactly-once": no-op and configuration entries carry no key; one that does would reach
    // the application's session table as a command it never proposed.
    if (entry.dedupKey !== undefined && (entry.isNoOp || entry.config !== undefined)) {
      throw new CorruptStorageError(`entry ${entry.index} is a ${entry.isNoOp ? 'no-op' : 'configuration'} entry with a dedup key, which only commands carry`);
    }
    if (entry.config !== undefined) validateConfigPayload(entry.config, `entry ${entry.index}`);
    previousTerm = entry.term;
    expectedIndex += 1;
  }
}
