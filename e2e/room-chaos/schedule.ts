// The campaign's fault schedule, drawn in full from one seed before anything runs, so a seed names
// one schedule and a failure's report can print it. The generator keeps its own model of each tab
// (live, down, gone; frozen or cut off until some time) and only draws faults the model allows, so
// executing the steps in order never asks for something impossible (returning a tab that is live).
//
// Bounds that keep every schedule recoverable (a room whose majority left for good waits forever,
// legally — README "Rooms"): a tab leaves for good only when no other fault is active and the last
// departure is at least `leaveSpacingMs` old (the policy has replaced it by then), at least three
// members are live, and at most `maxConcurrentFaults` members are down, frozen or cut off at once.
//
// With an edge peer, it is one more member of the model, named `edge`: it is killed (SIGKILL of
// its process), returns (the same data directory), is frozen (SIGSTOP, then SIGCONT) and cut off
// (its connections fail), within the same bounds; it never joins or leaves. It is picked about as
// often as any one tab. Schedules without it draw exactly what they drew before it existed.
//
// As a witness (`--witness`) it is faulted the same way, and it counts as a member for every bound
// (it votes, so it is part of every quorum), but a tab leaves for good only while at least
// `witnessLeaveMembers` members are live. A witness never campaigns, so a room of three voters —
// two tabs and the witness — whose leading tab leaves for good may be left with a tab that lacks
// entries only the leaver and the witness held: that tab cannot be elected until the leaver comes
// back, and a leaver never does (README "Edge peers", the documented trade-off). With five members
// live the room has five voters, and the three tabs left can elect the most complete of them
// without the witness. The campaign checks the real configuration before a leave as well
// (witness.ts): the policy may not have settled when the step comes.
import { seededRandom } from '../../src/testing/seeded-random.ts';

export type TabFaultKind = 'join' | 'leave' | 'crash' | 'kill' | 'return' | 'freeze' | 'partition';
export type EdgeFaultKind = 'edge-kill' | 'edge-return' | 'edge-freeze' | 'edge-partition';
export type FaultKind = TabFaultKind | EdgeFaultKind;
/** The tabs' fault kinds (every campaign draws each, the spec's seed included). */
export const faultKinds: readonly TabFaultKind[] = ['join', 'leave', 'crash', 'kill', 'return', 'freeze', 'partition'];
/** The edge peer's, drawn only with `--edge-peer`. */
export const edgeFaultKinds: readonly EdgeFaultKind[] = ['edge-kill', 'edge-return', 'edge-freeze', 'edge-partition'];
export const edgePeerName = 'edge';

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
  /** The demo's partition switch off, undone by the matching `reconnect`. */
  | { readonly atMs: number; readonly kind: 'partition'; readonly tab: string; readonly forMs: number }
  /** The edge peer's process: SIGKILL. */
  | { readonly atMs: number; readonly kind: 'edge-kill'; readonly tab: string }
  /** The edge peer's process starts again on the same data directory. */
  | { readonly atMs: number; readonly kind: 'edge-return'; readonly tab: string }
  /** SIGSTOP of the edge peer's process, undone by the matching `thaw` (SIGCONT). */
  | { readonly atMs: number; readonly kind: 'edge-freeze'; readonly tab: string; readonly forMs: number }
  /** Every connection of the edge peer fails and none opens, until the matching `reconnect`. */
  | { readonly atMs: number; readonly kind: 'edge-partition'; readonly tab: string; readonly forMs: number }
  /** Undoes a freeze or an edge-freeze of the same tab. */
  | { readonly atMs: number; readonly kind: 'thaw'; readonly tab: string }
  /** Undoes a partition or an edge-partition of the same tab. */
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
  /** An edge peer is in the room and suffers faults too. */
  readonly edgePeer: boolean;
  /** The edge peer is the room's witness (only with `edgePeer`): leaves wait for five live members. */
  readonly witness: boolean;
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

/**
 * With a witness, a tab leaves for good only while this many members are live (the witness
 * included): the policy's five voters, so the tabs left after the leave are a majority by
 * themselves (see the header).
 */
export const witnessLeaveMembers = 5;

type Modelled = [string, TabModel];

export function generateSchedule(settings: ScheduleSettings): Schedule {
  if (settings.witness && !settings.edgePeer) throw new Error('a witness schedule needs the edge peer');
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
  const edge: TabModel | null = settings.edgePeer ? { state: 'live', busyUntilMs: 0, downSinceMs: 0 } : null;
  const steps: ScheduleStep[] = [];
  const uncovered = new Set<FaultKind>([...faultKinds, ...(edge === null ? [] : edgeFaultKinds)]);
  let lastLeaveMs = -settings.leaveSpacingMs;
  for (let atMs = between(settings.gapMs); atMs < settings.durationMs; atMs += between(settings.gapMs)) {
    const namedTabs = [...tabs].filter(([, model]) => model.state !== 'gone');
    const members: Modelled[] = edge === null ? namedTabs : [...namedTabs, [edgePeerName, edge]];
    const live = members.filter(([, model]) => model.state === 'live');
    const idle = live.filter(([, model]) => model.busyUntilMs <= atMs);
    const idleTabs = idle.filter(([name]) => name !== edgePeerName);
    const faulted = members.length - idle.length;
    const down = members.filter(([, model]) => model.state === 'down');
    const downTabs = down.filter(([name]) => name !== edgePeerName);
    const allowed: TabFaultKind[] = [];
    if (namedTabs.length < settings.maxTabs) allowed.push('join');
    const liveToLeave = settings.witness ? witnessLeaveMembers : 3;
    if (faulted === 0 && live.length >= liveToLeave && atMs - lastLeaveMs >= settings.leaveSpacingMs) allowed.push('leave');
    if (faulted < settings.maxConcurrentFaults && idle.length >= 3) allowed.push('crash', 'kill', 'freeze', 'partition');
    if (downTabs.length > 0) allowed.push('return');
    const edgeAllowed: EdgeFaultKind[] = [];
    if (edge !== null && edge.state === 'down') edgeAllowed.push('edge-return');
    if (edge !== null && edge.state === 'live' && edge.busyUntilMs <= atMs && faulted < settings.maxConcurrentFaults && idle.length >= 3) edgeAllowed.push('edge-kill', 'edge-freeze', 'edge-partition');
    // A member down too long comes back first; otherwise a kind not drawn yet, so even a short
    // campaign exercises every fault; otherwise any allowed kind, the edge peer's about as often
    // as one member's among all.
    const overdue = down.filter(([, model]) => atMs - model.downSinceMs >= settings.faultLengthMs[1]);
    const returning = overdue.length > 0 ? pick(overdue) : null;
    const fresh = [...allowed, ...edgeAllowed].filter((kind) => uncovered.has(kind));
    const kind: FaultKind | undefined =
      returning !== null ? (returning[0] === edgePeerName ? 'edge-return' : 'return')
      : fresh.length > 0 ? pick(fresh)
      : edgeAllowed.length > 0 && (allowed.length === 0 || random() < 1 / members.length) ? pick(edgeAllowed)
      : allowed.length > 0 ? pick(allowed)
      : undefined;
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
        const [tab, model] = pick(idleTabs);
        model.state = 'gone';
        lastLeaveMs = atMs;
        steps.push({ atMs, kind, tab });
        break;
      }
      case 'crash':
      case 'kill':
      case 'edge-kill': {
        const [tab, model] = kind === 'edge-kill' ? [edgePeerName, edge as TabModel] : pick(idleTabs);
        model.state = 'down';
        model.downSinceMs = atMs;
        steps.push({ atMs, kind, tab });
        break;
      }
      case 'return':
      case 'edge-return': {
        const [tab, model] = returning ?? (kind === 'edge-return' ? [edgePeerName, edge as TabModel] : pick(downTabs));
        model.state = 'live';
        steps.push({ atMs, kind, tab });
        break;
      }
      case 'freeze':
      case 'partition':
      case 'edge-freeze':
      case 'edge-partition': {
        const [tab, model] = kind === 'edge-freeze' || kind === 'edge-partition' ? [edgePeerName, edge as TabModel] : pick(idleTabs);
        const forMs = between(settings.faultLengthMs);
        model.busyUntilMs = atMs + forMs;
        steps.push({ atMs, kind, tab, forMs });
        steps.push(kind === 'freeze' || kind === 'edge-freeze' ? { atMs: atMs + forMs, kind: 'thaw', tab } : { atMs: atMs + forMs, kind: 'reconnect', tab });
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
  const counts = Object.fromEntries([...faultKinds, ...edgeFaultKinds].map((kind) => [kind, 0])) as Record<FaultKind, number>;
  for (const step of schedule.steps) if (step.kind !== 'thaw' && step.kind !== 'reconnect') counts[step.kind] += 1;
  return counts;
}

export function describeStep(step: ScheduleStep): string {
  const length = 'forMs' in step ? ` for ${step.forMs} ms` : '';
  return `${(step.atMs / 1000).toFixed(1).padStart(6)} s  ${step.kind.padEnd(14)} ${step.tab}${length}`;
}
