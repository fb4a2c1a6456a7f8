// The errors callers see (API.md "Errors"). Every one sets `name` to its class name so it
// survives structured cloning across a worker boundary and can be rebuilt on the other side.
import type { NodeId, TransferAbandonReason } from './types.ts';

export class NotLeaderError extends Error {
  readonly leader: NodeId | null;
  /** `leader` defaults to null (none known), as the seed's NotLeaderException takes only a message. */
  constructor(leader: NodeId | null = null, message = 'not the current leader') {
    super(leader === null ? `${message} (no leader known)` : `${message} (leader is ${leader})`);
    this.name = 'NotLeaderError';
    this.leader = leader;
  }
}

export class LeadershipLostError extends Error {
  constructor(message = 'leadership lost while the call was in flight; the outcome is unknown') {
    super(message);
    this.name = 'LeadershipLostError';
  }
}

export class MembershipChangeInProgressError extends Error {
  constructor(message = 'a membership change is already in progress: wait for it to commit before starting another') {
    super(message);
    this.name = 'MembershipChangeInProgressError';
  }
}

export class LeadershipTransferError extends Error {
  readonly reason: TransferAbandonReason;
  constructor(reason: TransferAbandonReason, message = `leadership transfer abandoned: ${reason}`) {
    super(message);
    this.name = 'LeadershipTransferError';
    this.reason = reason;
  }
}

export class ClientIdCollisionError extends Error {
  constructor(clientId: string) {
    super(`another live writer commits under the durable client id ${JSON.stringify(clientId)}; two processes were given one id — fail loud, do not retry under it`);
    this.name = 'ClientIdCollisionError';
  }
}

export class RaftClosedError extends Error {
  constructor(message = 'the raft node is closed') {
    super(message);
    this.name = 'RaftClosedError';
  }
}

/**
 * This node is outside the cluster's configuration: it was removed (a configuration it holds
 * leaves it out after one that had it in, or the leader said so), so no leader takes its
 * proposals and reads. `outcomeUnknown` is true for a proposal that had already gone to a leader
 * before the node learned it: that one may still have been appended and committed. Ask a member,
 * or rejoin under a fresh node id (rooms do).
 */
export class NotMemberError extends Error {
  readonly outcomeUnknown: boolean;
  constructor(outcomeUnknown: boolean, message?: string) {
    super(
      message ??
        (outcomeUnknown
          ? 'this node was removed from the cluster while the call was with the leader; the outcome is unknown'
          : 'this node is not a member of the cluster (it was removed); no leader accepts its proposals or reads'),
    );
    this.name = 'NotMemberError';
    this.outcomeUnknown = outcomeUnknown;
  }
}

/** The leader refuses new proposals for now (too many uncommitted); retry later. */
export class ProposalRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProposalRejectedError';
  }
}

/**
 * Why a storage adapter failed, as data a program can act on (show "storage is full", ask the
 * user to close an old tab, ...). 'unknown' is any failure the adapter could not classify.
 * 'dataLost': the storage lost what it held through no call of ours (Chromium deleted the
 * IndexedDB database as corrupt and made an empty one), so the id it belonged to must not run
 * again: it would vote again in terms it voted in. Unlike 'corruptRecord' there is nothing left
 * to inspect or restore; the way on is a fresh id (joinRoom takes it by itself).
 * 'inUse' may pass (another process holds the storage and may let go: a supervisor may retry);
 * 'wrongOwner' and 'notFound' will not by themselves (the storage belongs to another node id;
 * there is no storage where one was required), so a supervisor that retries them retries for
 * good: they are their own reasons, not 'inUse' and 'closed' as they were until 2026-12-07.
 */
export type StorageFailureReason =
  | 'quotaExceeded'
  | 'upgradeBlocked'
  | 'versionTooNew'
  | 'databaseDeleted'
  | 'transactionAborted'
  | 'corruptRecord'
  | 'dataLost'
  | 'closed'
  | 'inUse'
  | 'wrongOwner'
  | 'notFound'
  | 'diskFull'
  | 'unknown';

/** The node stopped because storage failed: durability can no longer be promised. */
export class RaftStorageError extends Error {
  readonly reason: StorageFailureReason;
  constructor(message: string, options?: { cause?: unknown; reason?: StorageFailureReason }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RaftStorageError';
    this.reason = options?.reason ?? 'unknown';
  }
}
