// Raft's safety properties (Figure 3 of the paper), checked while a simulation runs: Election
// Safety, Log Matching, Leader Completeness, State Machine Safety, plus "no acknowledged
// proposal is lost", "no node's durable log loses a committed entry", "nothing is promised before it is durable", and for snapshots: every installed snapshot is byte for byte one that a
// node published at that index, and replicas agree on the application state at every index
// they report it for (so a node that installed a snapshot must go on from the right state). A
// violation is recorded with the seed and rethrown by the simulation.
import { sameBytes as sameNonNullBytes } from '../core/bytes.ts';
import type { LogEntry, NodeId } from '../core/types.ts';

export interface AppliedRecord {
  readonly index: number;
  /** null for an internal marker (no-op or config entry); its term is not visible. */
  readonly term: number | null;
  readonly command: Uint8Array | null;
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
  /** Every (index, term) seen in any durable log: its bytes and the term before it. */
  private readonly logEntries = new Map<string, { command: Uint8Array; previousTerm: number | undefined }>();
  /** What was applied at each index, by whichever node applied it first. */
  private readonly applied = new Map<number, AppliedRecord>();
  /**
   * The lowest term any node was in when it applied each index. The entry was committed in a
   * term no higher than that, so a leader of a higher term must hold it (a leader of an equal or
   * lower term may legitimately win an election whose votes were cast before the commit).
   */
  private readonly appliedTermCeiling = new Map<number, number>();
  /**
   * The term of each internal entry (no-op or configuration) applied, read from the applying
   * node's durable log: applied records carry none (Committed says only 'internal'), and without
   * it neither the removal of a committed marker nor a leader without one could be judged.
   */
  private readonly internalEntryTerms = new Map<number, number>();
  private readonly acknowledged = new Map<number, { term: number; command: Uint8Array }>();
  private highestAcknowledgedIndex = 0;
  private highestAppliedIndex = 0;
  /** Distinct snapshot states published at each index. */
  private readonly published = new Map<number, Uint8Array[]>();
  /** The first application state reported at each index, and by whom. */
  private readonly states = new Map<number, { id: NodeId; fingerprint: string }>();
  private snapshotInstalls = 0;
  private snapshotBytesInstalled = 0;

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
      const seen = this.logEntries.get(key);
      if (seen === undefined) {
        this.logEntries.set(key, { command: entry.command, previousTerm });
        continue;
      }
      if (!sameBytes(seen.command, entry.command)) this.violate('Log Matching', `${id} stored a different entry at index ${entry.index} term ${entry.term}`);
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
    return applied.term ?? this.internalEntryTerms.get(index);
  }

  /**
   * An internal entry (no-op or configuration) was applied at `index`, of `term` in the applying
   * node's durable log (where applied entries always are: a node applies only what it holds).
   * Two terms for one applied index is State Machine Safety broken.
   */
  internalEntryApplied(id: NodeId, index: number, term: number): void {
    const known = this.internalEntryTerms.get(index);
    if (known === undefined) this.internalEntryTerms.set(index, term);
    else if (known !== term) this.violate('State Machine Safety', `${id} applied the internal entry of term ${term} at index ${index}, another node the one of term ${known}`);
  }

  /** Leader Completeness: a new leader's log holds every entry committed in an earlier term. */
  leaderLog(id: NodeId, term: number, firstIndex: number, entries: readonly LogEntry[]): void {
    for (const [index, record] of this.applied) {
      if (index < firstIndex) continue; // compacted into its snapshot
      if ((this.appliedTermCeiling.get(index) ?? 0) >= term) continue; // maybe committed in this term or later
      const entry = entries[index - firstIndex];
      if (record.term === null) {
        // An internal entry: its command is not visible, its term is when its node's log held it.
        const internalTerm = this.internalEntryTerms.get(index);
        if (internalTerm !== undefined && entry?.term !== internalTerm) {
          this.violate('Leader Completeness', `${id} leads term ${term} without applied internal entry ${index} (term ${internalTerm})`);
          return;
        }
        continue;
      }
      if (entry === undefined || entry.term !== record.term || !sameBytes(entry.command, record.command)) {
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
    if (!sameKind || (record.term !== null && (existing.term !== record.term || !sameBytes(existing.command, record.command)))) {
      this.violate('State Machine Safety', `${id} applied a different entry at index ${record.index}`);
    }
    if (existing.term === null && record.term !== null) this.applied.set(record.index, record);
  }

  /**
   * A proposal's promise resolved: the entry must carry the command that was proposed, and must
   * be (or become) applied exactly there.
   */
  proposalAcknowledged(entry: LogEntry, proposed?: Uint8Array): void {
    if (proposed !== undefined && !sameBytes(entry.command, proposed)) {
      this.violate('Acknowledged proposal kept', `a proposal was acknowledged with entry ${entry.index} (term ${entry.term}), which holds a different command`);
    }
    this.acknowledged.set(entry.index, { term: entry.term, command: entry.command });
    this.highestAcknowledgedIndex = Math.max(this.highestAcknowledgedIndex, entry.index);
    const applied = this.applied.get(entry.index);
    if (applied !== undefined && applied.term !== null && (applied.term !== entry.term || !sameBytes(applied.command, entry.command))) {
      this.violate('Acknowledged proposal kept', `acknowledged entry ${entry.index} differs from what was applied there`);
    }
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
      const applied = this.applied.get(index);
      if (applied === undefined) this.violate('Acknowledged proposal kept', `acknowledged entry ${index} was never applied`);
      else if (applied.term !== null && (applied.term !== acknowledged.term || !sameBytes(applied.command, acknowledged.command))) {
        this.violate('Acknowledged proposal kept', `acknowledged entry ${index} was replaced`);
      }
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
