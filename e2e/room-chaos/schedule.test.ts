// The schedule generator: one seed, one schedule; every step is possible when it comes (its tab is
// in the state the step needs); the bounds that keep a room recoverable hold; the CI seed covers
// every fault kind, and a campaign with an edge peer faults it too.
import { describe, expect, it } from 'vitest';
import { scheduleSettings } from './campaign.ts';
import { countFaults, edgeFaultKinds, edgePeerName, faultKinds, generateSchedule, witnessLeaveMembers, type Schedule } from './schedule.ts';

/**
 * Replays a schedule on a model of the tabs, throwing at the first impossible step. With a
 * witness, a leave needs `witnessLeaveMembers` live members (the witness counted).
 */
function replay(schedule: Schedule, maxConcurrentFaults: number, edgePeer: boolean, witness = false): void {
  const state = new Map(schedule.initialTabs.map((tab) => [tab, 'live']));
  if (edgePeer) state.set(edgePeerName, 'live');
  const busy = new Set<string>();
  for (const step of schedule.steps) {
    const current = state.get(step.tab);
    const faulted = busy.size + [...state.values()].filter((value) => value === 'down').length;
    switch (step.kind) {
      case 'join':
        expect(step.tab).not.toBe(edgePeerName);
        expect(current).toBeUndefined();
        state.set(step.tab, 'live');
        break;
      case 'return':
      case 'edge-return':
        expect(step.tab === edgePeerName).toBe(step.kind === 'edge-return');
        expect(current).toBe('down');
        state.set(step.tab, 'live');
        break;
      case 'leave':
        expect(step.tab).not.toBe(edgePeerName);
        expect([current, faulted]).toEqual(['live', 0]);
        if (witness) expect([...state.values()].filter((value) => value === 'live').length).toBeGreaterThanOrEqual(witnessLeaveMembers);
        state.set(step.tab, 'gone');
        break;
      case 'crash':
      case 'kill':
      case 'freeze':
      case 'partition':
      case 'edge-kill':
      case 'edge-freeze':
      case 'edge-partition':
        expect(step.tab === edgePeerName).toBe(step.kind.startsWith('edge-'));
        expect(current).toBe('live');
        expect(busy.has(step.tab)).toBe(false);
        expect(faulted).toBeLessThan(maxConcurrentFaults);
        if (step.kind === 'crash' || step.kind === 'kill' || step.kind === 'edge-kill') state.set(step.tab, 'down');
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
    const settings = scheduleSettings(42, 180, 'long', { edgePeer: false });
    expect(generateSchedule(settings)).toEqual(generateSchedule(settings));
    expect(generateSchedule(settings)).not.toEqual(generateSchedule({ ...settings, seed: 43 }));
  });

  it('only asks for steps the tabs can take, within the fault bounds', () => {
    for (let seed = 1; seed <= 50; seed += 1) {
      for (const pace of ['short', 'long'] as const) {
        for (const edgePeer of [false, true]) {
          const settings = scheduleSettings(seed, pace === 'short' ? 24 : 300, pace, { edgePeer });
          replay(generateSchedule(settings), settings.maxConcurrentFaults, edgePeer);
        }
      }
    }
  });

  it('covers every fault kind with the spec seed', () => {
    const counts = countFaults(generateSchedule(scheduleSettings(2, 24, 'short', { edgePeer: false })));
    for (const kind of faultKinds) expect(counts[kind]).toBeGreaterThan(0);
    for (const kind of edgeFaultKinds) expect(counts[kind]).toBe(0);
  });

  it('with an edge peer, faults it in every way within 120 s, and about as often as one tab', () => {
    for (let seed = 1; seed <= 20; seed += 1) {
      const schedule = generateSchedule(scheduleSettings(seed, 120, 'long', { edgePeer: true }));
      const counts = countFaults(schedule);
      for (const kind of [...faultKinds, ...edgeFaultKinds]) expect(counts[kind], `seed ${seed}: ${kind}`).toBeGreaterThan(0);
    }
    const long = generateSchedule(scheduleSettings(7, 3_600, 'long', { edgePeer: true }));
    const faultsOf = (tab: string): number => long.steps.filter((step) => step.tab === tab && step.kind !== 'thaw' && step.kind !== 'reconnect' && !step.kind.endsWith('return')).length;
    const edgeFaults = faultsOf(edgePeerName);
    expect(edgeFaults).toBeGreaterThan(faultsOf('tab-1') / 3);
    expect(edgeFaults).toBeLessThan(faultsOf('tab-1') * 3);
  });

  it('with a witness, faults it in every way and leaves only while five members are live', () => {
    let leaves = 0;
    for (let seed = 1; seed <= 50; seed += 1) {
      for (const pace of ['short', 'long'] as const) {
        const settings = scheduleSettings(seed, pace === 'short' ? 24 : 300, pace, { edgePeer: true, witness: true });
        const schedule = generateSchedule(settings);
        replay(schedule, settings.maxConcurrentFaults, true, true);
        leaves += countFaults(schedule).leave;
      }
      const counts = countFaults(generateSchedule(scheduleSettings(seed, 300, 'long', { edgePeer: true, witness: true })));
      for (const kind of [...faultKinds, ...edgeFaultKinds]) expect(counts[kind], `seed ${seed}: ${kind}`).toBeGreaterThan(0);
    }
    // The rule must hold back leaves, not forbid them: the room still loses tabs for good.
    expect(leaves).toBeGreaterThan(50);
  });

  it('with a witness, draws no leave while fewer than five members are live', () => {
    // Three tabs and the edge peer, never more (no joins): four live members at most.
    for (let seed = 1; seed <= 20; seed += 1) {
      const settings = { ...scheduleSettings(seed, 300, 'long', { edgePeer: true }), initialTabs: 3, maxTabs: 3 };
      expect(countFaults(generateSchedule(settings)).leave, `seed ${seed} without a witness`).toBeGreaterThan(0);
      expect(countFaults(generateSchedule({ ...settings, witness: true })).leave, `seed ${seed} with a witness`).toBe(0);
    }
  });

  it('with two tabs and the witness, faults one member at a time, each of the three, and never adds a tab', () => {
    for (let seed = 1; seed <= 20; seed += 1) {
      const settings = scheduleSettings(seed, 300, 'long', { edgePeer: true, witness: true, tabs: 2 });
      const schedule = generateSchedule(settings);
      replay(schedule, settings.maxConcurrentFaults, true, true);
      expect(schedule.initialTabs).toEqual(['tab-1', 'tab-2']);
      expect(schedule.steps.every((step) => ['tab-1', 'tab-2', edgePeerName].includes(step.tab))).toBe(true);
      const counts = countFaults(schedule);
      expect([counts.join, counts.leave]).toEqual([0, 0]);
      for (const kind of ['crash', 'kill', 'return', 'freeze', 'partition', ...edgeFaultKinds] as const) expect(counts[kind], `seed ${seed}: ${kind}`).toBeGreaterThan(0);
      // Three members and three live before any fault: never two faulted at once.
      const faultedAt = new Set<string>();
      for (const step of schedule.steps) {
        if (['crash', 'kill', 'edge-kill', 'freeze', 'partition', 'edge-freeze', 'edge-partition'].includes(step.kind)) {
          expect(faultedAt.size, `seed ${seed} at ${step.atMs} ms`).toBe(0);
          faultedAt.add(step.tab);
        } else if (step.kind !== 'join') faultedAt.delete(step.tab);
      }
    }
  });

  it('refuses a witness without the edge peer', () => {
    expect(() => generateSchedule({ ...scheduleSettings(1, 60, 'long', { edgePeer: false }), witness: true })).toThrow(/needs the edge peer/);
  });
});
