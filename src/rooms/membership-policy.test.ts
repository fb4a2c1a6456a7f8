import { describe, expect, it } from 'vitest';
import { nodeId, type ClusterConfig, type NodeId } from '../core/types.ts';
import { decideMembershipChange, defaultMembershipPolicySettings, validatePolicySettings, type MembershipPolicySettings, type MembershipView } from './membership-policy.ts';

const ids = (...names: string[]): NodeId[] => names.map(nodeId);

interface Scenario {
  voters: string[];
  learners?: string[];
  reachable: string[];
  /** Members unreachable, with how long ago they were last reachable (ms). */
  goneForMs?: Record<string, number>;
  /** Members that have not answered this leader, with for how long (ms). */
  silentForMs?: Record<string, number>;
  /** Reachable non-members, with how long they have waited (ms); untracked ones arrive now. */
  waitingForMs?: Record<string, number>;
  /** Match index per peer (commit index is 100); default caught up. */
  behind?: string[];
  settings?: Partial<MembershipPolicySettings>;
}

function decide(scenario: Scenario) {
  const matchIndex = new Map<NodeId, number>();
  for (const peer of [...scenario.voters, ...(scenario.learners ?? []), ...scenario.reachable]) matchIndex.set(nodeId(peer), scenario.behind?.includes(peer) ? 10 : 100);
  return decideWith(scenario, matchIndex, 100);
}

function decideWith(scenario: Scenario, matchIndex: ReadonlyMap<NodeId, number>, commitIndex: number) {
  const now = 1_000_000;
  const config: ClusterConfig = { voters: ids(...scenario.voters), learners: ids(...(scenario.learners ?? [])) };
  const view: MembershipView = {
    selfId: nodeId('a'),
    now,
    config,
    commitIndex,
    matchIndex,
    reachable: new Set(ids(...scenario.reachable)),
    unreachableSince: new Map(Object.entries(scenario.goneForMs ?? {}).map(([peer, ago]) => [nodeId(peer), now - ago])),
    silentSince: new Map(Object.entries(scenario.silentForMs ?? {}).map(([peer, ago]) => [nodeId(peer), now - ago])),
    waitingSince: new Map(Object.entries(scenario.waitingForMs ?? {}).map(([peer, ago]) => [nodeId(peer), now - ago])),
  };
  return decideMembershipChange(view, { ...defaultMembershipPolicySettings, ...scenario.settings });
}

describe('decideMembershipChange', () => {
  it('a newcomer joins as a learner', () => {
    expect(decide({ voters: ['a'], reachable: ['b'] })).toEqual({ type: 'addLearner', added: 'b', target: { voters: ['a'], learners: ['b'] } });
  });

  it('keeps the voter count odd: one caught-up learner beside one voter stays a learner; two are promoted together', () => {
    expect(decide({ voters: ['a'], learners: ['b'], reachable: ['b'] })).toBeNull();
    expect(decide({ voters: ['a'], learners: ['b', 'c'], reachable: ['b', 'c'] })).toEqual({ type: 'promoteLearners', promoted: ['b', 'c'], target: { voters: ['a', 'b', 'c'] } });
    // From an even count one promotion makes it odd.
    expect(decide({ voters: ['a', 'b'], learners: ['c'], reachable: ['b', 'c'] })).toMatchObject({ type: 'promoteLearners', promoted: ['c'] });
  });

  it('promotes only caught-up learners, and only up to the target', () => {
    expect(decide({ voters: ['a'], learners: ['b', 'c'], reachable: ['b', 'c'], behind: ['c'] })).toBeNull();
    // A learner that never acknowledged anything is not caught up, even on a short log.
    const silent = decideWith({ voters: ['a'], learners: ['b', 'c'], reachable: ['b', 'c'] }, new Map([[nodeId('b'), 3], [nodeId('c'), 0]]), 3);
    expect(silent).toBeNull();
    expect(decide({ voters: ['a', 'b', 'c'], learners: ['d', 'e', 'f', 'g'], reachable: ['b', 'c', 'd', 'e', 'f', 'g'] })).toMatchObject({ type: 'promoteLearners', promoted: ['d', 'e'] });
    expect(decide({ voters: ['a', 'b', 'c', 'd', 'e'], learners: ['f'], reachable: ['b', 'c', 'd', 'e', 'f'] })).toBeNull();
    expect(decide({ voters: ['a'], learners: ['b', 'c'], reachable: ['b', 'c'], settings: { targetVoters: 1 } })).toBeNull();
  });

  it('replaces a voter gone for unreachableAfterMs with a caught-up learner, in one change', () => {
    expect(decide({ voters: ['a', 'b', 'c'], learners: ['d'], reachable: ['b', 'd'], goneForMs: { c: 10_000 } })).toEqual({
      type: 'replaceVoter',
      removed: 'c',
      promoted: 'd',
      target: { voters: ['a', 'b', 'd'] },
    });
  });

  it('waits unreachableAfterMs before acting on a lost voter', () => {
    expect(decide({ voters: ['a', 'b', 'c'], learners: ['d'], reachable: ['b', 'd'], goneForMs: { c: 9_999 } })).toBeNull();
    expect(decide({ voters: ['a', 'b', 'c'], reachable: ['b'], goneForMs: { c: 500 }, settings: { unreachableAfterMs: 400 } })).toMatchObject({ type: 'removeVoter', removed: 'c' });
  });

  it('removes a lost voter when no learner can replace it, restoring fault tolerance', () => {
    expect(decide({ voters: ['a', 'b', 'c', 'd', 'e'], reachable: ['b', 'c', 'd'], goneForMs: { e: 20_000 } })).toEqual({ type: 'removeVoter', removed: 'e', target: { voters: ['a', 'b', 'c', 'd'] } });
    expect(decide({ voters: ['a', 'b', 'c'], learners: ['d'], reachable: ['b', 'd'], goneForMs: { c: 20_000 }, behind: ['d'] })).toMatchObject({ type: 'removeVoter', removed: 'c' });
  });

  it('does nothing without a reachable majority of voters: no change could commit', () => {
    expect(decide({ voters: ['a', 'b'], reachable: [], goneForMs: { b: 60_000 } })).toBeNull();
    expect(decide({ voters: ['a', 'b', 'c'], reachable: ['d'], goneForMs: { b: 60_000, c: 60_000 } })).toBeNull();
    expect(decide({ voters: ['a', 'b', 'c', 'd'], learners: ['e'], reachable: ['b', 'e'], goneForMs: { c: 60_000, d: 60_000 } })).toBeNull();
  });

  it('never removes a reachable voter and never leaves the voter set empty', () => {
    for (const reachable of [[], ['b'], ['b', 'c']]) {
      const decision = decide({ voters: ['a', 'b', 'c'], reachable, goneForMs: Object.fromEntries(['b', 'c'].filter((peer) => !reachable.includes(peer)).map((peer) => [peer, 60_000])) });
      if (decision !== null && 'removed' in decision) expect(reachable).not.toContain(decision.removed);
      if (decision !== null) expect(decision.target.voters.length).toBeGreaterThan(0);
    }
  });

  describe('members that are reachable but do not answer (a page whose node stopped keeps its connections; review s52)', () => {
    it('replaces a voter that has not answered for silentAfterMs like an unreachable one, and not before', () => {
      expect(decide({ voters: ['a', 'b', 'c'], learners: ['d'], reachable: ['b', 'c', 'd'], silentForMs: { c: 30_000 } })).toEqual({ type: 'replaceVoter', removed: 'c', promoted: 'd', target: { voters: ['a', 'b', 'd'] } });
      expect(decide({ voters: ['a', 'b', 'c'], learners: ['d'], reachable: ['b', 'c', 'd'], silentForMs: { c: 29_999 } })).toBeNull();
      // With no learner to take its place it is removed, as a lost voter is.
      expect(decide({ voters: ['a', 'b', 'c', 'd', 'e'], reachable: ['b', 'c', 'd', 'e'], silentForMs: { e: 30_000 } })).toEqual({ type: 'removeVoter', removed: 'e', target: { voters: ['a', 'b', 'c', 'd'] } });
    });

    it('never promotes a learner that does not answer, nor takes it to replace a lost voter', () => {
      expect(decide({ voters: ['a'], learners: ['b', 'c'], reachable: ['b', 'c'], silentForMs: { c: 100 } })).toBeNull();
      expect(decide({ voters: ['a', 'b', 'c'], learners: ['d', 'e'], reachable: ['b', 'd', 'e'], goneForMs: { c: 10_000 }, silentForMs: { d: 100 } })).toMatchObject({ type: 'replaceVoter', removed: 'c', promoted: 'e' });
    });

    it('counts a voter that does not answer as no live voter: nothing changes without a majority that answers, and no voter is demoted meanwhile', () => {
      expect(decide({ voters: ['a', 'b', 'c'], reachable: ['b', 'c', 'd'], silentForMs: { b: 100, c: 100 } })).toBeNull();
      expect(decide({ voters: ['a', 'b', 'c', 'd'], reachable: ['b', 'c', 'd'], silentForMs: { d: 100 } })).toBeNull();
    });

    it('keeps a learner that does not answer until rule 6 needs its slot: it may still be starting its node', () => {
      expect(decide({ voters: ['a'], learners: ['b'], reachable: ['b'], silentForMs: { b: 60_000 } })).toBeNull();
    });
  });

  it('prefers the witness: promoted first, replaced last', () => {
    const settings = { witness: nodeId('w') };
    expect(decide({ voters: ['a'], reachable: ['b', 'w'], settings })).toMatchObject({ type: 'addLearner', added: 'w' });
    expect(decide({ voters: ['a'], learners: ['b', 'c', 'w'], reachable: ['b', 'c', 'w'], settings: { ...settings, targetVoters: 3 } })).toMatchObject({ promoted: ['w', 'b'] });
    // Two tabs and a witness make three voters: either tab may close.
    expect(decide({ voters: ['a'], learners: ['b', 'w'], reachable: ['b', 'w'], settings })).toMatchObject({ promoted: ['w', 'b'], target: { voters: ['a', 'w', 'b'] } });
  });

  it('demotes a voter to restore an odd count when no learner can, never the leader, the witness last', () => {
    expect(decide({ voters: ['a', 'b'], reachable: ['b'] })).toEqual({ type: 'demoteVoter', demoted: 'b', target: { voters: ['a'], learners: ['b'] } });
    expect(decide({ voters: ['a', 'b', 'c', 'w'], reachable: ['b', 'c', 'w'], settings: { witness: nodeId('w') } })).toMatchObject({ type: 'demoteVoter', demoted: 'c' });
    // A ready learner makes the count odd by promotion instead.
    expect(decide({ voters: ['a', 'b'], learners: ['c'], reachable: ['b', 'c'] })).toMatchObject({ type: 'promoteLearners' });
    // While a voter is unreachable (not yet lost), nothing is demoted.
    expect(decide({ voters: ['a', 'b', 'c', 'd'], reachable: ['b', 'c'], goneForMs: { d: 100 } })).toBeNull();
  });

  it('drops a learner gone for unreachableAfterMs, last of all', () => {
    expect(decide({ voters: ['a'], learners: ['b'], reachable: [], goneForMs: { b: 10_000 } })).toEqual({ type: 'removeLearner', removed: 'b', target: { voters: ['a'] } });
    expect(decide({ voters: ['a'], learners: ['b'], reachable: ['c'], goneForMs: { b: 10_000 } })).toMatchObject({ type: 'addLearner', added: 'c' });
  });

  it('bounds the learners it admits', () => {
    expect(decide({ voters: ['a'], learners: ['b'], reachable: ['b', 'c'], behind: ['b'], settings: { maxLearners: 1 } })).toBeNull();
  });

  describe('learner slots held by peers that never answer (rule 6)', () => {
    // Two slots, both taken by learners that never answered this leader; d waits.
    const full = { voters: ['a'], learners: ['b', 'c'], behind: ['b', 'c'], settings: { maxLearners: 2, silentAfterMs: 30_000 } };

    it('drops the learner silent longest once it has been silent for silentAfterMs, when a newcomer waits', () => {
      expect(decide({ ...full, reachable: ['b', 'c', 'd'], silentForMs: { b: 30_000, c: 40_000 } })).toEqual({ type: 'dropSilentLearner', removed: 'c', target: { voters: ['a'], learners: ['b'] } });
      // Equally long: by preference, as every other rule.
      expect(decide({ ...full, reachable: ['b', 'c', 'd'], silentForMs: { b: 30_000, c: 30_000 } })).toMatchObject({ type: 'dropSilentLearner', removed: 'b' });
    });

    it('keeps them while they have been silent for less, while nobody waits, or while a slot is free', () => {
      expect(decide({ ...full, reachable: ['b', 'c', 'd'], silentForMs: { b: 29_999, c: 29_999 } })).toBeNull();
      expect(decide({ ...full, reachable: ['b', 'c'], silentForMs: { b: 60_000, c: 60_000 } })).toBeNull();
      expect(decide({ ...full, reachable: ['b', 'c', 'd'], silentForMs: { b: 60_000 }, settings: { maxLearners: 3, silentAfterMs: 30_000 } })).toMatchObject({ type: 'addLearner', added: 'd' });
    });

    it('never drops the witness for silence, and drops an unreachable learner first', () => {
      expect(decide({ ...full, reachable: ['b', 'c', 'd'], silentForMs: { b: 60_000 }, settings: { ...full.settings, witness: nodeId('b') } })).toBeNull();
      expect(decide({ ...full, reachable: ['b', 'd'], silentForMs: { b: 60_000 }, goneForMs: { c: 10_000 } })).toMatchObject({ type: 'removeLearner', removed: 'c' });
    });

    it('admits the peer that has waited longest first, whatever its id: a fresh or just-dropped id queues behind', () => {
      const waiting = { voters: ['a'], reachable: ['b', 'c', 'd'] };
      expect(decide({ ...waiting, waitingForMs: { b: 1_000, c: 5_000, d: 2_000 } })).toMatchObject({ type: 'addLearner', added: 'c' });
      // b and c just arrived (or were just dropped): d, waiting a while, goes first.
      expect(decide({ ...waiting, waitingForMs: { d: 1_000 } })).toMatchObject({ type: 'addLearner', added: 'd' });
      // As long: by preference, as every other rule.
      expect(decide({ ...waiting, waitingForMs: { c: 1_000, d: 1_000 } })).toMatchObject({ type: 'addLearner', added: 'c' });
    });
  });

  it('is deterministic: the order of the reachable set does not matter', () => {
    const first = decide({ voters: ['a'], reachable: ['d', 'b', 'c'] });
    const second = decide({ voters: ['a'], reachable: ['c', 'b', 'd'] });
    expect(first).toEqual(second);
    expect(first).toMatchObject({ added: 'b' });
  });

  it('refuses settings out of range, naming the field', () => {
    expect(() => validatePolicySettings({ ...defaultMembershipPolicySettings, targetVoters: 0 })).toThrow(/targetVoters/);
    expect(() => validatePolicySettings({ ...defaultMembershipPolicySettings, unreachableAfterMs: -1 })).toThrow(/unreachableAfterMs/);
    expect(() => validatePolicySettings({ ...defaultMembershipPolicySettings, silentAfterMs: 0 })).toThrow(/silentAfterMs/);
  });
});
