// The campaign's fault schedule, drawn in full from one seed before anything runs, so a seed names
// one schedule and a failure's report can print it. The generator keeps its own model of each tab
// (live, down, gone; frozen or cut off until some time) and only draws faults the model allows, so
// executing the steps in order never asks for something impossible (returning a tab that is live).
//
// Bounds that keep every schedule recoverable (a room whose majority left for good waits forever,
// legally — README "Rooms"): a tab leaves for good only when no other fault is active and the last
// departure is at least `leaveSpacingMs` old (the policy has replaced it by then), at least three
// tabs are live, and at most `maxConcurrentFaults` tabs are down, frozen or cut off at once.
import { seededRandom } from '../../src/testing/seeded-random.ts';

export type FaultKind = 'join' | 'leave' | 'crash' | 'kill' | 'return' | 'freeze' | 'partition';
export const faultKinds: readonly FaultKind[] = ['join', 'leave', 'crash', 'kill', 'return', 'freeze', 'partition'];

export type ScheduleStep =
  /** A new tab (fresh profile, fresh identity) joins. */
  | { readonly atMs: number; readonly kind: 'join'; readonly tab: string }
  /** `room.leave()`, then the browser closes: the tab is gone for good. */
  | { readonly atMs: number; readonly kind: 'leave'; readonly tab: string }
  /** The page is closed without unload handlers (its worker dies with it); the browser stays. */
  | { readonly atMs: number; readonly kind: 'crash'; readonly tab: string }
  /** SIGKILL of the tab's whole browser (every process of its profile). */
  | { readonly atMs: number; readonly kind: 'kill'; readonly tab: string }
  /** A crashed or killed tab opens again on the same profile (same identity slot, same IndexedDB). */
  | { readonly atMs: number; readonly kind: 'return'; readonly tab: string }
  /** CDP Page.setWebLifecycleState frozen, undone by the matching `thaw`. */
  | { readonly atMs: number; readonly kind: 'freeze'; readonly tab: string; readonly forMs: number }
  | { readonly atMs: number; readonly kind: 'thaw'; readonly tab: string }
  /** The demo's partition switch off, undone by the matching `reconnect`. */
  | { readonly atMs: number; readonly kind: 'partition'; readonly tab: string; readonly forMs: number }
  | { readonly atMs: number; readonly kind: 'reconnect'; readonly tab: string };

export interface ScheduleSettings {
  readonly seed: number;
  readonly durationMs: number;
  /** Tabs started before the first fault. */
  readonly initialTabs: number;
  /** Tabs live or down at once (each one a Chromium process). */
  readonly maxTabs: number;
  readonly maxConcurrentFaults: number;
  /** Pause between two faults, drawn from this range. */
  readonly gapMs: readonly [number, number];
  /** How long a freeze, a partition or a stay down lasts, drawn from this range. */
  readonly faultLengthMs: readonly [number, number];
  readonly leaveSpacingMs: number;
}

export interface Schedule {
  readonly initialTabs: readonly string[];
  readonly steps: readonly ScheduleStep[];
}

interface TabModel {
  state: 'live' | 'down' | 'gone';
  /** Frozen or cut off until then (the undo step is already in the schedule). */
  busyUntilMs: number;
  downSinceMs: number;
}

export const tabName = (number: number): string => `tab-${number}`;

export function generateSchedule(settings: ScheduleSettings): Schedule {
  const random = seededRandom(settings.seed);
  const between = ([low, high]: readonly [number, number]): number => Math.round(low + random() * (high - low));
  const pick = <T>(items: readonly T[]): T => {
    const item = items[Math.floor(random() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  };
  const tabs = new Map<string, TabModel>();
  const initialTabs: string[] = [];
  for (let number = 1; number <= settings.initialTabs; number += 1) {
    initialTabs.push(tabName(number));
    tabs.set(tabName(number), { state: 'live', busyUntilMs: 0, downSinceMs: 0 });
  }
  const steps: ScheduleStep[] = [];
  const uncovered = new Set<FaultKind>(faultKinds);
  let lastLeaveMs = -settings.leaveSpacingMs;
  for (let atMs = between(settings.gapMs); atMs < settings.durationMs; atMs += between(settings.gapMs)) {
    const named = [...tabs].filter(([, model]) => model.state !== 'gone');
    const live = named.filter(([, model]) => model.state === 'live');
    const idle = live.filter(([, model]) => model.busyUntilMs <= atMs);
    const faulted = named.length - idle.length;
    const down = named.filter(([, model]) => model.state === 'down');
    const allowed: FaultKind[] = [];
    if (named.length < settings.maxTabs) allowed.push('join');
    if (faulted === 0 && live.length >= 3 && atMs - lastLeaveMs >= settings.leaveSpacingMs) allowed.push('leave');
    if (faulted < settings.maxConcurrentFaults && idle.length >= 3) allowed.push('crash', 'kill', 'freeze', 'partition');
    if (down.length > 0) allowed.push('return');
    // A tab down too long comes back first; otherwise a kind not drawn yet, so even a short
    // campaign exercises every fault; otherwise any allowed kind.
    const overdue = down.filter(([, model]) => atMs - model.downSinceMs >= settings.faultLengthMs[1]);
    const fresh = allowed.filter((kind) => uncovered.has(kind));
    const kind: FaultKind | undefined = overdue.length > 0 ? 'return' : fresh.length > 0 ? pick(fresh) : allowed.length > 0 ? pick(allowed) : undefined;
    if (kind === undefined) continue;
    uncovered.delete(kind);
    switch (kind) {
      case 'join': {
        const tab = tabName(tabs.size + 1);
        tabs.set(tab, { state: 'live', busyUntilMs: 0, downSinceMs: 0 });
        steps.push({ atMs, kind, tab });
        break;
      }
      case 'leave': {
        const [tab, model] = pick(idle);
        model.state = 'gone';
        lastLeaveMs = atMs;
        steps.push({ atMs, kind, tab });
        break;
      }
      case 'crash':
      case 'kill': {
        const [tab, model] = pick(idle);
        model.state = 'down';
        model.downSinceMs = atMs;
        steps.push({ atMs, kind, tab });
        break;
      }
      case 'return': {
        const [tab, model] = overdue.length > 0 ? pick(overdue) : pick(down);
        model.state = 'live';
        steps.push({ atMs, kind, tab });
        break;
      }
      case 'freeze':
      case 'partition': {
        const [tab, model] = pick(idle);
        const forMs = between(settings.faultLengthMs);
        model.busyUntilMs = atMs + forMs;
        steps.push({ atMs, kind, tab, forMs });
        steps.push(kind === 'freeze' ? { atMs: atMs + forMs, kind: 'thaw', tab } : { atMs: atMs + forMs, kind: 'reconnect', tab });
        break;
      }
      default:
        throw new Error(`unknown fault kind ${String(kind satisfies never)}`);
    }
  }
  // Stable by time: an undo step drawn later but due earlier runs in its place.
  steps.sort((first, second) => first.atMs - second.atMs);
  return { initialTabs, steps };
}

/** How many of each fault kind a schedule injects. */
export function countFaults(schedule: Schedule): Record<FaultKind, number> {
  const counts = Object.fromEntries(faultKinds.map((kind) => [kind, 0])) as Record<FaultKind, number>;
  for (const step of schedule.steps) if (step.kind !== 'thaw' && step.kind !== 'reconnect') counts[step.kind] += 1;
  return counts;
}

export function describeStep(step: ScheduleStep): string {
  const length = step.kind === 'freeze' || step.kind === 'partition' ? ` for ${step.forMs} ms` : '';
  return `${(step.atMs / 1000).toFixed(1).padStart(6)} s  ${step.kind.padEnd(9)} ${step.tab}${length}`;
}
