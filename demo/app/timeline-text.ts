// The timeline's sentences. Members are named by their display names, which reach a page by the
// status gossip up to half a second after the event that mentions them; so a sentence is kept as
// a function of the name lookup and worded when it is drawn, not when it happens.
import type { ClusterConfig, MembershipDecision } from 'raftmesh';
import { durationText } from './connection-text.ts';

export type NameOf = (id: string) => string;
export type Wording = (nameOf: NameOf) => string;

/** "Ana", "Ana and Bo", "Ana, Bo and Cy". */
export function listOf(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? 'nobody';
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

export function describeDecision(decision: MembershipDecision): Wording {
  switch (decision.type) {
    case 'addLearner':
      return (nameOf) => `${nameOf(decision.added)} joins as a learner (it receives the log before it may vote)`;
    case 'promoteLearners': {
      const voters = decision.promoted.length === 1 ? 'a voter' : 'voters';
      return (nameOf) => `${listOf(decision.promoted.map(nameOf))} caught up: promoted to ${voters}`;
    }
    case 'replaceVoter':
      return (nameOf) => `${nameOf(decision.removed)} is unreachable: ${nameOf(decision.promoted)} takes its vote`;
    case 'removeVoter':
      return (nameOf) => `${nameOf(decision.removed)} is unreachable: removed from the voters`;
    case 'demoteVoter':
      return (nameOf) => `${nameOf(decision.demoted)} becomes a learner again, for an odd number of voters`;
    case 'removeLearner':
      return (nameOf) => `${nameOf(decision.removed)} is unreachable: removed from the learners`;
    case 'dropSilentLearner':
      return (nameOf) => `${nameOf(decision.removed)} stopped answering the leader: its learner slot goes to a newcomer`;
  }
}

export function describeMembership(config: ClusterConfig): Wording {
  return (nameOf) => {
    const voters = `voters ${listOf(config.voters.map(nameOf))}`;
    const learners = config.learners ?? [];
    return learners.length === 0 ? voters : `${voters}; learners ${listOf(learners.map(nameOf))}`;
  };
}

/**
 * A connected member this page has heard nothing from for `silentForMs` (the threshold, or more
 * when the page noticed late): its connection is open, so the cause is on its side or in between.
 */
export function describeSilence(id: string, silentForMs: number): Wording {
  return (nameOf) => `${nameOf(id)} went silent: nothing received from it for ${durationText(silentForMs)}, though its connection is open`;
}

/** The first frame from a member after a silence of `silentForMs`, whether or not the silence was noted. */
export function describeHeardAgain(id: string, silentForMs: number): Wording {
  return (nameOf) => `${nameOf(id)} is heard again, after ${durationText(silentForMs)} of silence`;
}

/**
 * A membership change the room's policy made that did not go through. When leadership moved
 * while it was in flight (LeadershipLostError, NotLeaderError) that is routine: the next leader's
 * policy looks again. It used to reach the red alert box in words meant for developers.
 */
export function describeChangeFailure(decision: MembershipDecision, reason: string): { readonly kind: 'membership' | 'error'; readonly wording: Wording } {
  const change = describeDecision(decision);
  if (/^(LeadershipLostError|NotLeaderError)\b/.test(reason)) {
    return { kind: 'membership', wording: (nameOf) => `interrupted, leadership moved (the next leader decides again): ${change(nameOf)}` };
  }
  return { kind: 'error', wording: (nameOf) => `a membership change failed (${change(nameOf)}): ${reason}` };
}
