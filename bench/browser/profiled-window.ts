// CPU profiles of the leader's worker and page under the saturation load, in a window of their own
// after the measured one. Until 2026-12-05 (evening) they were taken during the measured window,
// and the rate printed as the benchmark's throughput was the rate of a profiled cluster: V8's
// sampling profiler, at the 200 µs interval used here, interrupts its thread 5,000 times a
// second. On this 2-core machine, in alternating rounds of `npm run bench:browser-diagnose --
// --seconds=10 --light=0`, the leader's two threads profiled (`--profile-leader`) took saturation
// from 6,367 to 5,783 commits/s on average over eight rounds (about 9 %), and all six threads
// (`--profile`) from 6,495 to 4,430 over six. The rate over this window is printed beside the
// measured one, so what the profiles saw can be read against it.
import fs from 'node:fs';
import type { BenchProcess } from './cluster.ts';
import { settled, sleep, startLoadsUntilStopped, status, stopAllLoads, wallClockMs } from './driving.ts';
import type { BenchSizes } from './options.ts';

export interface ProfiledWindow {
  /** The cluster's commits per second while the leader's worker and page were profiled. */
  readonly commitsPerSecond: number;
  readonly seconds: number;
  /** Proposals that failed in the window, summed over the pages. */
  readonly errors: number;
  /** Path prefix of the two profiles: `${profileFile}-leader-{worker,page}.cpuprofile`. */
  readonly profileFile: string;
}

/** Time for the lanes of a fresh load to fill the pipeline before the profilers start. */
const rampUpMs = 1_000;

/** `inFlightPerPage`: the saturation ramp's best step, so the profiles show the load the figure was taken at. */
export async function profileUnderSaturation(processes: readonly BenchProcess[], sizes: BenchSizes, inFlightPerPage: number, profileFile: string): Promise<ProfiledWindow> {
  const { leader } = await settled(processes);
  // keepAll off: this window's latencies are not the benchmark's, each second is still summed up.
  const loads = startLoadsUntilStopped(processes, inFlightPerPage, rampUpMs + sizes.profileMs, false);
  await sleep(rampUpMs);
  const worker = await leader.devTools.startWorkerProfile();
  const page = await leader.devTools.startPageProfile();
  const startIndex = (await status(leader)).commitIndex;
  const started = wallClockMs();
  await sleep(sizes.profileMs);
  const endIndex = (await status(leader)).commitIndex;
  const seconds = (wallClockMs() - started) / 1000;
  await stopAllLoads(processes);
  fs.writeFileSync(`${profileFile}-leader-worker.cpuprofile`, JSON.stringify(await worker.stop()));
  fs.writeFileSync(`${profileFile}-leader-page.cpuprofile`, JSON.stringify(await page.stop()));
  const results = await loads;
  return { commitsPerSecond: (endIndex - startIndex) / seconds, seconds, errors: results.reduce((sum, result) => sum + result.errors, 0), profileFile };
}
