// Raft's safety properties (Figure 3 of the paper), checked while a simulation runs: Election
// Safety, Log Matching, Leader Completeness, State Machine Safety, plus "no acknowledged
// proposal is lost", "no node's durable log loses a committed entry", "nothing is promised before it is durable", and for snapshots: every installed snapshot is byte for byte one that a
// node published at that index, and replicas agree on the application state at every index
// they report it for (so a node that installed a snapshot must go on from the right state). A
// violation is recorded with the seed and rethrown by the simulation.
import { sameBytes as sameNonNullBytes } from '../core/bytes.ts';
import type { DedupKey, LogEntry, NodeId } from '../core/types.ts';

export interface AppliedRecord {
  readonly index: number;
  /** null for an internal marker (no-op or config entry); its term is not visible. */
  readonly term: number | null;
  readonly command: Uint8Array | null;
  /** The entry's kind, configuration and dedup key (entryMetadata); compared where both records carry it. */
  readonly metadata?: string;
}

/**
 * Everything that tells two entries apart besides their index, term and command bytes: whether it
 * is a no-op, its configuration, its dedup key. No-ops and configuration entries all carry an
 * empty command, and one command can be proposed under two dedup keys, so the command bytes alone
 * do not name an entry.
 */
export function entryMetadata(entry: Pick<LogEntry, 'isNoOp' | 'config' | 'dedupKey'>): string {
  const configuration = entry.config === undefined ? null : { old: entry.config.old, new: entry.config.new };
  const dedupKey = entry.dedupKey === undefined ? null : [entry.dedupKey.clientId, entry.dedupKey.requestId];
  return JSON.stringify({ noOp: entry.isNoOp, configuration, dedupKey });
}

/** An entry that is not a command of the application: a leader's no-op or a configuration change. */
function isInternal(entry: Pick<LogEntry, 'isNoOp' | 'config'>): boolean {
  return entry.isNoOp || entry.config !== undefined;
}

/** Unequal only when both are known: a caller that does not pass metadata compares bytes alone. */
function sameMetadata(left: string | undefined, right: string | undefined): boolean {
  return left === undefined || right === undefined || left === right;
}

export class SafetyViolation extends Error {
  constructor(property: string, detail: string, seed: number) {
    super(`${property} violated (seed ${seed}): ${detail}`);
    this.name = 'SafetyViolation';
  }
}

/** A 64-bit fingerprint of some bytes (two multiplicative lanes over 32-bit words), for stateReached. */
export function fingerprintBytes(bytes: Uint8Array): string {
  let first = 0x811c9dc5 ^ bytes.length;
  let second = 0x01000193;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const whole = bytes.length - (bytes.length % 4);
  for (let position = 0; position < whole; position += 4) {
    const word = view.getUint32(position);
    first = Math.imul(first ^ word, 0x01000193);
    second = Math.imul((second ^ word) + (second >>> 15), 0x2127599b);
  }
  for (let position = whole; position < bytes.length; position += 1) {
    first = Math.imul(first ^ (bytes[position] as number), 0x01000193);
    second = Math.imul((second ^ (bytes[position] as number)) + (second >>> 15), 0x2127599b);
  }
  return `${(first >>> 0).toString(16)}.${(second >>> 0).toString(16)}.${bytes.length}`;
}

function sameBytes(left: Uint8Array | null, right: Uint8Array | null): boolean {
  if (left === null || right === null) return left === right;
  return sameNonNullBytes(left, right);
}

export class SafetyChecker {
  readonly violations: SafetyViolation[] = [];
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** Every (index, term) seen in any durable log: its bytes, its metadata and the term before it. */
  private readonly logEntries = new Map<string, { command: Uint8Array; metadata: string; previousTerm: number | undefined }>();
  /** What was applied at each index, by whichever node applied it first. */
  private readonly applied = new Map<number, AppliedRecord>();
  /**
   * The lowest term any node was in when it applied each index. The entry was committed in a
   * term no higher than that, so a leader of a higher term must hold it (a leader of an equal or
   * lower term may legitimately win an election whose votes were cast before the commit).
   */
  private readonly appliedTermCeiling = new Map<number, number>();
  /**
   * The term (and metadata, when given) of each internal entry (no-op or configuration) applied,
   * read from the applying node's durable log: applied records carry neither (Committed says only
   * 'internal'), and without them neither the removal of a committed marker, nor a leader without
   * one, nor two nodes applying different configurations at one index could be judged.
   */
  private readonly internalEntries = new Map<number, { term: number; metadata: string | undefined }>();
  private readonly acknowledged = new Map<number, { term: number; command: Uint8Array; metadata: string }>();
  private highestAcknowledgedIndex = 0;
  private highestAppliedIndex = 0;
  /** Distinct snapshot states published at each index. */
  private readonly published = new Map<number, Uint8Array[]>();
  /** The first application state reported at each index, and by whom. */
  private readonly states = new Map<number, { id: NodeId; fingerprint: string }>();
  private snapshotInstalls = 0;
  private snapshotBytesInstalled = 0;
  /** The index at which each request (dedup key) was executed by a state machine, and by whom first. */
  private readonly executedRequests = new Map<string, { id: NodeId; index: number }>();

  constructor(private readonly seed: number) {}

  private violate(property: string, detail: string): void {
    const violation = new SafetyViolation(property, detail, this.seed);
    this.violations.push(violation);
  }

  /** Election Safety: at most one leader per term. */
  leaderElected(id: NodeId, term: number): void {
    const existing = this.leaderOfTerm.get(term);
    if (existing !== undefined && existing !== id) this.violate('Election Safety', `${existing} and ${id} both led term ${term}`);
    this.leaderOfTerm.set(term, id);
  }

  /** A witness (RaftConfig.witness) never campaigns, so it can never lead. */
  witnessLed(id: NodeId, term: number): void {
    this.violate('Witness never leads', `witness ${id} led term ${term}`);
  }

  /** Log Matching: an (index, term) names one entry, with one predecessor term, in every log. */
  entriesPersisted(id: NodeId, entries: readonly LogEntry[], termBefore: (index: number) => number | undefined): void {
    for (const entry of entries) {
      const key = `${entry.index}:${entry.term}`;
      const previousTerm = termBefore(entry.index - 1);
      const metadata = entryMetadata(entry);
      const seen = this.logEntries.get(key);
      if (seen === undefined) {
        this.logEntries.set(key, { command: entry.command, metadata, previousTerm });
        continue;
      }
      if (!sameBytes(seen.command, entry.command) || seen.metadata !== metadata) {
        this.violate('Log Matching', `${id} stored a different entry at index ${entry.index} term ${entry.term} (${metadata}, another log ${seen.metadata})`);
      }
      if (seen.previousTerm !== undefined && previousTerm !== undefined && seen.previousTerm !== previousTerm) {
        this.violate('Log Matching', `${id} has term ${previousTerm} before ${key}, another log has ${seen.previousTerm}`);
      }
    }
  }

  /**
   * Committed entries stay durable: a truncation never takes a committed entry out of a node's
   * log once that log held an entry of the commit's term or later. Such an entry was appended by
   * the leader of its term, which held the committed one (Leader Completeness), so every leader
   * of that term or later agrees with the log up to it: none sends a conflicting entry, nor does a
   * witness's catch-up (its log is no further ahead of this one). Below that a legitimate cut can
   * remove a committed entry: a stale leader, or a catch-up, overwriting a node that was not in the
   * commit quorum (Figure 8), so those are not judged. The commit's term is at most the lowest
   * term any node applied the entry in. `logTermBefore`: the term of the last entry of the node's
   * durable log before the write (not the node's term: a write can merge a step's overwrite with
   * a later term's hard state). Checked as each write lands, on every node, so a wrong cut shows on
   * the node that made it, with no crash needed and without waiting for a quorum of such nodes
   * to elect a leader without the entry (5-node seed 60,060 needed both before it was seen).
   */
  entriesRemoved(id: NodeId, removed: readonly LogEntry[], logTermBefore: number, how: string): void {
    for (const entry of removed) {
      if (this.appliedTermOf(entry.index) !== entry.term) continue;
      if ((this.appliedTermCeiling.get(entry.index) ?? Number.POSITIVE_INFINITY) > logTermBefore) continue;
      this.violate('Committed entry kept', `${id} removed committed entry ${entry.index} (term ${entry.term}) from its durable log, which held an entry of term ${logTermBefore} (${how})`);
      return;
    }
  }

  /**
   * A stored commit index stays within the durable log, and the entries it vouches for (those
   * `through` it not checked before) are the ones applied at their indexes, where any node
   * applied one yet: a restarted node applies them without hearing a leader.
   */
  commitStored(id: NodeId, commitIndex: number, lastIndex: number, through: readonly LogEntry[]): void {
    if (commitIndex > lastIndex) {
      this.violate('Stored commit index', `${id} stored commit index ${commitIndex} with its durable log ending at ${lastIndex}`);
      return;
    }
    for (const entry of through) {
      const applied = this.appliedTermOf(entry.index);
      if (applied === undefined || applied === entry.term) continue;
      this.violate('Stored commit index', `${id} stored commit index ${commitIndex} over entry ${entry.index} of term ${entry.term}, where term ${applied} was applied`);
      return;
    }
  }

  /** A prefix discard goes only through what the durable snapshot covers, whatever the entries. */
  entriesDiscardedUncovered(id: NodeId, removed: readonly LogEntry[], throughIndex: number, snapshotThrough: number): void {
    const first = removed[0];
    if (first === undefined) return;
    this.violate('Committed entry kept', `${id} discarded its log through ${throughIndex} beyond its durable snapshot through ${snapshotThrough}, entry ${first.index} (term ${first.term}) with it`);
  }

  /**
   * Durable before promised: a node acknowledges entries, or grants its vote, only once its disk
   * holds them (durable-watch.ts checks each frame as it is sent).
   */
  frameAheadOfDisk(id: NodeId, detail: string): void {
    this.violate('Durable before promised', `${id} ${detail}`);
  }

  /** The term of the entry applied at `index`: its own, or an internal entry's as its node's log held it; undefined when unknown. */
  private appliedTermOf(index: number): number | undefined {
    const applied = this.applied.get(index);
    if (applied === undefined) return undefined;
    return applied.term ?? this.internalEntries.get(index)?.term;
  }

  /**
   * An internal entry (no-op or configuration) was applied at `index`, of `term` in the applying
   * node's durable log (where applied entries always are: a node applies only what it holds), with
   * `metadata` (entryMetadata of that log entry: a no-op, or which configuration). Two terms, or
   * two entries, for one applied index is State Machine Safety broken.
   */
  internalEntryApplied(id: NodeId, index: number, term: number, metadata?: string): void {
    const known = this.internalEntries.get(index);
    if (known === undefined) {
      this.internalEntries.set(index, { term, metadata });
      return;
    }
    if (known.term !== term) this.violate('State Machine Safety', `${id} applied the internal entry of term ${term} at index ${index}, another node the one of term ${known.term}`);
    else if (!sameMetadata(known.metadata, metadata)) this.violate('State Machine Safety', `${id} applied the internal entry ${metadata ?? ''} at index ${index}, another node ${known.metadata ?? ''}`);
    if (known.metadata === undefined && metadata !== undefined) this.internalEntries.set(index, { term, metadata });
  }

  /** Leader Completeness: a new leader's log holds every entry committed in an earlier term. */
  leaderLog(id: NodeId, term: number, firstIndex: number, entries: readonly LogEntry[]): void {
    for (const [index, record] of this.applied) {
      if (index < firstIndex) continue; // compacted into its snapshot
      if ((this.appliedTermCeiling.get(index) ?? 0) >= term) continue; // maybe committed in this term or later
      const entry = entries[index - firstIndex];
      if (record.term === null) {
        // An internal entry: its command is not visible, its term is when its node's log held it.
        const internal = this.internalEntries.get(index);
        if (internal !== undefined && (entry?.term !== internal.term || !sameMetadata(entryMetadata(entry), internal.metadata))) {
          this.violate('Leader Completeness', `${id} leads term ${term} without applied internal entry ${index} (term ${internal.term})`);
          return;
        }
        continue;
      }
      if (entry === undefined || entry.term !== record.term || !sameBytes(entry.command, record.command) || !sameMetadata(entryMetadata(entry), record.metadata)) {
        this.violate('Leader Completeness', `${id} leads term ${term} without applied entry ${index} (term ${record.term})`);
        return;
      }
    }
  }

  /** Entries are applied in index order with no gap or repeat (an install jumps ahead). */
  applyOrder(id: NodeId, previousIndex: number, record: { index: number } | { installThrough: number }): void {
    if ('index' in record) {
      if (record.index !== previousIndex + 1) this.violate('Apply order', `${id} applied index ${record.index} right after ${previousIndex}`);
    } else if (record.installThrough < previousIndex) {
      this.violate('Apply order', `${id} installed a snapshot through ${record.installThrough} after applying ${previousIndex}`);
    }
  }

  /** State Machine Safety: no two nodes apply different entries at one index. */
  entryApplied(id: NodeId, record: AppliedRecord, termAtApply = 0): void {
    const ceiling = this.appliedTermCeiling.get(record.index);
    if (ceiling === undefined || termAtApply < ceiling) this.appliedTermCeiling.set(record.index, termAtApply);
    const existing = this.applied.get(record.index);
    if (existing === undefined) {
      this.applied.set(record.index, record);
      this.highestAppliedIndex = Math.max(this.highestAppliedIndex, record.index);
      return;
    }
    const sameKind = (existing.term === null) === (record.term === null);
    if (!sameKind || (record.term !== null && (existing.term !== record.term || !sameBytes(existing.command, record.command) || !sameMetadata(existing.metadata, record.metadata)))) {
      this.violate('State Machine Safety', `${id} applied a different entry at index ${record.index}`);
    }
    if (existing.term === null && record.term !== null) this.applied.set(record.index, record);
  }

  /**
   * A proposal's promise resolved: the entry must be a command, carry the command that was
   * proposed, and be (or become) applied exactly there. An internal entry (a later leader's no-op,
   * a configuration) applied at its index means the acknowledged command was lost.
   */
  proposalAcknowledged(entry: LogEntry, proposed?: Uint8Array): void {
    if (isInternal(entry)) {
      this.violate('Acknowledged proposal kept', `a proposal was acknowledged with entry ${entry.index} (term ${entry.term}), which is ${entry.isNoOp ? 'a no-op' : 'a configuration entry'}`);
    } else if (proposed !== undefined && !sameBytes(entry.command, proposed)) {
      this.violate('Acknowledged proposal kept', `a proposal was acknowledged with entry ${entry.index} (term ${entry.term}), which holds a different command`);
    }
    const acknowledged = { term: entry.term, command: entry.command, metadata: entryMetadata(entry) };
    this.acknowledged.set(entry.index, acknowledged);
    this.highestAcknowledgedIndex = Math.max(this.highestAcknowledgedIndex, entry.index);
    const replaced = this.replacedAt(entry.index, acknowledged);
    if (replaced !== null) this.violate('Acknowledged proposal kept', `acknowledged entry ${entry.index} differs from what was applied there (term ${entry.term} acknowledged, ${replaced} applied)`);
  }

  /** How what was applied at `index` differs from the acknowledged command; null when it does not (or nothing was applied yet). */
  private replacedAt(index: number, acknowledged: { term: number; command: Uint8Array; metadata: string }): string | null {
    const applied = this.applied.get(index);
    if (applied === undefined) return null;
    if (applied.term === null) {
      const internalTerm = this.internalEntries.get(index)?.term;
      return `an internal entry${internalTerm === undefined ? '' : ` of term ${internalTerm}`}`;
    }
    if (applied.term !== acknowledged.term) return `an entry of term ${applied.term}`;
    if (!sameBytes(applied.command, acknowledged.command)) return 'a different command';
    if (!sameMetadata(applied.metadata, acknowledged.metadata)) return `the command under ${applied.metadata ?? ''}`;
    return null;
  }

  /** The application published a snapshot (whether or not raft took it: it may be older than raft's). */
  snapshotPublished(throughIndex: number, state: Uint8Array): void {
    const states = this.published.get(throughIndex) ?? [];
    if (!states.some((known) => sameBytes(known, state))) states.push(state.slice());
    this.published.set(throughIndex, states);
  }

  /**
   * Snapshot integrity: an installed snapshot (streamed from a leader, or restored from this
   * node's own storage) is byte for byte a state some node published at that index.
   */
  snapshotInstalled(id: NodeId, throughIndex: number, state: Uint8Array): void {
    this.snapshotInstalls += 1;
    this.snapshotBytesInstalled += state.length;
    const states = this.published.get(throughIndex);
    if (states === undefined) {
      this.violate('Snapshot integrity', `${id} installed a snapshot through ${throughIndex} (${state.length} bytes), and no node published one there`);
    } else if (!states.some((known) => sameBytes(known, state))) {
      const sizes = states.map((known) => known.length).join(', ');
      this.violate('Snapshot integrity', `${id} installed a snapshot through ${throughIndex} (${state.length} bytes) that differs from every one published there (${sizes} bytes)`);
    }
  }

  /**
   * State agreement: every node that reports its application state at an index reports the same
   * one (a fingerprint: a digest, or the canonical snapshot bytes). A node that installed a
   * snapshot and then applied the entries after it must arrive where the others did.
   */
  stateReached(id: NodeId, index: number, fingerprint: string): void {
    const first = this.states.get(index);
    if (first === undefined) this.states.set(index, { id, fingerprint });
    else if (first.fingerprint !== fingerprint) this.violate('State agreement', `${id} reached state ${fingerprint} at index ${index}, ${first.id} reached ${first.fingerprint}`);
  }

  /**
   * Exactly-once: a state machine executed the request under `key` at `index` (its session table
   * did not skip it). Every replica applies one log in one order, so a request executed at two
   * indexes was applied twice (or the replicas' tables disagree): either is a violation. A replay
   * of the same index by a new incarnation is not.
   */
  requestExecuted(id: NodeId, key: DedupKey, index: number): void {
    const request = `${key.clientId}#${key.requestId}`;
    const first = this.executedRequests.get(request);
    if (first === undefined) this.executedRequests.set(request, { id, index });
    else if (first.index !== index) this.violate('Exactly once', `${id} executed request ${request} at index ${index}, ${first.id} executed it at index ${first.index}`);
  }

  /** Snapshots installed (from a leader or from storage at a restart) and their bytes, for reports. */
  get snapshotsInstalled(): { readonly count: number; readonly bytes: number } {
    return { count: this.snapshotInstalls, bytes: this.snapshotBytesInstalled };
  }

  /** The highest index acknowledged so far: a read that starts now must return at least this. */
  get highestAcknowledged(): number {
    return this.highestAcknowledgedIndex;
  }

  /** Linearizable reads: a read index is at least every write acknowledged before the read began. */
  readCompleted(id: NodeId, readIndex: number, acknowledgedBeforeRead: number): void {
    if (readIndex < acknowledgedBeforeRead) {
      this.violate('Linearizable read', `${id} returned read index ${readIndex} although entry ${acknowledgedBeforeRead} was acknowledged before the read began`);
    }
  }

  /** At the end: every acknowledged proposal was applied, unchanged, at its index. */
  checkAcknowledgedApplied(): void {
    for (const [index, acknowledged] of this.acknowledged) {
      if (!this.applied.has(index)) {
        this.violate('Acknowledged proposal kept', `acknowledged entry ${index} was never applied`);
        continue;
      }
      const replaced = this.replacedAt(index, acknowledged);
      if (replaced !== null) this.violate('Acknowledged proposal kept', `acknowledged entry ${index} (term ${acknowledged.term}) was replaced by ${replaced}`);
    }
  }

  get acknowledgedCount(): number {
    return this.acknowledged.size;
  }

  /** Terms in which some node became leader (each an election won). */
  get electionsWon(): number {
    return this.leaderOfTerm.size;
  }

  /** The highest index any node applied. */
  get highestApplied(): number {
    return this.highestAppliedIndex;
  }

  throwIfViolated(): void {
    const first = this.violations[0];
    if (first !== undefined) throw first;
  }
}
