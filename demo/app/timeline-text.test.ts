import { describe, expect, it } from 'vitest';
import { nodeId, type MembershipDecision } from 'raftmesh';
import { describeChangeFailure, describeDecision, describeHeardAgain, describeMembership, describeSilence, listOf } from './timeline-text.ts';

const names: Record<string, string> = { 'peer-a': 'Ana', 'peer-b': 'Bo', 'peer-c': 'Cy' };
const nameOf = (id: string): string => names[id] ?? id;
const [a, b, c] = ['peer-a', 'peer-b', 'peer-c'].map(nodeId) as [ReturnType<typeof nodeId>, ReturnType<typeof nodeId>, ReturnType<typeof nodeId>];

describe('timeline sentences', () => {
  it('lists names the way a sentence does', () => {
    expect(listOf([])).toBe('nobody');
    expect(listOf(['Ana'])).toBe('Ana');
    expect(listOf(['Ana', 'Bo'])).toBe('Ana and Bo');
    expect(listOf(['Ana', 'Bo', 'Cy'])).toBe('Ana, Bo and Cy');
  });

  it('words every membership decision with names, not ids or JSON', () => {
    const decisions: [MembershipDecision, string][] = [
      [{ type: 'addLearner', added: b, target: { voters: [a], learners: [b] } }, 'Bo joins as a learner (it receives the log before it may vote)'],
      [{ type: 'promoteLearners', promoted: [b, c], target: { voters: [a, b, c] } }, 'Bo and Cy caught up: promoted to voters'],
      [{ type: 'promoteLearners', promoted: [b], target: { voters: [a, b] } }, 'Bo caught up: promoted to a voter'],
      [{ type: 'replaceVoter', removed: c, promoted: b, target: { voters: [a, b] } }, 'Cy is unreachable: Bo takes its vote'],
      [{ type: 'removeVoter', removed: c, target: { voters: [a, b] } }, 'Cy is unreachable: removed from the voters'],
      [{ type: 'demoteVoter', demoted: c, target: { voters: [a], learners: [c] } }, 'Cy becomes a learner again, for an odd number of voters'],
      [{ type: 'removeLearner', removed: c, target: { voters: [a] } }, 'Cy is unreachable: removed from the learners'],
      [{ type: 'dropSilentLearner', removed: c, target: { voters: [a] } }, 'Cy stopped answering the leader: its learner slot goes to a newcomer'],
    ];
    for (const [decision, sentence] of decisions) expect(describeDecision(decision)(nameOf)).toBe(sentence);
  });

  it('words a change leadership interrupted as routine (membership), and any other failure as an error naming the change', () => {
    const decision: MembershipDecision = { type: 'addLearner', added: b, target: { voters: [a], learners: [b] } };
    const interrupted = describeChangeFailure(decision, 'LeadershipLostError: leadership lost while the membership change was in flight; it may still commit');
    expect([interrupted.kind, interrupted.wording(nameOf)]).toEqual(['membership', 'interrupted, leadership moved (the next leader decides again): Bo joins as a learner (it receives the log before it may vote)']);
    expect(describeChangeFailure(decision, 'NotLeaderError: not the current leader (leader is peer-c)').kind).toBe('membership');
    const failed = describeChangeFailure(decision, 'RangeError: the configuration would have no voter');
    expect([failed.kind, failed.wording(nameOf)]).toEqual(['error', 'a membership change failed (Bo joins as a learner (it receives the log before it may vote)): RangeError: the configuration would have no voter']);
  });

  it('words a configuration, and names looked up when drawn', () => {
    const wording = describeMembership({ voters: [a, b], learners: [c] });
    expect(wording((id) => id)).toBe('voters peer-a and peer-b; learners peer-c');
    expect(wording(nameOf)).toBe('voters Ana and Bo; learners Cy');
    expect(describeMembership({ voters: [a] })(nameOf)).toBe('voters Ana');
  });

  it('words a member going silent and being heard again, by name once known, with whole seconds', () => {
    expect(describeSilence(b, 3_000)(nameOf)).toBe('Bo went silent: nothing received from it for 3 s, though its connection is open');
    expect(describeSilence(b, 3_400)((id) => id.slice(0, 7))).toBe('peer-b went silent: nothing received from it for 3 s, though its connection is open');
    expect(describeHeardAgain(b, 12_900)(nameOf)).toBe('Bo is heard again, after 12 s of silence');
    expect(describeHeardAgain(c, 125_000)(nameOf)).toBe('Cy is heard again, after 2 min of silence');
  });
});
