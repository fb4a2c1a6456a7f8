// The campaign's verdict, from its history alone (history.ts). A problem is a sentence naming the
// operation or member at fault; no problems means the run passed.
//   Convergence: every live member holds the same applied-id list, configuration and leader.
//   Exactly once: no id applied twice; every acknowledged dispatch applied; a definite failure
//     never applied; nothing applied that nobody dispatched (an unknown outcome: at most once,
//     which the no-duplicate rule covers).
//   Linearizability: every state a member answered (a read, a dispatch's resulting state) is a
//     prefix of the final list — one order, seen growing; a dispatch appears in its own resulting
//     state; a read or dispatch that began after a dispatch was acknowledged sees it.
//   Membership: the policy's odd voter count for the members present, every live member in the
//     configuration and nobody else (departed tabs and ids given up after a wedge are gone),
//     every member following the one leader; every live tab started again after the heal.
//   Liveness after the heal: each live member's final dispatch and read succeeded.
//   The edge peer, when it answered at the end, is joined and running and follows the tabs' leader.
//   A witness (`--witness`) never leads: any sighting fails the run (its log, its /healthz, a
//     tab's node naming it leader at any time, its final role). Its applied state is not
//     compared: it keeps none (an empty snapshot every 1,000 entries), and convergence compares
//     the tabs' lists only (`final` holds tabs alone, with or without a witness). It counts as a
//     member for the voter count and the configuration like any edge peer. The quiet end expects
//     liveness, as the documented trade-off allows once every faulted member is back; the one
//     case it does not (a tab that left for good while the tabs left could not elect one of
//     themselves without the witness) is one the campaign holds back, so a departure like that
//     fails the run as the campaign's mistake, naming the trade-off (witness.ts).
import { prefixDigests } from './digest.ts';
import type { ChaosHistory, DispatchRecord, FinalMember, OperationRecord } from './history.ts';
import { strandingLeaveReason } from './witness.ts';

export interface Verdict {
  readonly passed: boolean;
  readonly problems: readonly string[];
  readonly acknowledged: number;
  readonly unknown: number;
  readonly failed: number;
  readonly reads: number;
  readonly applied: number;
}

/** At most this many problems are listed per rule: one broken rule can break thousands of operations. */
const maxProblemsPerRule = 10;

/** The policy's voter count for `members` peers: the largest odd number up to the target (rule 3). */
export function expectedVoterCount(members: number, targetVoters: number): number {
  const wanted = Math.min(members, targetVoters);
  return wanted % 2 === 1 ? wanted : Math.max(1, wanted - 1);
}

function collector() {
  const problems: string[] = [];
  const perRule = new Map<string, number>();
  return {
    problems,
    add(rule: string, text: string): void {
      const count = (perRule.get(rule) ?? 0) + 1;
      perRule.set(rule, count);
      if (count <= maxProblemsPerRule) problems.push(`${rule}: ${text}`);
      else if (count === maxProblemsPerRule + 1) problems.push(`${rule}: … more of the same omitted`);
    },
  };
}
type Problems = ReturnType<typeof collector>;

const describe = (operation: OperationRecord): string =>
  `${operation.kind}${operation.kind === 'dispatch' ? ` ${operation.operationId}` : ''} on ${operation.tab} invoked at ${operation.invokedAtMs.toFixed(0)} ms`;

function checkConvergence(members: readonly FinalMember[], problems: Problems): readonly string[] | null {
  const first = members[0];
  if (first === undefined) {
    problems.add('convergence', 'no live member at the end');
    return null;
  }
  for (const member of members.slice(1)) {
    const same = member.appliedIds.length === first.appliedIds.length && member.appliedIds.every((id, position) => id === first.appliedIds[position]);
    if (!same) problems.add('convergence', `${member.tab} (${member.status.id}) holds ${member.appliedIds.length} ids, ${first.tab} (${first.status.id}) ${first.appliedIds.length}, and they differ`);
    if (member.status.voters.join() !== first.status.voters.join() || member.status.learners.join() !== first.status.learners.join()) {
      problems.add('convergence', `${member.tab} has voters [${member.status.voters.join(', ')}] learners [${member.status.learners.join(', ')}], ${first.tab} [${first.status.voters.join(', ')}] / [${first.status.learners.join(', ')}]`);
    }
  }
  // The longest list judges the operations: a shorter one is already reported above.
  return members.reduce((longest, member) => (member.appliedIds.length > longest.length ? member.appliedIds : longest), first.appliedIds);
}

function checkExactlyOnce(history: ChaosHistory, applied: readonly string[], problems: Problems): void {
  const seen = new Set<string>();
  for (const id of applied) {
    if (seen.has(id)) problems.add('exactly once', `${id} applied twice`);
    seen.add(id);
  }
  const dispatched = new Map<string, DispatchRecord>();
  for (const operation of history.operations) if (operation.kind === 'dispatch') dispatched.set(operation.operationId, operation);
  for (const id of seen) if (!dispatched.has(id)) problems.add('exactly once', `${id} applied but never dispatched`);
  for (const operation of dispatched.values()) {
    if (operation.outcome === 'ok' && !seen.has(operation.operationId)) problems.add('exactly once', `${describe(operation)} was acknowledged but is not applied`);
    if (operation.outcome === 'failed' && seen.has(operation.operationId)) problems.add('exactly once', `${describe(operation)} failed definitely (${operation.error ?? ''}) but was applied`);
  }
}

function checkLinearizable(history: ChaosHistory, applied: readonly string[], problems: Problems): void {
  const digests = prefixDigests(applied);
  const position = new Map(applied.map((id, index) => [id, index]));
  const answered = history.operations.filter((operation) => operation.outcome === 'ok' && operation.completedAtMs !== null);
  for (const operation of answered) {
    const length = operation.length ?? -1;
    if (length < 0 || length > applied.length || digests[length] !== operation.digest) {
      problems.add('linearizability', `${describe(operation)} answered a state of ${length} ids that is not a prefix of the final list`);
      continue;
    }
    if (operation.kind === 'dispatch' && (position.get(operation.operationId) ?? Infinity) >= length) {
      problems.add('linearizability', `${describe(operation)} is missing from its own resulting state`);
    }
  }
  // Real time: an operation that began after a dispatch was acknowledged must see it. Sweep the
  // operations by invocation, the acknowledgements by completion, keeping the furthest position.
  const acknowledgements = answered
    .filter((operation): operation is DispatchRecord => operation.kind === 'dispatch')
    .map((operation) => ({ at: operation.completedAtMs ?? Infinity, position: position.get(operation.operationId) ?? -1, operation }))
    .sort((first, second) => first.at - second.at);
  let next = 0;
  let furthest: { position: number; operation: DispatchRecord } | null = null;
  for (const operation of [...answered].sort((first, second) => first.invokedAtMs - second.invokedAtMs)) {
    while (next < acknowledgements.length && (acknowledgements[next]?.at ?? Infinity) < operation.invokedAtMs) {
      const acknowledged = acknowledgements[next];
      if (acknowledged !== undefined && (furthest === null || acknowledged.position > furthest.position)) furthest = acknowledged;
      next += 1;
    }
    if (furthest !== null && (operation.length ?? 0) <= furthest.position) {
      problems.add('linearizability', `${describe(operation)} saw ${operation.length ?? 0} ids, missing ${furthest.operation.operationId} acknowledged at ${(furthest.operation.completedAtMs ?? 0).toFixed(0)} ms before it began`);
    }
  }
}

function checkMembership(history: ChaosHistory, members: readonly FinalMember[], problems: Problems): void {
  for (const tab of history.unstartable) problems.add('membership', `${tab} could not start again after the heal`);
  const first = members[0];
  if (first === undefined) return;
  const present = new Set(members.map((member) => member.status.id));
  if (history.edgePeerId !== null) present.add(history.edgePeerId);
  const expected = expectedVoterCount(present.size, history.targetVoters);
  if (first.status.voters.length !== expected) problems.add('membership', `${first.status.voters.length} voters for ${present.size} members; the policy wants ${expected}`);
  const configured = new Set([...first.status.voters, ...first.status.learners]);
  for (const id of present) if (!configured.has(id)) problems.add('membership', `live member ${id} is neither voter nor learner`);
  for (const id of configured) if (!present.has(id)) problems.add('membership', `${id} is still in the configuration but no live tab runs it${history.departedIds.includes(id) ? ' (its tab left)' : ''}`);
  const leaders = new Set(members.map((member) => member.status.leader));
  if (leaders.size !== 1 || leaders.has(null)) problems.add('membership', `members follow different leaders or none: ${members.map((member) => `${member.tab}→${member.status.leader ?? 'none'}`).join(', ')}`);
  const leading = members.filter((member) => member.status.role === 'leader').length + (history.edgePeerId !== null && leaders.has(history.edgePeerId) ? 1 : 0);
  if (leading !== 1) problems.add('membership', `${leading} members lead`);
}

function checkEdgeFollows(history: ChaosHistory, members: readonly FinalMember[], problems: Problems): void {
  const leader = members[0]?.status.leader ?? null;
  const edge = history.edgeFinal;
  if (edge === null) return;
  // Joined and running: 'joining' after the heal's bound, or 'stopped' (its node failed).
  if (edge.status !== 'ok') return problems.add('membership', `the edge peer ${edge.id} is ${edge.status} at the end`);
  if (leader === null || !members.every((member) => member.status.leader === leader)) return;
  if ((edge.leader ?? null) !== leader) problems.add('membership', `the edge peer ${edge.id} follows ${edge.leader ?? 'no leader'}, the tabs ${leader}`);
}

function checkWitness(history: ChaosHistory, members: readonly FinalMember[], problems: Problems): void {
  if (!history.edgePeerWitness) return;
  for (const seen of history.edgeLeaderObservations) problems.add('witness', `the witness ${seen.id} was seen leading (${seen.source}, at ${seen.atMs.toFixed(0)} ms)`);
  const witnessIds = history.edgePeerIds;
  for (const member of members) {
    for (const id of witnessIds) {
      if (member.status.leader === id || member.status.leadersSeen.includes(id)) problems.add('witness', `${member.tab} named the witness ${id} leader`);
    }
  }
  if (history.edgeFinal?.role === 'leader') problems.add('witness', `the witness ${history.edgeFinal.id} leads at the end`);
  for (const departure of history.departures) {
    const reason = departure.voters === null || departure.id === null ? 'its configuration was unknown' : strandingLeaveReason(departure.voters, departure.id, witnessIds);
    if (reason !== null) {
      problems.add('witness trade-off', `${departure.tab} left for good at ${departure.atMs.toFixed(0)} ms while ${reason}: by design the room may elect nobody until it returns, which it never will (README "Edge peers"); the campaign should have held this leave back, so any liveness failure here is not the library's`);
    }
  }
}

function checkFinalOperations(history: ChaosHistory, members: readonly FinalMember[], problems: Problems): void {
  for (const member of members) {
    for (const kind of ['dispatch', 'read'] as const) {
      const final = history.operations.find((operation) => operation.final && operation.kind === kind && operation.tab === member.tab);
      if (final === undefined) problems.add('liveness', `${member.tab} ran no final ${kind}`);
      else if (final.outcome !== 'ok') problems.add('liveness', `${describe(final)} after the heal ended ${final.outcome}${final.error === undefined ? '' : ` (${final.error})`}`);
    }
  }
}

export function checkHistory(history: ChaosHistory): Verdict {
  const problems = collector();
  if (history.convergenceTimeout !== null) problems.add('convergence', history.convergenceTimeout);
  const applied = checkConvergence(history.final, problems);
  if (applied !== null) {
    checkExactlyOnce(history, applied, problems);
    checkLinearizable(history, applied, problems);
  }
  checkMembership(history, history.final, problems);
  checkEdgeFollows(history, history.final, problems);
  checkWitness(history, history.final, problems);
  checkFinalOperations(history, history.final, problems);
  const dispatches = history.operations.filter((operation) => operation.kind === 'dispatch');
  return {
    passed: problems.problems.length === 0,
    problems: problems.problems,
    acknowledged: dispatches.filter((operation) => operation.outcome === 'ok').length,
    unknown: dispatches.filter((operation) => operation.outcome === 'unknown').length,
    failed: dispatches.filter((operation) => operation.outcome === 'failed').length,
    reads: history.operations.filter((operation) => operation.kind === 'read' && operation.outcome === 'ok').length,
    applied: applied?.length ?? 0,
  };
}
