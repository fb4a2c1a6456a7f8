// Settles the caller promises a ready answers: reads, membership changes and transfers, each
// turned into the value or the error the API promises (proposals have their own tracker,
// proposal-tracker.ts). One place maps the core's failure names to the public error classes.
import { LeadershipLostError, LeadershipTransferError, MembershipChangeInProgressError, NotLeaderError, NotMemberError } from '../core/errors.ts';
import type { MembershipFailure, Ready } from '../core/ready.ts';
import type { ClusterConfig, NodeId } from '../core/types.ts';
import type { PendingCalls } from './pending-calls.ts';

export interface PendingCallsOfNode {
  readonly reads: PendingCalls<number>;
  readonly changes: PendingCalls<ClusterConfig>;
  readonly transfers: PendingCalls<void>;
  /** The configuration a settled change resolves with: the application's copy, never the core's. */
  membership(): ClusterConfig;
  /** The leader a NotLeaderError names, as the core knows it now. */
  leader(): NodeId | null;
}

export function settleCalls(ready: Pick<Ready, 'reads' | 'membershipChanges' | 'transfers'>, calls: PendingCallsOfNode): void {
  for (const read of ready.reads) {
    if ('failure' in read) calls.reads.reject(read.readId, new NotMemberError(false));
    else calls.reads.resolve(read.readId, read.readIndex);
  }
  for (const change of ready.membershipChanges) {
    if (change.failure === null) calls.changes.resolve(change.changeId, calls.membership());
    else calls.changes.reject(change.changeId, membershipError(change.failure, change.witnesses ?? [], calls.leader()));
  }
  for (const transfer of ready.transfers) {
    if (transfer.failure === null) calls.transfers.resolve(transfer.transferId, undefined);
    else calls.transfers.reject(transfer.transferId, transfer.failure === 'notLeader' ? new NotLeaderError(calls.leader()) : new LeadershipTransferError(transfer.failure));
  }
}

function membershipError(failure: MembershipFailure, witnesses: readonly NodeId[], leader: NodeId | null): Error {
  switch (failure) {
    case 'notLeader':
      return new NotLeaderError(leader);
    case 'inProgress':
      return new MembershipChangeInProgressError();
    case 'leadershipLost':
      return new LeadershipLostError('leadership lost while the membership change was in flight; it may still commit');
    case 'noVoterMayLead':
      // A RangeError, as validateClusterConfig refuses a target it can judge alone: this one is a
      // target the leader can judge only with what its peers told it (core never-leads.ts).
      return new RangeError(
        `changeMembership: every voter of the target is a witness (${witnesses.join(', ')}), and a witness never leads, so the cluster could never elect a leader again; keep at least one voter that may lead`,
      );
  }
}
