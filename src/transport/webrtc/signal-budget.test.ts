// The signals a session takes from its peer (signal-budget.ts): a share per attempt, a fresh one
// per ICE restart, and restarts bounded per minute, on a virtual clock.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../testing/virtual-clock.ts';
import { resolveWebRtcTransportLimits } from './limits.ts';
import { createSignalBudget } from './signal-budget.ts';

const limits = { maxSignalsPerAttempt: 8, maxIceRestartsPerMinute: 3 };
const takeAll = (budget: ReturnType<typeof createSignalBudget>): number => {
  let taken = 0;
  while (budget.take() && taken < 1_000) taken++;
  return taken;
};

describe('signal budget', () => {
  it('takes maxSignalsPerAttempt signals per attempt, and as many again after each ICE restart', () => {
    const clock = new VirtualClock();
    const budget = createSignalBudget(limits, clock);
    expect(takeAll(budget)).toBe(8);
    expect(budget.take()).toBe(false);
    for (let restart = 0; restart < 3; restart++) {
      expect(budget.startRestart()).toBe(true);
      expect(takeAll(budget)).toBe(8);
    }
  });

  it('refuses restarts beyond maxIceRestartsPerMinute, without a fresh share, until a minute after the oldest', async () => {
    const clock = new VirtualClock();
    const budget = createSignalBudget(limits, clock);
    for (let restart = 0; restart < 3; restart++) {
      expect(budget.startRestart()).toBe(true);
      await clock.advance(10_000);
    }
    expect(budget.take()).toBe(true);
    expect(budget.startRestart()).toBe(false);
    // The refused restart left the current share as it was.
    expect(takeAll(budget)).toBe(7);
    // The first restart was at 0 ms: at 60 s it no longer counts, the second (10 s) still does.
    await clock.advance(60_000 - 30_000 - 1);
    expect(budget.startRestart()).toBe(false);
    await clock.advance(1);
    expect(budget.startRestart()).toBe(true);
    expect(budget.startRestart()).toBe(false);
    expect(takeAll(budget)).toBe(8);
  });

  it('is a limit like the others: 12 restarts a minute by default, and validated', () => {
    expect(resolveWebRtcTransportLimits().maxIceRestartsPerMinute).toBe(12);
    expect(() => resolveWebRtcTransportLimits({ maxIceRestartsPerMinute: 0 })).toThrow('WebRTC transport limit maxIceRestartsPerMinute must be an integer in 1 .. 1000, got 0');
  });
});
