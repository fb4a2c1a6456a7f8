// Failover: the leader's page is closed (its worker, node and connections die with it, as when a
// user closes the tab); the time until the new leader's first commit is measured on the wall clock
// (performance.timeOrigin + now, comparable across the three processes and Node). Between trials
// the closed page is reopened and its node restarted from its IndexedDB database, and the cluster
// is left to settle, so leadership rotates over the three processes.
import type { BenchProcess } from './cluster.ts';
import { settled, sleep, wallClockMs } from './driving.ts';

export interface FailoverFigures {
  readonly trials: readonly number[];
  readonly failed: number;
  readonly startedAtMs: number;
  readonly endedAtMs: number;
}

const trialTimeoutMs = 30_000;

async function oneTrial(processes: readonly BenchProcess[]): Promise<{ milliseconds: number | null; closed: BenchProcess }> {
  const { leader } = await settled(processes);
  const survivors = processes.filter((each) => each !== leader);
  await Promise.all(survivors.map((each) => each.page.evaluate(() => window.browserBench.armFailover())));
  const closedAt = wallClockMs();
  await leader.closePage();
  let milliseconds: number | null = null;
  while (milliseconds === null && wallClockMs() - closedAt < trialTimeoutMs) {
    for (const survivor of survivors) {
      const result = await survivor.page.evaluate(() => window.browserBench.failoverResult());
      if (result !== null) milliseconds = result.atMs - closedAt;
    }
    await sleep(5);
  }
  await Promise.all(survivors.map((each) => each.page.evaluate(() => window.browserBench.disarmFailover())));
  return { milliseconds, closed: leader };
}

export async function measureFailover(processes: readonly BenchProcess[], trials: number): Promise<FailoverFigures> {
  const startedAtMs = wallClockMs();
  const times: number[] = [];
  let failed = 0;
  for (let trial = 0; trial < trials; trial += 1) {
    const { milliseconds, closed } = await oneTrial(processes);
    if (milliseconds === null) failed += 1;
    else times.push(milliseconds);
    await closed.reopen();
    await closed.startNode();
    // Let the reopened node's connections come up and its log catch up before the next close.
    await settled(processes);
    await sleep(300);
  }
  return { trials: times, failed, startedAtMs, endedAtMs: wallClockMs() };
}
