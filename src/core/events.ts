// Metrics and trace events (SPEC "Observability"): discriminated unions on `type`.
import type { NodeId, StepDownReason, TransferAbandonReason, VoteDenialReason } from './types.ts';
import type { StorageFailureReason } from './errors.ts';

export type RaftMetric =
  | { readonly type: 'proposeAccepted'; readonly index: number }
  | { readonly type: 'proposeCommitted'; readonly index: number; readonly elapsedMs: number }
  /**
   * The node applies nothing itself: the application applies what committed() yields. "Applied"
   * is the moment the proposal's promise resolves to its caller, right after the node learned the
   * commit, so its elapsedMs equals proposeCommitted's (emitted just before it).
   */
  | { readonly type: 'proposeApplied'; readonly index: number; readonly elapsedMs: number }
  | { readonly type: 'proposeSlow'; readonly index: number; readonly elapsedMs: number }
  | { readonly type: 'electionStarted'; readonly term: number }
  | { readonly type: 'electionWon'; readonly term: number; readonly elapsedMs: number }
  | { readonly type: 'electionTimedOut'; readonly term: number }
  | { readonly type: 'electionSuppressedTermCeiling'; readonly term: number }
  | { readonly type: 'snapshotRejectedSizeCeiling'; readonly from: NodeId; readonly totalBytes: number }
  | { readonly type: 'wedgeSuspected'; readonly from: NodeId; readonly localTerm: number; readonly remoteTerm: number; readonly voters: readonly NodeId[]; readonly gate: RefusalReason }
  /**
   * This node is outside the cluster: a configuration it received leaves it out after one that
   * had it in (toldBy null), or a leader said so (toldBy, with the leader's term and the index of
   * its configuration). Its proposals and reads fail with NotMemberError until a leader
   * replicates to it again. Reported once per spell.
   */
  | { readonly type: 'removedFromCluster'; readonly toldBy: NodeId | null; readonly term: number; readonly configIndex: number }
  | { readonly type: 'frameUndecodable'; readonly from: NodeId; readonly reason: string }
  | { readonly type: 'frameRefused'; readonly from: NodeId; readonly reason: RefusalReason }
  | { readonly type: 'clientIdReminted'; readonly previous: string; readonly next: string }
  | { readonly type: 'storageFailed'; readonly message: string; readonly reason: StorageFailureReason };

/** Why a well-formed frame was refused by the engine. */
export type RefusalReason =
  | 'senderNotVoter'
  | 'senderNotMember'
  | 'leaderNotPinned'
  | 'termJump'
  | 'entryTermAboveFrame'
  /** An AppendEntries batch whose entry terms fall (below prevLogTerm or the entry before). */
  | 'entryTermDecreasing'
  | 'timeoutNowNotFromLeader'
  | 'timeoutNowTermAhead'
  | 'timeoutNowToWitness'
  /** A notMember (a leader's word) from someone other than the leader pinned for its term. */
  | 'notMemberNotFromLeader'
  /** A forwarded command whose entry would not fit in one AppendEntries frame on this transport. */
  | 'commandTooLarge'
  | 'unexpectedResponse'
  /** A no-op or configuration entry carrying a dedup key, which only commands carry. */
  | 'internalEntryWithKey'
  /** A frame whose transport names this node itself as its sender: no honest peer sends one. */
  | 'senderIsSelf'
  | 'outOfRange';

/**
 * Why a well-formed catch-up from a witness changed nothing (catch-up.ts): a live leader is heard,
 * the batch would not leave this log more up to date, or the logs differ where the batch starts.
 * Traced, not counted as refusals: each is an ordinary race.
 */
export type CatchUpIgnoredReason = 'leaderKnown' | 'notBehind' | 'logsDiverge';

interface TraceBase {
  readonly node: NodeId;
  readonly term: number;
  readonly at: number; // clock reading, ms
}

export type RaftTraceEvent = TraceBase &
  (
    | { readonly type: 'timeout' }
    | { readonly type: 'preVoteStarted' }
    | { readonly type: 'preVoteGranted'; readonly from: NodeId }
    | { readonly type: 'preVoteDenied'; readonly from: NodeId; readonly reason: VoteDenialReason | 'unknown' }
    | { readonly type: 'requestVote'; readonly transfer: boolean }
    | { readonly type: 'voteGranted'; readonly to: NodeId; readonly preVote: boolean }
    | { readonly type: 'voteDenied'; readonly to: NodeId; readonly preVote: boolean; readonly reason: VoteDenialReason }
    | { readonly type: 'becomeLeader' }
    | { readonly type: 'becomeFollower'; readonly reason: StepDownReason | 'electionLost' | 'started'; readonly leader: NodeId | null }
    | { readonly type: 'clientRequest'; readonly index: number }
    | { readonly type: 'appendEntries'; readonly to: NodeId; readonly prevLogIndex: number; readonly count: number }
    | { readonly type: 'appendEntriesAccepted'; readonly from: NodeId; readonly matchIndex: number }
    | { readonly type: 'appendEntriesRejected'; readonly from: NodeId; readonly conflictIndex: number }
    | { readonly type: 'advanceCommitIndex'; readonly commitIndex: number }
    | { readonly type: 'configChange'; readonly index: number; readonly joint: boolean }
    | { readonly type: 'installSnapshot'; readonly to: NodeId; readonly lastIncludedIndex: number }
    | { readonly type: 'installSnapshotAccepted'; readonly lastIncludedIndex: number }
    | { readonly type: 'compacted'; readonly throughIndex: number }
    | { readonly type: 'readIndexConfirmed'; readonly readIndex: number }
    | { readonly type: 'leadershipTransferStarted'; readonly target: NodeId }
    | { readonly type: 'leadershipTransferAbandoned'; readonly target: NodeId; readonly reason: TransferAbandonReason }
    | { readonly type: 'frameRefused'; readonly from: NodeId; readonly reason: RefusalReason }
    | { readonly type: 'frameUndecodable'; readonly from: NodeId; readonly reason: string }
    /** A witness sent a voter behind it the entries after prevLogIndex (catch-up.ts). */
    | { readonly type: 'catchUpSent'; readonly to: NodeId; readonly prevLogIndex: number; readonly count: number }
    /** This node took a witness's entries; its log now ends at lastIndex. */
    | { readonly type: 'catchUpAccepted'; readonly from: NodeId; readonly lastIndex: number }
    | { readonly type: 'catchUpIgnored'; readonly from: NodeId; readonly reason: CatchUpIgnoredReason }
  );

export type RaftTraceEventType = RaftTraceEvent['type'];
