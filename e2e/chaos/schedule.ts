// The fault schedule: a seeded sequence of steps, each one or two faults at once on distinct nodes,
// held for a while, then healed, then a quiet gap. The first steps cover every fault kind once (in
// a seeded order), so even a short campaign exercises each; later steps draw kinds at random.
// Targets are node positions or "the leader", resolved when the step runs.
import { seededRandom } from '../../src/index.ts';
import type { FaultKind } from './history.ts';

export const faultKinds: readonly FaultKind[] = ['closePage', 'killBrowser', 'terminateWorker', 'freeze', 'blockMainThread', 'partition', 'loseChannels', 'transferLeadership'];

export type FaultTarget = { readonly type: 'leader' } | { readonly type: 'node'; readonly position: number };

export interface PlannedFault {
  readonly kind: FaultKind;
  readonly target: FaultTarget;
  /** How long the fault is held before healing (freeze: 0.5–5 s, as the brief asks). */
  readonly holdMs: number;
  /** A second random choice some kinds need: the transfer's recipient, a connection also dropped. */
  readonly choice: number;
}

export interface Step {
  readonly index: number;
  readonly faults: readonly PlannedFault[];
  /** The pause after the heal, once the cluster is healthy again. */
  readonly quietMs: number;
}

function holdFor(kind: FaultKind, random: () => number): number {
  const between = (low: number, high: number): number => Math.round(low + random() * (high - low));
  switch (kind) {
    case 'freeze':
      return between(500, 5_000);
    case 'blockMainThread':
      return between(500, 3_000);
    case 'partition':
      return between(1_000, 5_000);
    case 'closePage':
    case 'killBrowser':
    case 'terminateWorker':
      return between(200, 3_000);
    case 'loseChannels':
    case 'transferLeadership':
      return between(300, 1_500);
  }
}

/** An endless, seeded schedule: the campaign takes steps until its time is up. */
export function* faultSchedule(seed: number, nodes: number): Generator<Step> {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const cover = [...faultKinds];
  for (let position = cover.length - 1; position > 0; position -= 1) {
    const other = Math.floor(random() * (position + 1));
    [cover[position], cover[other]] = [cover[other] as FaultKind, cover[position] as FaultKind];
  }
  for (let index = 0; ; index += 1) {
    const covering = index < cover.length;
    const count = covering ? 1 : random() < 0.3 ? 2 : 1;
    const positions = [...Array(nodes).keys()];
    const faults: PlannedFault[] = [];
    for (let number = 0; number < count; number += 1) {
      const kind = covering ? (cover[index] as FaultKind) : pick(faultKinds);
      // A transfer starts on the leader; other faults hit the leader a third of the time, since
      // that is where most recovery paths start.
      const onLeader = kind === 'transferLeadership' || (faults.length === 0 && random() < 1 / 3);
      const position = positions.splice(Math.floor(random() * positions.length), 1)[0] ?? 0;
      faults.push({ kind, target: onLeader ? { type: 'leader' } : { type: 'node', position }, holdMs: holdFor(kind, random), choice: random() });
    }
    yield { index, faults, quietMs: Math.round(500 + random() * 1_500) };
  }
}

export function describeFault(fault: PlannedFault): string {
  const target = fault.target.type === 'leader' ? 'the leader' : `node #${fault.target.position}`;
  return `${fault.kind} on ${target} for ${fault.holdMs} ms`;
}
