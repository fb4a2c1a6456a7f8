// What one engine step hands the driver (etcd's Ready): durable writes, then messages that may
// go out only after those writes, plus proposal outcomes, metrics and trace events.
import type { RaftMetric, RaftTraceEvent } from './events.ts';
import type { RaftMessage } from './messages.ts';
import type { LogEntry, NodeId, SnapshotMeta, TransferAbandonReason } from './types.ts';

export interface OutboundMessage {
  readonly to: NodeId;
  readonly message: RaftMessage;
}

/**
 * notMember: this node is outside the cluster's configuration and never sent the proposal.
 * removedWhileInFlight: it learned so with the proposal already sent; the outcome is unknown.
 */
export type ProposalFailure = 'leadershipLost' | 'overloaded' | 'notMember' | 'removedWhileInFlight';

export type ProposalOutcome =
  | { readonly type: 'accepted'; readonly proposalId: number; readonly index: number }
  | { readonly type: 'committed'; readonly proposalId: number; readonly entry: LogEntry }
  | { readonly type: 'failed'; readonly proposalId: number; readonly failure: ProposalFailure };

/** A read index confirmed for one of this node's callers, or why it cannot be served. */
export type ReadOutcome =
  | { readonly readId: number; readonly readIndex: number }
  | { readonly readId: number; readonly failure: 'notMember' };

/** noVoterMayLead: every voter of the target is a witness this leader knows of (never-leads.ts); nothing appended. */
export type MembershipFailure = 'notLeader' | 'inProgress' | 'leadershipLost' | 'noVoterMayLead';

/** failure null: the change committed (C_new is in force). */
export interface MembershipOutcome {
  readonly changeId: number;
  readonly failure: MembershipFailure | null;
  /** With noVoterMayLead: the target's voters, every one a witness, for the caller's error. */
  readonly witnesses?: readonly NodeId[];
}

/** failure null: the target now leads. */
export interface TransferOutcome {
  readonly transferId: number;
  readonly failure: TransferAbandonReason | 'notLeader' | null;
}

/**
 * A snapshot to store. Its ready is written alone, in the order: hard state, truncation (an
 * installed snapshot that conflicts with the uncommitted tail drops it first), save snapshot,
 * discard the covered prefix, append entries; so a crash between steps leaves a valid log.
 */
export interface SnapshotWrite {
  readonly meta: SnapshotMeta;
  readonly state: Uint8Array;
  readonly discardLogThrough: number;
}

export interface Ready {
  readonly hardState: { readonly term: number; readonly votedFor: NodeId | null } | null;
  readonly leaderForTerm: { readonly term: number; readonly leaderId: NodeId } | null;
  /** Remove stored entries at and after this index before appending `entries`. */
  readonly truncateFrom: number | null;
  readonly entries: readonly LogEntry[];
  readonly snapshot: SnapshotWrite | null;
  /**
   * The commit index to store after everything else this write stores (a snapshot's included):
   * never beyond the entries stored by this write and the ones before it.
   */
  readonly commitIndex: number | null;
  /** Messages that depend on nothing unwritten: send at once. */
  readonly messages: readonly OutboundMessage[];
  /** Messages that acknowledge state in this (or an earlier) write: send after it completes. */
  readonly messagesAfterPersist: readonly OutboundMessage[];
  readonly outcomes: readonly ProposalOutcome[];
  readonly reads: readonly ReadOutcome[];
  readonly membershipChanges: readonly MembershipOutcome[];
  readonly transfers: readonly TransferOutcome[];
  readonly metrics: readonly RaftMetric[];
  readonly trace: readonly RaftTraceEvent[];
}

export function readyNeedsWrite(ready: Ready): boolean {
  return ready.hardState !== null || ready.leaderForTerm !== null || ready.truncateFrom !== null || ready.entries.length > 0 || ready.snapshot !== null || ready.commitIndex !== null;
}
