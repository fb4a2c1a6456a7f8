// The automatic membership policy of a room, as a pure function: the leader's view in, at most
// one membership change out. The runner (membership-runner.ts) feeds it and applies the change
// with changeMembership (joint consensus), one at a time.
//
// Rules, first match wins:
//   1. A voter unreachable for `unreachableAfterMs`, or that has not answered this leader for
//      `silentAfterMs` though reachable, is replaced by a caught-up learner (one joint change: the
//      learner in, the lost voter out); with no such learner it is removed. Reachable is not
//      enough: a page whose node stopped (its storage failed, its worker crashed) may keep its
//      connections, and such a voter, never replaced, left the room one departure from a stall
//      (review s52; joinRoom now also closes the connections of a node that stops).
//   2. A reachable peer that is not a member joins as a learner, the longest waiting first (by
//      when this peer last saw it start waiting: reachable and outside the configuration), but
//      not while its hello says it runs no node yet (it is still discovering): listed as a learner
//      before it decides, it would take the listing for its id's old membership and give the id
//      up (discover-cluster.ts identityReused). The runner counts a peer not heard from at all as
//      discovering too: its first hello may still be on its way (room-coordinator.ts).
//   3. Caught-up learners (acknowledged something, close to the commit index, reachable and
//      answering this leader) are promoted while voters < targetVoters, to the largest odd count the
//      ready learners allow (1 -> 3 -> 5): an even count tolerates no more failures than the odd
//      count below it but needs one more acknowledgement per commit. A named witness counts like
//      any peer but is promoted first and removed last.
//   4. An even voter count with no learner ready to make it odd again (a voter was removed)
//      demotes one reachable voter to learner: 4 voters tolerate one failure like 3 but wait for
//      3 acknowledgements instead of 2, and 2 voters stall when either leaves while 1 voter and a
//      learner stall only when the voter does. Never the leader itself, the witness last.
//   5. A learner unreachable for `unreachableAfterMs` is dropped (the config stays bounded).
//   6. With every learner slot taken and a reachable non-member waiting, the learner that has
//      not answered this leader for `silentAfterMs` (longest first, the witness never) is
//      dropped, so connected ids that run no node cannot hold the slots for good. A dropped id
//      starts waiting again, behind everyone already waiting, and so does an id new to the room:
//      first come, first served, so fresh ids cannot cut in line (review s33).
// Every change must be committable now: the live voters (reachable and answering this leader) must
// be a majority of both the old and the new voter sets (otherwise a stuck joint config would block
// every later change). A voter that is reachable and answers is never removed, and the voter set
// is never empty.
import { describeValue } from '../core/describe-value.ts';
import type { ClusterConfig, NodeId } from '../core/types.ts';

export interface MembershipPolicySettings {
  /** Voters wanted (1..9, default 5); odd values make sense, see rule 3. */
  readonly targetVoters: number;
  /** How long a member must be unreachable before it is replaced or removed (default 10 s). */
  readonly unreachableAfterMs: number;
  /** A learner within this many entries of the leader's commit index counts as caught up. */
  readonly catchUpLagEntries: number;
  /** Learners kept at most (further newcomers wait); bounds the config and the leader's fan-out. */
  readonly maxLearners: number;
  /** An always-on peer preferred as a voter (two-peer rooms, README "Rooms"). */
  readonly witness: NodeId | null;
  /**
   * How long a learner may go without answering the leader before its slot goes to a waiting
   * newcomer (rule 6), and a voter before it is replaced like an unreachable one (rule 1); default
   * 30 s. joinRoom refuses a value shorter than twice the time a wedged member may take to give up
   * its id (it refuses the leader's frames, so it does not answer; `silenceFloorMs`), and raises
   * the default to it. A learner installing a snapshot answers every chunk.
   */
  readonly silentAfterMs: number;
}

export const defaultMembershipPolicySettings: MembershipPolicySettings = {
  targetVoters: 5,
  unreachableAfterMs: 10_000,
  catchUpLagEntries: 16,
  maxLearners: 16,
  witness: null,
  silentAfterMs: 30_000,
};

export interface MembershipView {
  readonly selfId: NodeId;
  readonly now: number;
  /** The latest configuration (the runner decides only when no change is in flight). */
  readonly config: ClusterConfig;
  readonly commitIndex: number;
  /** Each peer's match index as the leader knows it. */
  readonly matchIndex: ReadonlyMap<NodeId, number>;
  /** Peers the transport reaches now (self excluded). */
  readonly reachable: ReadonlySet<NodeId>;
  /** For each member not reachable now: since when (clock of `now`). */
  readonly unreachableSince: ReadonlyMap<NodeId, number>;
  /** For each member (voter or learner) not answering this leader (RaftNode.silentPeers): since when it was seen so. */
  readonly silentSince: ReadonlyMap<NodeId, number>;
  /** For each reachable non-member: since when it has been waiting (reachable and outside the configuration). */
  readonly waitingSince: ReadonlyMap<NodeId, number>;
  /** Reachable peers whose latest hello says they run no node yet (discovering), or not heard from: not admitted yet (rule 2). */
  readonly discovering?: ReadonlySet<NodeId>;
}

export type MembershipDecision =
  | { readonly type: 'replaceVoter'; readonly removed: NodeId; readonly promoted: NodeId; readonly target: ClusterConfig }
  | { readonly type: 'removeVoter'; readonly removed: NodeId; readonly target: ClusterConfig }
  | { readonly type: 'addLearner'; readonly added: NodeId; readonly target: ClusterConfig }
  | { readonly type: 'promoteLearners'; readonly promoted: readonly NodeId[]; readonly target: ClusterConfig }
  | { readonly type: 'demoteVoter'; readonly demoted: NodeId; readonly target: ClusterConfig }
  | { readonly type: 'removeLearner'; readonly removed: NodeId; readonly target: ClusterConfig }
  | { readonly type: 'dropSilentLearner'; readonly removed: NodeId; readonly target: ClusterConfig };

export function validatePolicySettings(settings: MembershipPolicySettings): MembershipPolicySettings {
  const check = (name: string, value: number, min: number, max: number): void => {
    if (!Number.isSafeInteger(value) || value < min || value > max) throw new RangeError(`membership policy ${name} = ${describeValue(value)} must be an integer in ${min}..${max}`);
  };
  check('targetVoters', settings.targetVoters, 1, 9);
  check('unreachableAfterMs', settings.unreachableAfterMs, 1, 86_400_000);
  check('catchUpLagEntries', settings.catchUpLagEntries, 0, 1_000_000);
  check('maxLearners', settings.maxLearners, 0, 64);
  check('silentAfterMs', settings.silentAfterMs, 1, 86_400_000);
  return settings;
}

/** What the rules need, derived once from the view. */
interface Facts {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  /** Reachable and answering this leader (itself always). */
  readonly live: (id: NodeId) => boolean;
  /** Unreachable for unreachableAfterMs. */
  readonly lost: (id: NodeId) => boolean;
  /** A voter to replace: lost, or reachable but not answering for silentAfterMs (rule 1). */
  readonly lostVoter: (id: NodeId) => boolean;
  readonly caughtUp: (id: NodeId) => boolean;
  /** Witness first, then by id: decisions do not depend on map order. */
  readonly preference: (left: NodeId, right: NodeId) => number;
}

function factsOf(view: MembershipView, settings: MembershipPolicySettings): Facts {
  const reachable = (id: NodeId): boolean => id === view.selfId || view.reachable.has(id);
  // A peer that does not answer acknowledges nothing: counted as a live voter, it let changes
  // start that could not commit, and as a caught-up learner, it was promoted (review s52).
  const live = (id: NodeId): boolean => id === view.selfId || (reachable(id) && !view.silentSince.has(id));
  const lost = (id: NodeId): boolean => !reachable(id) && view.now - (view.unreachableSince.get(id) ?? view.now) >= settings.unreachableAfterMs;
  const silentSince = (id: NodeId): number | undefined => (id === view.selfId ? undefined : view.silentSince.get(id));
  const rank = (id: NodeId): number => (id === settings.witness ? 0 : 1);
  return {
    voters: view.config.voters,
    learners: view.config.learners ?? [],
    live,
    lost,
    lostVoter: (id) => lost(id) || view.now - (silentSince(id) ?? view.now) >= settings.silentAfterMs,
    // A match index of 0 means the peer never acknowledged anything (it may not even run a node
    // yet): never caught up, however short the log.
    caughtUp: (id) => {
      if (id === view.selfId) return true;
      const matchIndex = view.matchIndex.get(id) ?? 0;
      return live(id) && matchIndex > 0 && matchIndex + settings.catchUpLagEntries >= view.commitIndex;
    },
    preference: (left, right) => rank(left) - rank(right) || (left < right ? -1 : left > right ? 1 : 0),
  };
}

/** The reachable voters are a majority of the old and of the new voter set. */
function committable(facts: Facts, newVoters: readonly NodeId[]): boolean {
  const majorityLive = (voters: readonly NodeId[]): boolean => voters.filter(facts.live).length * 2 > voters.length;
  return newVoters.length > 0 && majorityLive(facts.voters) && majorityLive(newVoters);
}

const config = (voters: readonly NodeId[], learners: readonly NodeId[]): ClusterConfig => (learners.length === 0 ? { voters: [...voters] } : { voters: [...voters], learners: [...learners] });

/** At most one change; null when the membership is as it should be (or nothing can commit now). */
export function decideMembershipChange(view: MembershipView, settings: MembershipPolicySettings): MembershipDecision | null {
  const facts = factsOf(view, settings);
  if (!committable(facts, facts.voters)) return null;
  return (
    replaceOrRemoveLostVoter(facts) ??
    addNewcomer(view, settings, facts) ??
    promoteLearners(settings, facts) ??
    demoteToOddCount(view, facts) ??
    removeLostLearner(facts) ??
    dropSilentLearner(view, settings, facts)
  );
}

function replaceOrRemoveLostVoter(facts: Facts): MembershipDecision | null {
  // Witness last among the lost: it is the one meant to stay.
  const lost = facts.voters.filter(facts.lostVoter).sort((left, right) => -facts.preference(left, right));
  const replacement = facts.learners.filter(facts.caughtUp).sort(facts.preference)[0];
  for (const removed of lost) {
    const remaining = facts.voters.filter((voter) => voter !== removed);
    if (replacement !== undefined) {
      const voters = [...remaining, replacement];
      if (committable(facts, voters)) return { type: 'replaceVoter', removed, promoted: replacement, target: config(voters, facts.learners.filter((learner) => learner !== replacement)) };
    }
    if (committable(facts, remaining)) return { type: 'removeVoter', removed, target: config(remaining, facts.learners) };
  }
  return null;
}

/** Reachable peers outside the configuration, in the order rule 2 admits them. */
function waitingPeers(view: MembershipView, facts: Facts): NodeId[] {
  const members = new Set([...facts.voters, ...facts.learners]);
  // First come, first served; an untracked peer (just reachable) counts as arriving now.
  const since = (id: NodeId): number => view.waitingSince.get(id) ?? view.now;
  const order = (left: NodeId, right: NodeId): number => since(left) - since(right) || facts.preference(left, right);
  return [...view.reachable].filter((peer) => !members.has(peer) && view.discovering?.has(peer) !== true).sort(order);
}

function addNewcomer(view: MembershipView, settings: MembershipPolicySettings, facts: Facts): MembershipDecision | null {
  if (facts.learners.length >= settings.maxLearners) return null;
  const added = waitingPeers(view, facts)[0];
  if (added === undefined) return null;
  return { type: 'addLearner', added, target: config(facts.voters, [...facts.learners, added]) };
}

function promoteLearners(settings: MembershipPolicySettings, facts: Facts): MembershipDecision | null {
  const ready = facts.learners.filter(facts.caughtUp).sort(facts.preference);
  const reachable = Math.min(settings.targetVoters, facts.voters.length + ready.length);
  const wanted = reachable % 2 === 1 ? reachable : reachable - 1;
  if (wanted <= facts.voters.length) return null;
  const promoted = ready.slice(0, wanted - facts.voters.length);
  const voters = [...facts.voters, ...promoted];
  if (!committable(facts, voters)) return null;
  return { type: 'promoteLearners', promoted, target: config(voters, facts.learners.filter((learner) => !promoted.includes(learner))) };
}

function demoteToOddCount(view: MembershipView, facts: Facts): MembershipDecision | null {
  // While a voter is unreachable, rule 1 (or its return) settles the count first.
  if (facts.voters.length % 2 === 1 || !facts.voters.every(facts.live)) return null;
  const candidates = facts.voters.filter((voter) => voter !== view.selfId);
  const demoted = candidates.sort((left, right) => -facts.preference(left, right))[0];
  if (demoted === undefined) return null;
  const voters = facts.voters.filter((voter) => voter !== demoted);
  if (!committable(facts, voters)) return null;
  return { type: 'demoteVoter', demoted, target: config(voters, [...facts.learners, demoted]) };
}

function removeLostLearner(facts: Facts): MembershipDecision | null {
  const removed = facts.learners.filter(facts.lost).sort(facts.preference)[0];
  if (removed === undefined) return null;
  return { type: 'removeLearner', removed, target: config(facts.voters, facts.learners.filter((learner) => learner !== removed)) };
}

function dropSilentLearner(view: MembershipView, settings: MembershipPolicySettings, facts: Facts): MembershipDecision | null {
  // Only a newcomer kept out is worth the change: otherwise a silent learner costs the leader a
  // few frames, and may yet answer (a page still starting its node).
  if (facts.learners.length < settings.maxLearners || waitingPeers(view, facts).length === 0) return null;
  const silentFor = (id: NodeId): number => view.now - (view.silentSince.get(id) ?? view.now);
  const removed = facts.learners
    .filter((learner) => learner !== settings.witness && view.silentSince.has(learner) && silentFor(learner) >= settings.silentAfterMs)
    .sort((left, right) => silentFor(right) - silentFor(left) || facts.preference(left, right))[0];
  if (removed === undefined) return null;
  return { type: 'dropSilentLearner', removed, target: config(facts.voters, facts.learners.filter((learner) => learner !== removed)) };
}

export interface MembershipPolicy {
  readonly settings: MembershipPolicySettings;
  /** At most one change for this view; null when nothing should (or can) change now. */
  decide(view: MembershipView): MembershipDecision | null;
}

/** The policy joinRoom runs on the leader, with its settings validated once. */
export function createMembershipPolicy(settings: Partial<MembershipPolicySettings> = {}): MembershipPolicy {
  const resolved = validatePolicySettings({ ...defaultMembershipPolicySettings, ...settings });
  return { settings: resolved, decide: (view) => decideMembershipChange(view, resolved) };
}
