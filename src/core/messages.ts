// The wire messages exchanged between peers. No message names its own sender: the transport's
// `from` is the only identity (SPEC "Untrusted peers"). The codec encodes exactly these shapes.
import type { DedupKey, LogEntry, NodeId, SnapshotMeta, VoteDenialReason } from './types.ts';

export interface RequestVote {
  readonly type: 'requestVote';
  readonly term: number; // for a pre-vote: the term the sender would campaign at
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  readonly preVote: boolean;
  readonly transfer: boolean; // part of a leadership transfer: `leaderAlive` must not deny it
}

export interface RequestVoteResponse {
  readonly type: 'requestVoteResponse';
  readonly term: number; // granted: the requested term; denied: the responder's own term
  readonly preVote: boolean;
  readonly granted: boolean;
  readonly denialReason: VoteDenialReason | null;
  /**
   * With a denial: the leader the responder follows in its term (`term`), if it knows one. A node whose
   * configuration does not list that leader (it was away while the leader was promoted) takes
   * it on the word of a voter it knows (elections.ts, followVouchedLeader).
   */
  readonly leader?: NodeId;
}

export interface AppendEntries {
  readonly type: 'appendEntries';
  readonly term: number;
  readonly prevLogIndex: number;
  readonly prevLogTerm: number;
  readonly entries: readonly LogEntry[];
  readonly leaderCommit: number;
  readonly readRound: number; // read-index round nonce, echoed by the follower; 0 = none
}

export interface AppendEntriesResponse {
  readonly type: 'appendEntriesResponse';
  readonly term: number;
  readonly success: boolean;
  readonly matchIndex: number; // on success: last index known to match the leader's log
  readonly conflictIndex: number; // on failure: where the leader should resume (a hint)
  readonly conflictTerm: number; // on failure: the term of the follower's conflicting entry, 0 if short
  readonly readRound: number;
  /**
   * Present (true) only when the answering node is a witness (RaftConfig.witness): it never
   * campaigns and refuses TimeoutNow, so it can never lead. A witness is a local setting, not
   * part of the configuration: this is how a leader learns it (never-leads.ts), so it can refuse
   * at once a transfer to it, or a change leaving only such voters. On every answer, refusals
   * too, since a leader may hear nothing else from a peer it is still probing.
   */
  readonly neverLeads?: true;
}

export interface InstallSnapshot {
  readonly type: 'installSnapshot';
  readonly term: number;
  readonly meta: SnapshotMeta;
  readonly totalBytes: number;
  readonly offset: number;
  readonly data: Uint8Array;
}

export interface InstallSnapshotResponse {
  readonly type: 'installSnapshotResponse';
  readonly term: number;
  readonly lastIncludedIndex: number;
  readonly nextOffset: number; // bytes received so far; totalBytes once installed
  readonly installed: boolean;
}

export interface TimeoutNow {
  readonly type: 'timeoutNow';
  readonly term: number;
}

export interface ForwardPropose {
  readonly type: 'forwardPropose';
  readonly correlationId: number;
  readonly command: Uint8Array;
  readonly dedupKey: DedupKey | null;
  /**
   * The proposer's commit index when it sent this forward: a forward under an auto client id
   * proves with it that its incarnation is not older than the one the leader's log names last
   * for its node (incarnation-proof.ts).
   */
  readonly proposerCommitIndex: number;
}

export type ForwardOutcome =
  | { readonly type: 'appended'; readonly index: number; readonly term: number }
  | { readonly type: 'notLeader' }
  | { readonly type: 'busy' } // the leader refuses new proposals now (transfer in progress, full queue)
  // Not appended: the proposer must know entries committed through this index first (incarnation-proof.ts).
  | { readonly type: 'unproven'; readonly commitIndexNeeded: number };

export interface ForwardProposeResponse {
  readonly type: 'forwardProposeResponse';
  readonly correlationId: number;
  readonly outcome: ForwardOutcome;
}

export interface ReadIndexRequest {
  readonly type: 'readIndexRequest';
  readonly correlationId: number;
}

export interface ReadIndexResponse {
  readonly type: 'readIndexResponse';
  readonly correlationId: number;
  readonly readIndex: number; // 0 when the responder could not serve the read (not leader)
}

/**
 * A leader's word to a node outside its configuration that asked it for something (a vote, a
 * forwarded proposal, a read): "you are not a member". Without it a removed node retries forever
 * and its callers' proposals and reads never settle. `configIndex` is the index of the leader's
 * latest configuration, for the record.
 */
export interface NotMember {
  readonly type: 'notMember';
  readonly term: number;
  readonly configIndex: number;
}

/**
 * A witness's entries for a voter whose campaign it denied because that voter's log is behind
 * (catch-up.ts). A witness never leads, so when the only voters that may lead lack entries that
 * only a witness (and absent members) hold, nobody else could ever bring them up to date: the
 * room would stall until an absent member came back. Shaped like AppendEntries without the
 * leader's fields: `term` is the witness's own term, the entries follow (prevLogIndex,
 * prevLogTerm) in the witness's log.
 */
export interface CatchUpEntries {
  readonly type: 'catchUpEntries';
  readonly term: number;
  readonly prevLogIndex: number;
  readonly prevLogTerm: number;
  readonly entries: readonly LogEntry[];
}

export type RaftMessage =
  | RequestVote
  | RequestVoteResponse
  | AppendEntries
  | AppendEntriesResponse
  | InstallSnapshot
  | InstallSnapshotResponse
  | TimeoutNow
  | ForwardPropose
  | ForwardProposeResponse
  | ReadIndexRequest
  | ReadIndexResponse
  | NotMember
  | CatchUpEntries;

export type RaftMessageType = RaftMessage['type'];
