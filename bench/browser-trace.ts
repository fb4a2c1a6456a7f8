// `npm run bench:browser-trace`: a Chromium trace of one page of the benchmark's cluster while all
// three pages propose at saturation, summed up by thread and task (bench/browser/trace-summary.ts),
// and written whole for Perfetto or chrome://tracing under bench/results/. It shows what CPU
// profiles cannot: the browser's own work around our JavaScript. It found that each events post
// from the engine's worker cloned whole batch buffers (src/worker/packed-bytes.ts).
//   --page=leader|follower   which process to trace (default leader); the trace covers its
//                            renderer (page and workers), browser, network and storage processes
//   --seconds=N              length of the trace (default 3), after a 3 s warm-up
//   --in-flight=N            proposals in flight per page (default 256)
//   --light                  light load instead: one proposal at a time on the leader's page
//   --timeline=MS            also print every top-level task of the traced renderer's main and
//                            worker threads over the first MS ms of the trace, in time order
// Not a benchmark: nothing here is a target.
import fs from 'node:fs';
import os from 'node:os';
import { benchServing, startBenchCluster } from './browser/cluster.ts';
import { load, settled, sleep } from './browser/driving.ts';
import { summarizeTrace, taskTimeline, type TraceEvent } from './browser/trace-summary.ts';

const outside = Object.values(os.networkInterfaces()).flat().filter((address) => address !== undefined && !address.internal);
if (outside.length > 0) {
  console.error('bench/browser-trace.ts must run in a loopback-only network namespace: use `npm run bench:browser-trace`');
  process.exit(1);
}

function option(name: string, fallback: string): string {
  return process.argv.find((argument) => argument.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
}
function positive(name: string, fallback: number): number {
  const value = Number(option(name, String(fallback)));
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`--${name} needs a positive integer`);
  return value;
}
const which = option('page', 'leader');
if (which !== 'leader' && which !== 'follower') throw new RangeError('--page must be leader or follower');
const traceMs = positive('seconds', 3) * 1000;
const inFlight = positive('in-flight', 256);
const light = process.argv.includes('--light');
const timelineMs = Number(option('timeline', '0'));
if (!Number.isSafeInteger(timelineMs) || timelineMs < 0) throw new RangeError('--timeline needs a non-negative integer');
const warmUpMs = 3000;

/** Threads, tasks, IPC and the renderer's scheduler: enough to attribute a task, small enough to keep up. */
const categories = ['toplevel', 'disabled-by-default-devtools.timeline', 'devtools.timeline', 'v8', 'blink', 'webrtc', 'ipc', 'mojom'];

const cluster = await startBenchCluster(10_000, { engine: 'worker', durability: 'strict' }, benchServing(process.argv));
try {
  const processes = cluster.processes;
  await Promise.all(processes.map((each) => each.startNode()));
  const { leader } = await settled(processes);
  const traced = which === 'leader' ? leader : (processes.find((each) => each !== leader) ?? leader);
  const proposers = light ? [leader] : processes;
  const loads = Promise.all(proposers.map((each) => load(each, { inFlight: light ? 1 : inFlight, durationMs: warmUpMs + traceMs + 1000, untilCommitIndex: Number.MAX_SAFE_INTEGER, pauseMs: 0, keepAll: true })));
  await sleep(warmUpMs);
  const session = await traced.context.newCDPSession(traced.page);
  const events: TraceEvent[] = [];
  session.on('Tracing.dataCollected', (message) => {
    events.push(...(message.value as unknown as TraceEvent[]));
  });
  const complete = new Promise<void>((resolve) => session.once('Tracing.tracingComplete', () => resolve()));
  await session.send('Tracing.start', { transferMode: 'ReportEvents', traceConfig: { includedCategories: categories } });
  await sleep(traceMs);
  await session.send('Tracing.end');
  await complete;
  const results = await loads;
  const commits = results.reduce((sum, result) => sum + result.commits, 0);
  fs.mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/trace-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}-${traced.id}.json`;
  fs.writeFileSync(file, JSON.stringify({ traceEvents: events }));
  const p50 = results.map((result) => result.p50Ms.toFixed(2)).join(', ');
  console.log(`traced ${traced.id} (${traced === leader ? 'leader' : 'follower'}) for ${traceMs} ms, ${light ? "one proposal at a time on the leader's page" : `${inFlight} in flight per page`}; ${commits} commits over the load, p50 ${p50} ms; load average ${os.loadavg().map((value) => value.toFixed(1)).join(' ')}`);
  for (const line of summarizeTrace(events, traceMs)) console.log(line);
  if (timelineMs > 0) for (const line of taskTimeline(events, timelineMs)) console.log(line);
  console.log(`\nwrote ${file} (${events.length} events; open it in https://ui.perfetto.dev or chrome://tracing)`);
} finally {
  await cluster.close();
}
