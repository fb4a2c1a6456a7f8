// A wedge reported by hand through the node's metric callback, as the tests of the rejoin path do
// (building a real one takes a removed member and a stale configuration, which the room
// simulation covers). A real wedge does not stop: its sender keeps sending and the node keeps
// refusing it, and a report counts only while that lasts (wedge-verdict.ts), so the refusals the
// report stands for go on here, every `everyMs`, until stopped.
import type { Clock } from '../core/config.ts';
import type { RaftMetric } from '../core/events.ts';
import type { WedgeMetric } from './room-incarnation.ts';

export function reportWedge(clock: Clock, report: (metric: RaftMetric) => void, metric: WedgeMetric, everyMs = 100): { stop(): void } {
  let stopped = false;
  const refuse = (): void => {
    if (stopped) return;
    report({ type: 'frameRefused', from: metric.from, reason: metric.gate });
    clock.setTimeout(refuse, everyMs);
  };
  refuse();
  report(metric);
  return { stop: () => void (stopped = true) };
}
