// When one id's node last refused each sender's frames on a gate that can wedge it (SPEC "Wedge").
// The node reports a wedge once per sender; a report dismissed then is looked at again later, and
// by then the sender may have stopped sending. A real wedge does not stop: the leader that lists
// this node keeps sending it heartbeats, and it keeps refusing them. A stranger's frames (a peer
// in reach that is no member, or a removed one campaigning) stop when it does, and a report about
// it must not count for long after (wedge-verdict.ts), so the refusals themselves are kept here.
import type { RaftMetric, RefusalReason } from '../core/events.ts';
import type { NodeId } from '../core/types.ts';

/** The gates the core's wedge detector counts (src/core/wedge-detector.ts). */
const wedgingGates: ReadonlySet<RefusalReason> = new Set<RefusalReason>(['senderNotVoter', 'leaderNotPinned', 'termJump']);

/** Senders kept at once; the one refused longest ago is forgotten first (a flood of ids stays bounded). */
const maxSenders = 1_024;

export interface RefusalLog {
  /** Notes a refusal (`frameRefused`, or the `wedgeSuspected` that names a sender just refused). */
  note(metric: RaftMetric, at: number): void;
  /** When a frame from `from` was last refused on a wedging gate; undefined if never (or forgotten). */
  lastRefused(from: NodeId): number | undefined;
}

export function createRefusalLog(): RefusalLog {
  const latest = new Map<NodeId, number>();
  return {
    note(metric, at) {
      if (metric.type !== 'frameRefused' && metric.type !== 'wedgeSuspected') return;
      if (!wedgingGates.has(metric.type === 'frameRefused' ? metric.reason : metric.gate)) return;
      // Deleted first so the map's order is the order of the latest refusals.
      latest.delete(metric.from);
      latest.set(metric.from, at);
      if (latest.size > maxSenders) {
        const oldest = latest.keys().next();
        if (oldest.done !== true) latest.delete(oldest.value);
      }
    },
    lastRefused: (from) => latest.get(from),
  };
}
