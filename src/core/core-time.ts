// The engine's clock: the driver's readings, and the randomized election timer (§5.2).
import type { CoreState } from './core-state.ts';

export function advanceClock(core: CoreState, now: number): void {
  // A clock that jumps backwards would re-arm timers wrongly; treat it as standing still.
  if (now > core.now) core.now = now;
}

function randomElectionTimeout(core: CoreState): number {
  const { electionTimeoutMinMs, electionTimeoutMaxMs } = core.config;
  const draw = core.random();
  const fraction = draw >= 0 && draw < 1 ? draw : 0;
  return electionTimeoutMinMs + Math.floor(fraction * (electionTimeoutMaxMs - electionTimeoutMinMs));
}

export function resetElectionTimer(core: CoreState): void {
  core.electionDeadline = core.now + randomElectionTimeout(core);
}
