// The checker against hand-made histories: a clean one passes, and each doctored copy (the kind of
// history a broken library would produce) fails with the rule it breaks, so a green campaign means
// the checks ran, not that they could not fail.
import { describe, expect, it } from 'vitest';
import { checkHistory, expectedVoterCount } from './checker.ts';
import { digestOf } from './digest.ts';
import type { ChaosHistory, DispatchRecord, FinalMember, ReadRecord } from './history.ts';
import type { ChaosPeerStatus } from './page-api.ts';
import { countFaults } from './schedule.ts';
import { strandingLeaveReason } from './witness.ts';

const ids = ['a', 'b', 'c'] as const;

function status(id: string, applied: readonly string[], role: string): ChaosPeerStatus {
  return { id, role, leader: 'a', term: 3, voters: ['a', 'b', 'c'], learners: [], commitIndex: 9, appliedIndex: 9, connected: true, reachable: [], leadersSeen: ['a'], length: applied.length, digest: digestOf(applied) };
}

function member(index: number, applied: readonly string[]): FinalMember {
  const id = ids[index] ?? 'x';
  return { tab: `tab-${index + 1}`, status: status(id, applied, index === 0 ? 'leader' : 'follower'), appliedIds: applied, events: [], configurations: [] };
}

const dispatch = (operationId: string, tab: string, invokedAtMs: number, completedAtMs: number | null, state: readonly string[] | null, final = false): DispatchRecord => ({
  kind: 'dispatch',
  operationId,
  tab,
  invokedAtMs,
  completedAtMs,
  outcome: state === null ? 'unknown' : 'ok',
  final,
  ...(state === null ? {} : { length: state.length, digest: digestOf(state) }),
});
const read = (tab: string, invokedAtMs: number, completedAtMs: number, state: readonly string[], final = false): ReadRecord => ({
  kind: 'read', tab, invokedAtMs, completedAtMs, outcome: 'ok', final, length: state.length, digest: digestOf(state),
});

/** Three members; x1 acknowledged, x2 unknown and applied, x3 unknown and lost; every member's final dispatch and read. */
function cleanHistory(): ChaosHistory {
  const applied = ['x1', 'x2', 'f1', 'f2', 'f3'];
  const schedule = { initialTabs: ['tab-1', 'tab-2', 'tab-3'], steps: [] };
  return {
    seed: 7, seconds: 10, startedAt: '', targetVoters: 5, edgePeerId: null, edgePeerIds: [], edgePeerTimeouts: null, schedule, faultsInjected: countFaults(schedule),
    tabs: null, edgePeerWitness: false, edgeLeaderObservations: [], edgeFinal: null, departures: [], leavesHeldBack: 0,
    operations: [
      dispatch('x1', 'tab-1', 0, 10, ['x1']),
      dispatch('x2', 'tab-2', 5, null, null),
      dispatch('x3', 'tab-3', 6, null, null),
      read('tab-2', 11, 20, ['x1']),
      ...[1, 2, 3].flatMap((number) => [
        dispatch(`f${number}`, `tab-${number}`, 100 + number, 200 + number, applied.slice(0, 2 + number), true),
        read(`tab-${number}`, 300, 310, applied, true),
      ]),
    ],
    notes: [],
    final: [0, 1, 2].map((index) => member(index, applied)),
    unstartable: [],
    departedIds: [],
    nodeNames: {},
    convergenceTimeout: null,
  };
}

const problemsOf = (history: ChaosHistory): readonly string[] => checkHistory(history).problems;

describe('the room chaos checker', () => {
  it('passes a clean history', () => {
    expect(checkHistory(cleanHistory())).toMatchObject({ passed: true, problems: [], acknowledged: 4, unknown: 2, applied: 5 });
  });

  it('wants the largest odd voter count up to the target', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((members) => expectedVoterCount(members, 5))).toEqual([1, 1, 3, 3, 5, 5, 5]);
  });

  it('fails an acknowledged dispatch applied twice, and a lost one', () => {
    const doubled = cleanHistory();
    doubled.final = doubled.final.map((one) => ({ ...one, appliedIds: [...one.appliedIds, 'x1'] }));
    expect(problemsOf(doubled)).toContain('exactly once: x1 applied twice');
    const lost = cleanHistory();
    lost.final = lost.final.map((one) => ({ ...one, appliedIds: one.appliedIds.filter((id) => id !== 'f3') }));
    expect(problemsOf(lost).join('\n')).toMatch(/exactly once: dispatch f3 on tab-3 .* acknowledged but is not applied/);
  });

  it('fails a definite failure that was applied, and an id nobody dispatched', () => {
    const history = cleanHistory();
    const unknown = history.operations[1] as DispatchRecord;
    unknown.outcome = 'failed';
    unknown.error = 'RangeError: full';
    history.final = history.final.map((one) => ({ ...one, appliedIds: [...one.appliedIds, 'ghost'] }));
    const problems = problemsOf(history).join('\n');
    expect(problems).toMatch(/dispatch x2 .* failed definitely/);
    expect(problems).toContain('ghost applied but never dispatched');
  });

  it('fails a stale read: it began after x1 was acknowledged and did not see it', () => {
    const history = cleanHistory();
    history.operations[3] = read('tab-2', 11, 20, []);
    expect(problemsOf(history).join('\n')).toMatch(/linearizability: read on tab-2 .* saw 0 ids, missing x1/);
  });

  it('fails a state that is not a prefix of the final order, and a dispatch missing from its own state', () => {
    const reordered = cleanHistory();
    reordered.operations[3] = read('tab-2', 11, 20, ['x2', 'x1']);
    expect(problemsOf(reordered).join('\n')).toMatch(/answered a state of 2 ids that is not a prefix/);
    const missing = cleanHistory();
    missing.operations[0] = dispatch('x1', 'tab-1', 0, 10, []);
    expect(problemsOf(missing).join('\n')).toMatch(/dispatch x1 .* missing from its own resulting state/);
  });

  it('fails members that diverge', () => {
    const history = cleanHistory();
    const last = history.final[2] as FinalMember;
    history.final[2] = { ...last, appliedIds: ['x2', 'x1', 'f1', 'f2', 'f3'] };
    expect(problemsOf(history).join('\n')).toMatch(/convergence: tab-3 .* differ/);
  });

  it('fails a departed member still configured, a wrong voter count, a wedged member and two leaders', () => {
    const history = cleanHistory();
    history.departedIds.push('gone');
    history.final = history.final.map((one, index) => ({ ...one, status: { ...one.status, voters: ['a', 'b', 'c', 'gone'], leader: index === 2 ? null : 'a', role: index === 1 ? 'leader' : one.status.role } }));
    const problems = problemsOf(history).join('\n');
    expect(problems).toContain('gone is still in the configuration but no live tab runs it (its tab left)');
    expect(problems).toContain('4 voters for 3 members; the policy wants 3');
    expect(problems).toMatch(/members follow different leaders or none: .*tab-3→none/);
    expect(problems).toContain('2 members lead');
  });

  it('fails a member that could not commit after the heal, or could not start again', () => {
    const history = cleanHistory();
    const final = history.operations.find((operation) => operation.final && operation.tab === 'tab-2' && operation.kind === 'dispatch') as DispatchRecord;
    final.outcome = 'unknown';
    final.error = 'AbortError: timed out';
    history.unstartable.push('tab-4');
    const problems = problemsOf(history).join('\n');
    expect(problems).toMatch(/liveness: dispatch f2 on tab-2 .* after the heal ended unknown \(AbortError: timed out\)/);
    expect(problems).toContain('membership: tab-4 could not start again after the heal');
  });

  describe('with the edge peer as witness', () => {
    /**
     * Four members: the three tabs and the witness w (a voter, the tabs' voter set with it, so the
     * policy's count for four members: three voters). The witness is not in `final` and its
     * applied index is far from the tabs': it keeps no state, and nothing compares it.
     */
    function witnessHistory(): ChaosHistory {
      const history: ChaosHistory = { ...cleanHistory(), edgePeerTimeouts: 'pages', edgePeerWitness: true };
      history.edgePeerId = 'w';
      history.edgePeerIds = ['v', 'w'];
      history.edgeFinal = { status: 'ok', id: 'w', role: 'follower', leader: 'a', commitIndex: 9, appliedIndex: 2 };
      history.final = history.final.map((one) => ({ ...one, status: { ...one.status, voters: ['a', 'b', 'w'], learners: ['c'] } }));
      return history;
    }

    it('passes a witness that follows, whatever it applied', () => {
      expect(problemsOf(witnessHistory())).toEqual([]);
    });

    it('fails a witness seen leading by its log, its health, a tab, or at the end', () => {
      const logged = witnessHistory();
      logged.edgeLeaderObservations.push({ atMs: 1234, id: 'v', source: 'edge log' });
      expect(problemsOf(logged)).toEqual(['witness: the witness v was seen leading (edge log, at 1234 ms)']);
      const seenByTab = witnessHistory();
      const second = seenByTab.final[1] as FinalMember;
      seenByTab.final[1] = { ...second, status: { ...second.status, leadersSeen: ['a', 'v'] } };
      expect(problemsOf(seenByTab)).toEqual(['witness: tab-2 named the witness v leader']);
      const leading = witnessHistory();
      leading.edgeFinal = { status: 'ok', id: 'w', role: 'leader', leader: 'w' };
      leading.final = leading.final.map((one) => ({ ...one, status: { ...one.status, leader: 'w', role: 'follower' } }));
      const problems = problemsOf(leading);
      expect(problems).toContain('witness: the witness w leads at the end');
      expect(problems).toContain('witness: tab-1 named the witness w leader');
    });

    it('does not hold a full edge peer to the witness rules', () => {
      const full: ChaosHistory = { ...witnessHistory(), edgePeerWitness: false };
      full.edgeLeaderObservations.push({ atMs: 1234, id: 'v', source: 'edge log' });
      expect(problemsOf(full)).toEqual([]);
    });

    it('fails an edge peer that follows another leader than the tabs, or has stopped', () => {
      const history = witnessHistory();
      history.edgeFinal = { status: 'ok', id: 'w', role: 'follower', leader: 'b' };
      expect(problemsOf(history)).toEqual(['membership: the edge peer w follows b, the tabs a']);
      const stopped = witnessHistory();
      stopped.edgeFinal = { status: 'stopped', id: 'w', role: 'follower', leader: 'a' };
      expect(problemsOf(stopped)).toEqual(['membership: the edge peer w is stopped at the end']);
    });

    it('names the trade-off when a tab left a three-voter room with the witness, and not for a safe leave', () => {
      const stranded = witnessHistory();
      stranded.departures.push({ atMs: 500, tab: 'tab-4', id: 'd', voters: ['a', 'd', 'w'] });
      expect(problemsOf(stranded).join('\n')).toMatch(/witness trade-off: tab-4 left for good at 500 ms while d is one of 3 voters .* never will/);
      const safe = witnessHistory();
      safe.departures.push({ atMs: 500, tab: 'tab-4', id: 'd', voters: ['a', 'b', 'c', 'd', 'w'] }, { atMs: 900, tab: 'tab-5', id: 'e', voters: ['a', 'b', 'w'] });
      expect(problemsOf(safe)).toEqual([]);
    });
  });

  it('holds a leave back exactly when the tabs left could not elect one of themselves', () => {
    expect(strandingLeaveReason(['a', 'b', 'w'], 'a', ['w'])).not.toBeNull();
    expect(strandingLeaveReason(['a', 'b', 'c', 'w'], 'a', ['w'])).not.toBeNull();
    expect(strandingLeaveReason(['a', 'b', 'c', 'd', 'w'], 'a', ['w'])).toBeNull();
    // An old id of the witness still configured is no tab either.
    expect(strandingLeaveReason(['a', 'b', 'c', 'v', 'w'], 'a', ['v', 'w'])).not.toBeNull();
    // Without the witness among the voters, plain Raft: the most complete tab left is elected.
    expect(strandingLeaveReason(['a', 'b', 'c'], 'a', ['w'])).toBeNull();
    // A learner leaving takes no vote away.
    expect(strandingLeaveReason(['a', 'b', 'w'], 'c', ['w'])).toBeNull();
  });
});
