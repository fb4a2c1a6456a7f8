// Outside the cluster: a leader tells a non-member so, and a node that learns it is outside
// (told, or removed by a configuration) fails the calls that would wait forever on a leader.
import { pushMetric, refuse, send } from './core-output.ts';
import type { CoreState } from './core-state.ts';
import { askVotersWhoLeads } from './leader-question.ts';
import { isVoter, latestConfigIndex, mayCampaignAsOutgoingVoter } from './membership-state.ts';
import type { NotMember } from './messages.ts';
import { isValidCounter, type NodeId } from './types.ts';

/**
 * A leader answers a request from outside its configuration, so the asker stops waiting. Only
 * a leader's configuration is authoritative: a follower may not have heard of a newcomer yet.
 */
export function tellNotMember(core: CoreState, to: NodeId): void {
  if (core.role !== 'leader') return;
  send(core, to, { type: 'notMember', term: core.currentTerm, configIndex: latestConfigIndex(core) });
}

export function handleNotMember(core: CoreState, from: NodeId, message: NotMember): void {
  // The leader pinned for the notice's term is heard even when this node's configuration does not
  // list it (admitted while this node was away): a voter of that configuration named it, and this
  // node sends its proposals and reads there (known-leader.ts, forwardingTarget). Refused, a
  // removed learner asked it again and again and its calls waited for ever.
  const pinned = core.pinnedLeader;
  const pinnedForTerm = pinned !== null && pinned.term === message.term ? pinned.leaderId : null;
  if (!core.membership.members.has(from) && from !== pinnedForTerm) return refuse(core, from, 'senderNotMember', 0);
  if (!isValidCounter(message.term) || !isValidCounter(message.configIndex)) return refuse(core, from, 'outOfRange', 0);
  // SPEC "Ranges": a term beyond maxTermJump is refused like any other frame's (dispatched apart
  // from the termed frames, this one skipped that gate, and a voter's notice for a far-off term
  // with no leader pinned in it was believed). It counts towards a wedge: a leader's notice is the
  // only frame a leader sends a node outside its configuration, so a removed node far behind in
  // term that keeps refusing it is stuck, and should say so, naming that leader.
  if (message.term > core.currentTerm + core.config.maxTermJump) return refuse(core, from, 'termJump', message.term);
  // A deposed leader's older configuration must not talk a node added since out of the cluster:
  // whoever added it led a term at least as new as the one this node has seen since.
  if (message.term < core.currentTerm || core.role === 'leader') return;
  // Only a leader says this. A term's leader is pinned once heard: another member claiming to
  // speak for that term is disproved (SPEC "Leader authority"); a faulty follower's notice would
  // otherwise fail this node's proposals and reads and stop it campaigning. With none pinned for
  // the notice's term, only a voter of ours may say it, never a learner, which never leads (a
  // learner of ours promoted while we were away is believed once a voter named it to us): a
  // learner sending notices for the next term, one per election timeout, kept a leaderless
  // cluster's voters from campaigning (an outside review, 2026-12-06).
  if (from !== pinnedForTerm && (pinnedForTerm !== null || !isVoter(core, from))) return refuse(core, from, 'notMemberNotFromLeader', message.term);
  // A notice overtaken by the configuration that re-admitted this node (frames may arrive out of
  // order) says nothing about now.
  if (core.membership.members.has(core.id) && latestConfigIndex(core) > message.configIndex) return;
  core.removalNotice = { from, term: message.term, configIndex: message.configIndex, at: core.now, confirming: false };
}

/**
 * A notice lapses unless renewed: if its sender died, this node may be needed to elect the next
 * leader after all (an uncommitted C_new removing it, then the teller's death: seed 90198). A live
 * leader answers whatever this node sends it with another notice, so once the notice is an
 * election timeout old the node asks the voters of its configuration who leads (a pre-vote as a
 * question, which a live leader answers with a fresh notice), and only when that goes unanswered
 * for the shortest election timeout does the notice lapse and the node campaign. It used to lapse at
 * once: a removed node pre-voted every ~450 ms while its leader lived, each campaign refused,
 * where SPEC says removed nodes stop campaigning once they learn of their removal.
 */
export function ageRemovalNotice(core: CoreState): void {
  const notice = core.removalNotice;
  if (notice === null) return;
  const age = core.now - notice.at;
  // A live leader answers the question within a round trip, which the shortest election timeout
  // exceeds by far (Raft's timing requirement).
  if (notice.confirming) {
    if (age >= core.config.electionTimeoutMinMs) core.removalNotice = null;
    return;
  }
  if (age < core.config.electionTimeoutMaxMs) return;
  // A node that may campaign anyway (an outgoing voter whose removal is uncommitted, or one
  // campaigning already) has no use for the answer: its notice lapses as it always did.
  if (core.role === 'candidate' || core.preCandidate || mayCampaignAsOutgoingVoter(core)) {
    core.removalNotice = null;
    return;
  }
  core.removalNotice = { ...notice, at: core.now, confirming: true };
  // The teller is asked too: a leader this node's configuration does not list as a voter (a
  // learner of it promoted, or a node admitted while this one was away, named by a voter:
  // known-leader.ts) is never among the voters asked, so its notice lapsed every two election
  // timeouts while it led, and the next proposal went to it again, to fail with its outcome unknown.
  askVotersWhoLeads(core, notice.from);
}

/**
 * Outside the cluster: a leader said so lately, or a configuration this node received (in its
 * log or a snapshot) leaves it out and no leader replicates to it any more. A bootstrap
 * configuration without it does not count: a newcomer waits there to be admitted. While a
 * leader still replicates, the node may be catching up through its own removal towards the
 * configuration that re-admitted it, or be a removed member still receiving the log until the
 * change commits. A removed leader counts once it has stepped down.
 */
export function outsideCluster(core: CoreState): boolean {
  if (core.role === 'leader') return false;
  if (core.removalNotice !== null) return true;
  const hearingLeader = core.leaderId !== null && core.now - core.lastLeaderContact < core.config.electionTimeoutMinMs;
  return core.removedByConfig && !hearingLeader;
}

/**
 * Proposals and reads waiting on a leader would wait forever outside the cluster (no leader
 * replicates to this node, or answers it): they fail instead, and the node says so once.
 */
export function settleCallsOutsideCluster(core: CoreState): void {
  const outside = outsideCluster(core);
  if (!outside) return;
  if (!core.reportedOutside) {
    core.reportedOutside = true;
    const notice = core.removalNotice;
    pushMetric(core, notice === null ? { type: 'removedFromCluster', toldBy: null, term: core.currentTerm, configIndex: latestConfigIndex(core) } : { type: 'removedFromCluster', toldBy: notice.from, term: notice.term, configIndex: notice.configIndex });
  }
  for (const forward of core.forwards.values()) {
    // A forward never sent is known not to be in the log; one sent may have been appended.
    core.outcomes.push({ type: 'failed', proposalId: forward.proposalId, failure: forward.correlationId === 0 ? 'notMember' : 'removedWhileInFlight' });
    core.awaited.remove(forward.proposalId);
  }
  core.forwards.clear();
  for (const read of core.pendingReads.values()) core.reads.push({ readId: read.readId, failure: 'notMember' });
  core.pendingReads.clear();
}
