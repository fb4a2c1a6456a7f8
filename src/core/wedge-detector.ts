// SPEC "Wedge": a node that keeps refusing the frames it would need to make progress (from a
// leader outside its voter set, a second leader in a pinned term, or a term jump too far) says
// so once per sender, naming the gate, instead of staying stuck silently.
import type { RefusalReason } from './events.ts';
import type { NodeId } from './types.ts';

/** Senders tracked at once; the oldest streak is forgotten first (a flood of ids stays bounded). */
const maxTrackedSenders = 1_024;

interface Streak {
  since: number;
  /** The latest refusal: a streak is refusals that keep coming, not two far apart. */
  last: number;
  reported: boolean;
}

export class WedgeDetector {
  private readonly streaks = new Map<NodeId, Streak>();

  constructor(private readonly windowMs: number) {}

  /** Records a refusal; true exactly once per sender when the refusals have lasted the window. */
  refused(from: NodeId, reason: RefusalReason, now: number): boolean {
    if (reason !== 'senderNotVoter' && reason !== 'leaderNotPinned' && reason !== 'termJump') return false;
    let streak = this.streaks.get(from);
    // Silence for a whole window ends a streak: a stranger's frame now and another one minutes
    // later do not make a wedge. (A wedged leader's heartbeats, or a stuck candidate's votes,
    // come every election timeout at the latest.)
    if (streak !== undefined && !streak.reported && now - streak.last > this.windowMs) {
      this.streaks.delete(from);
      streak = undefined;
    }
    if (streak === undefined) {
      streak = { since: now, last: now, reported: false };
      this.streaks.set(from, streak);
      if (this.streaks.size > maxTrackedSenders) {
        const oldest = this.streaks.keys().next();
        if (oldest.done !== true) this.streaks.delete(oldest.value);
      }
    }
    streak.last = now;
    if (streak.reported || now - streak.since < this.windowMs) return false;
    streak.reported = true;
    return true;
  }

  /** A frame from this sender was accepted: whatever blocked it is gone. */
  accepted(from: NodeId): void {
    this.streaks.delete(from);
  }
}
