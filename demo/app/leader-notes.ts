// The timeline's notes of who leads. Every change of the node's `leader` used to be a note, so a
// follower whose heartbeats came late (a busy machine) wrote "term 12: no leader — electing" and,
// 50 ms later, "term 12: Wren leads" again, the same term: an election that never happened, a
// dozen times a minute (an outside audit). Now a leader is noted when the (term, leader) pair is
// new, and a leaderless spell only once it has lasted `leaderlessNoteMs`, with how long.
import type { NodeId } from 'raftmesh';
import type { Wording } from './timeline-text.ts';

/** A spell without a leader shorter than this is a late heartbeat, not worth a line. */
export const leaderlessNoteMs = 1_000;

export interface LeaderNotesOptions {
  readonly selfId: NodeId;
  readonly note: (wording: Wording | string) => void;
  readonly setTimer: (callback: () => void, ms: number) => unknown;
  readonly clearTimer: (timer: unknown) => void;
}

export interface LeaderNotes {
  /** The node's leader changed (null: none known) in `term`. */
  leaderChanged(leader: NodeId | null, term: number): void;
  /** Cancels a pending note (the incarnation it follows is gone). */
  close(): void;
}

export function createLeaderNotes(options: LeaderNotesOptions): LeaderNotes {
  let noted: { readonly leader: NodeId; readonly term: number } | null = null;
  let leaderless: unknown = null;
  const stopWaiting = (): void => {
    if (leaderless !== null) options.clearTimer(leaderless);
    leaderless = null;
  };
  return {
    leaderChanged(leader, term) {
      if (leader === null) {
        if (noted === null || leaderless !== null) return;
        leaderless = options.setTimer(() => {
          leaderless = null;
          // Whoever leads next is noted, even the same leader in the same term: the timeline said none did.
          noted = null;
          options.note(`term ${term}: no leader for ${leaderlessNoteMs / 1000} s — electing`);
        }, leaderlessNoteMs);
        return;
      }
      stopWaiting();
      if (noted !== null && noted.leader === leader && noted.term === term) return;
      noted = { leader, term };
      options.note((nameOf) => `term ${term}: ${leader === options.selfId ? 'this page' : nameOf(leader)} leads`);
    },
    close: stopWaiting,
  };
}
