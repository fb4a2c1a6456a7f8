// Sums up a Chromium trace (Trace Event Format, as CDP's Tracing domain reports it) by thread:
// how long each thread ran top-level tasks, which task sources (the `src_file`/`src_func` a task
// was posted from) cost the most on the renderer's main thread and on the engine's worker, and
// what the longest tasks spent their time in. A CPU profile sees only JavaScript; this shows the
// browser's own work around it: structured clones (SerializedScriptValueFactory), message
// dispatch, data channel events. Durations are wall time: on an oversubscribed machine a task
// also includes the time its thread waited for a core.

export interface TraceEvent {
  readonly name: string;
  readonly cat?: string;
  readonly ph: string;
  readonly pid: number;
  readonly tid: number;
  readonly ts: number;
  readonly dur?: number;
  readonly args?: Record<string, unknown>;
}

const isTopLevel = (event: TraceEvent): boolean => event.ph === 'X' && (event.cat ?? '').split(',').includes('toplevel');

/**
 * The top-level events not inside another one of the same thread: Chromium marks both a task and
 * the handler it runs (Notify, then SimpleWatcher::OnHandleReady) as top-level, and summing both
 * would count that time twice.
 */
function outermostTasks(events: readonly TraceEvent[]): TraceEvent[] {
  const coveredUntil = new Map<string, number>();
  const outermost: TraceEvent[] = [];
  for (const event of events.filter(isTopLevel).sort((left, right) => left.ts - right.ts || (right.dur ?? 0) - (left.dur ?? 0))) {
    const thread = `${event.pid}:${event.tid}`;
    const end = event.ts + (event.dur ?? 0);
    if ((coveredUntil.get(thread) ?? -1) >= end) continue;
    coveredUntil.set(thread, end);
    outermost.push(event);
  }
  return outermost;
}
const milliseconds = (microseconds: number): string => (microseconds / 1000).toFixed(1);

function threadNames(events: readonly TraceEvent[]): { thread: (event: TraceEvent) => string; process: (event: TraceEvent) => string } {
  const threads = new Map<string, string>();
  const processes = new Map<number, string>();
  for (const event of events) {
    if (event.ph !== 'M') continue;
    const name = typeof event.args?.['name'] === 'string' ? event.args['name'] : null;
    if (name === null) continue;
    if (event.name === 'thread_name') threads.set(`${event.pid}:${event.tid}`, name);
    if (event.name === 'process_name') processes.set(event.pid, name);
  }
  return {
    thread: (event) => threads.get(`${event.pid}:${event.tid}`) ?? `thread ${event.tid}`,
    process: (event) => processes.get(event.pid) ?? `process ${event.pid}`,
  };
}

function topEntries(totals: Map<string, { duration: number; count: number }>, limit: number): string[] {
  return [...totals]
    .sort((left, right) => right[1].duration - left[1].duration)
    .slice(0, limit)
    .map(([key, { duration, count }]) => `${milliseconds(duration).padStart(8)} ms ${String(count).padStart(6)}  ${key}`);
}

function add(totals: Map<string, { duration: number; count: number }>, key: string, duration: number): void {
  const total = totals.get(key) ?? { duration: 0, count: 0 };
  total.duration += duration;
  total.count += 1;
  totals.set(key, total);
}

/** Lines of text: per-thread totals, then the main thread's and the worker's task sources and longest tasks. */
export function summarizeTrace(events: readonly TraceEvent[], traceMs: number): string[] {
  const names = threadNames(events);
  const lines: string[] = [];
  const perThread = new Map<string, { duration: number; count: number }>();
  const tasksOnly = outermostTasks(events);
  const outermost = new Set(tasksOnly);
  for (const event of tasksOnly) add(perThread, `${names.process(event)} / ${names.thread(event)}`, event.dur ?? 0);
  lines.push(`top-level task time per thread over ${traceMs} ms of trace (wall time, ms; tasks):`);
  lines.push(...topEntries(perThread, 12).map((line) => `  ${line}`));
  for (const threadName of ['CrRendererMain', 'DedicatedWorker thread']) {
    const onThread = events.filter((event) => event.ph === 'X' && names.process(event) === 'Renderer' && names.thread(event) === threadName);
    const tasks = onThread.filter((event) => outermost.has(event));
    if (tasks.length === 0) continue;
    const sources = new Map<string, { duration: number; count: number }>();
    for (const task of tasks) {
      const file = typeof task.args?.['src_file'] === 'string' ? task.args['src_file'].replace(/^.*\/(renderer|public|cpp|src)\//, '') : '';
      const func = typeof task.args?.['src_func'] === 'string' ? task.args['src_func'] : '';
      add(sources, file === '' && func === '' ? task.name : `${file} ${func}`, task.dur ?? 0);
    }
    const nested = new Map<string, { duration: number; count: number }>();
    for (const event of onThread) if (!isTopLevel(event)) add(nested, event.name, event.dur ?? 0);
    lines.push('', `renderer ${threadName}: ${tasks.length} top-level tasks; by where they were posted from:`);
    lines.push(...topEntries(sources, 8).map((line) => `  ${line}`));
    lines.push('  inside them (nested events, inclusive):');
    lines.push(...topEntries(nested, 10).map((line) => `  ${line}`));
    lines.push('  longest tasks:');
    for (const task of [...tasks].sort((left, right) => (right.dur ?? 0) - (left.dur ?? 0)).slice(0, 5)) {
      const end = task.ts + (task.dur ?? 0);
      const inside = new Map<string, { duration: number; count: number }>();
      for (const event of onThread) if (event !== task && !isTopLevel(event) && event.ts >= task.ts && event.ts + (event.dur ?? 0) <= end) add(inside, event.name, event.dur ?? 0);
      const composition = [...inside].sort((left, right) => right[1].duration - left[1].duration).slice(0, 4).map(([name, { duration }]) => `${name} ${milliseconds(duration)}`);
      lines.push(`    ${milliseconds(task.dur ?? 0)} ms: ${composition.join('; ') || task.name}`);
    }
  }
  return lines;
}

/**
 * Every top-level task of the renderer's main and worker threads (and the browser process's
 * IndexedDB work) over the first `windowMs` of the trace, in time order: at light load, one
 * commit's path through the threads, hop by hop, with the gaps between.
 */
export function taskTimeline(events: readonly TraceEvent[], windowMs: number): string[] {
  const names = threadNames(events);
  const tasks = outermostTasks(events).filter((event) => (event.dur ?? 0) > 0 && ((names.process(event) === 'Renderer' && ['CrRendererMain', 'DedicatedWorker thread', 'WebRTC_W_and_N'].includes(names.thread(event))) || (names.process(event) === 'Browser' && names.thread(event).startsWith('ThreadPool'))));
  if (tasks.length === 0) return [];
  const start = Math.min(...tasks.map((task) => task.ts));
  const lines = [``, `timeline of the first ${windowMs} ms (start ms, duration ms, thread, posted from):`];
  // Each task once (outermostTasks); empty microtask checkpoints are left out.
  for (const task of tasks) {
    if (task.ts - start > windowMs * 1000) break;
    if (task.name.includes('MicrotaskCheckpoint') && (task.dur ?? 0) < 50) continue;
    const func = typeof task.args?.['src_func'] === 'string' ? task.args['src_func'] : task.name;
    const file = typeof task.args?.['src_file'] === 'string' ? task.args['src_file'].replace(/^.*\//, '') : '';
    lines.push(`  ${milliseconds(task.ts - start).padStart(7)}  ${milliseconds(task.dur ?? 0).padStart(5)}  ${`${names.process(task)}/${names.thread(task)}`.padEnd(40)} ${file} ${func}`);
  }
  return lines;
}
