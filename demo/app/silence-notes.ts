// The timeline's notes of a member going silent and being heard again. The panel's connection
// column shows a silence while it lasts ("silent 4 s"), and forgets it the moment frames resume;
// someone who looks at the page afterwards should still be able to read that it happened.
//
// No timers. A member's crossing of the silence threshold is found whenever the page looks: at
// every frame it receives (from anyone: a follower hears the leader every 50 ms, a leader its
// followers), and whenever the model builds the panel's rows or the timeline (every second while
// the page is drawn; a member that is this page's only peer sends no frames while silent). Each
// silence is noted once, however often it is looked at, and its end is noted at the frame that
// ends it (last-heard.ts), with how long it lasted. Only reachable members are watched: a page cut
// off by its own switch reaches nobody, so it does not call every other member silent (its panel
// shows them unreachable), and a member whose connection closed is forgotten, not heard again.
import type { NodeId, Subscribable, Unsubscribe, Watchable } from 'raftmesh';
import { silentAfterMs, type LastHeard } from './last-heard.ts';
import { describeHeardAgain, describeSilence, type Wording } from './timeline-text.ts';

export interface SilenceNotesOptions {
  /** The sender of each frame that reached this page (the partition switch's `frames`). */
  readonly frames: Subscribable<NodeId>;
  /** The members this page reaches (none while it is cut off). */
  readonly reachable: Watchable<ReadonlySet<NodeId>>;
  readonly lastHeard: Pick<LastHeard, 'heardMsAgo' | 'silenceEnded'>;
  readonly note: (wording: Wording) => void;
}

export interface SilenceNotes {
  /** Notes each reachable member that has been silent for the threshold and is not noted yet. */
  check(): void;
  /** Stops following frames, silences and the reachable members. */
  close(): void;
}

export function watchSilences(options: SilenceNotesOptions): SilenceNotes {
  const { lastHeard, note } = options;
  /** Members whose present silence is noted; bounded by the reachable set. */
  const noted = new Set<NodeId>();
  let closed = false;
  /** `sender`: a frame from it is arriving, and last-heard may not have counted it yet. */
  const check = (sender: NodeId | null = null): void => {
    if (closed) return;
    for (const id of options.reachable.value) {
      if (id === sender || noted.has(id)) continue;
      const silentForMs = lastHeard.heardMsAgo(id);
      if (silentForMs === null || silentForMs < silentAfterMs) continue;
      noted.add(id);
      note(describeSilence(id, silentForMs));
    }
  };
  const unsubscribes: Unsubscribe[] = [
    lastHeard.silenceEnded.subscribe(({ id, silentForMs }) => {
      noted.delete(id);
      note(describeHeardAgain(id, silentForMs));
    }),
    options.frames.subscribe((from) => {
      // Heard: its silence, if noted, is over (silenceEnded says so and for how long), whatever
      // the clock did meanwhile.
      noted.delete(from);
      check(from);
    }),
    options.reachable.subscribe((peers) => {
      for (const id of [...noted]) if (!peers.has(id)) noted.delete(id);
    }),
  ];
  return {
    check: () => check(),
    close() {
      closed = true;
      for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
      noted.clear();
    },
  };
}
