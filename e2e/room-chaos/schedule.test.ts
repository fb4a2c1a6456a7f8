// The schedule generator: one seed, one schedule; every step is possible when it comes (its tab is
// in the state the step needs); the bounds that keep a room recoverable hold; the CI seed covers
// every fault kind.
import { describe, expect, it } from 'vitest';
import { scheduleSettings } from './campaign.ts';
import { countFaults, faultKinds, generateSchedule, type Schedule } from './schedule.ts';

/** Replays a schedule on a model of the tabs, throwing at the first impossible step. */
function replay(schedule: Schedule, maxConcurrentFaults: number): void {
  const state = new Map(schedule.initialTabs.map((tab) => [tab, 'live']));
  const busy = new Set<string>();
  for (const step of schedule.steps) {
    const current = state.get(step.tab);
    const faulted = busy.size + [...state.values()].filter((value) => value === 'down').length;
    switch (step.kind) {
      case 'join':
        expect(current).toBeUndefined();
        state.set(step.tab, 'live');
        break;
      case 'return':
        expect(current).toBe('down');
        state.set(step.tab, 'live');
        break;
      case 'leave':
        expect([current, faulted]).toEqual(['live', 0]);
        state.set(step.tab, 'gone');
        break;
      case 'crash':
      case 'kill':
      case 'freeze':
      case 'partition':
        expect(current).toBe('live');
        expect(busy.has(step.tab)).toBe(false);
        expect(faulted).toBeLessThan(maxConcurrentFaults);
        if (step.kind === 'crash' || step.kind === 'kill') state.set(step.tab, 'down');
        else busy.add(step.tab);
        break;
      case 'thaw':
      case 'reconnect':
        expect(busy.delete(step.tab)).toBe(true);
        break;
      default:
        throw new Error(`unknown step ${String(step satisfies never)}`);
    }
  }
}

describe('the room chaos schedule', () => {
  it('is the same for the same seed, and differs between seeds', () => {
    const settings = scheduleSettings(42, 180, 'long');
    expect(generateSchedule(settings)).toEqual(generateSchedule(settings));
    expect(generateSchedule(settings)).not.toEqual(generateSchedule({ ...settings, seed: 43 }));
  });

  it('only asks for steps the tabs can take, within the fault bounds', () => {
    for (let seed = 1; seed <= 50; seed += 1) {
      for (const pace of ['short', 'long'] as const) {
        const settings = scheduleSettings(seed, pace === 'short' ? 24 : 300, pace);
        replay(generateSchedule(settings), settings.maxConcurrentFaults);
      }
    }
  });

  it('covers every fault kind with the spec seed', () => {
    const counts = countFaults(generateSchedule(scheduleSettings(2, 24, 'short')));
    for (const kind of faultKinds) expect(counts[kind]).toBeGreaterThan(0);
  });
});
