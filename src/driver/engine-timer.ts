// The driver's one timer: armed for the core's next deadline (an election timeout, a heartbeat, a
// paced snapshot chunk), and aware that a timer firing late means this thread was held up.
import type { Clock } from '../core/config.ts';

/**
 * How late a timer may fire before the driver takes it as a sign that its own thread was held up.
 * Timers of a healthy event loop fire within a few ms (4 ms clamps, a busy page); 20 ms is well
 * under the shortest default timeout that matters (150 ms of election silence).
 */
const lateTimerToleranceMs = 20;

export interface EngineTimerOptions {
  readonly clock: Clock;
  /** The core's next deadline (infinite: nothing is due). */
  readonly nextDeadline: () => number;
  /** Whether the node has stopped: a timer firing after that does nothing. */
  readonly stopped: () => boolean;
  /** The deadline came: tick the core at `now` and step. */
  readonly fire: (now: number) => void;
}

export interface EngineTimer {
  /** Arms for the core's next deadline, keeping an earlier timer already armed. */
  arm(): void;
  cancel(): void;
}

export function createEngineTimer(options: EngineTimerOptions): EngineTimer {
  const { clock } = options;
  let timerHandle: unknown = null;
  let timerDeadline = Number.POSITIVE_INFINITY;
  /** A late timer was put back behind the queued tasks once (onTimer); the next firing ticks. */
  let tickDeferredAfterStall = false;

  const onTimer = (): void => {
    const due = timerDeadline;
    timerHandle = null;
    timerDeadline = Number.POSITIVE_INFINITY;
    if (options.stopped()) return;
    const now = clock.now();
    // A timer this late means this thread was held up (a long task, a busy machine, a paused
    // tab), and the frames that arrived meanwhile are queued behind this task: a leader's
    // heartbeats for a follower, its followers' answers for a leader. Ticking first would judge
    // the peers by a silence that was ours, and start an election or step down (CheckQuorum) on
    // news already here. So the tick goes once behind the queued tasks: a zero delay timer runs
    // after tasks queued before it, in browsers and in Node (whose poll phase reads sockets
    // between two timer phases). A real silence costs one task more.
    if (!tickDeferredAfterStall && now - due > lateTimerToleranceMs) {
      tickDeferredAfterStall = true;
      timerDeadline = now;
      timerHandle = clock.setTimeout(onTimer, 0);
      return;
    }
    tickDeferredAfterStall = false;
    options.fire(now);
  };

  return {
    arm() {
      const deadline = options.nextDeadline();
      // Keep an earlier timer: firing early costs one tick that re-arms, re-arming costs more.
      if (timerHandle !== null && timerDeadline <= deadline) return;
      if (timerHandle !== null) clock.clearTimeout(timerHandle);
      timerHandle = null;
      timerDeadline = deadline;
      if (!Number.isFinite(deadline)) return;
      timerHandle = clock.setTimeout(onTimer, Math.max(0, deadline - clock.now()));
    },
    cancel() {
      if (timerHandle !== null) clock.clearTimeout(timerHandle);
      timerHandle = null;
    },
  };
}
