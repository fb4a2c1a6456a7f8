// CPU time of every thread of the benchmark's Chromium processes, from Linux's /proc, grouped by process type
// (browser, renderer, utility, ...) and thread name (CrRendererMain shows as "chromium",
// DedicatedWorker, WebRTC_W_and_N, Chrome_ChildIOThread, ThreadPoolForegroundWorker...). A CPU
// profile through CDP sees only JavaScript threads and calls the rest "(idle)" or "(program)";
// this shows where the rest goes: IPC threads, the network service moving WebRTC's UDP packets,
// the storage thread pool committing IndexedDB transactions. Elsewhere than Linux it reports
// nothing rather than guessing.
import fs from 'node:fs';

/** Kernel clock ticks per second: the unit of utime/stime in /proc/<pid>/task/<tid>/stat (100 on Linux). */
const ticksPerSecond = 100;

export interface ThreadCpuSnapshot {
  readonly atMs: number;
  /** `${processType}|${threadName}` → [user ticks, system ticks], summed over every such thread. */
  readonly ticks: ReadonlyMap<string, readonly [number, number]>;
}

export interface ThreadCpuRow {
  readonly processType: string;
  readonly threadName: string;
  /** Percent of one core over the interval. */
  readonly userPercent: number;
  readonly systemPercent: number;
}

function readText(path: string): string | null {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return null; // the process or thread ended between listing and reading
  }
}

/** Chromium rewrites its command line for `ps`, so the arguments may arrive space- or NUL-separated. */
function processType(commandLine: string): string | null {
  const words = commandLine.split(/[\0 ]/);
  if (!(words[0] ?? '').includes('chrom')) return null;
  const type = words.find((word) => word.startsWith('--type='));
  return type === undefined ? 'browser' : type.slice('--type='.length);
}

export function threadCpuAvailable(): boolean {
  return process.platform === 'linux' && fs.existsSync('/proc/self/task');
}

/**
 * The Chromium processes whose command line contains `rootMatch` (the browser processes, by their
 * profile directory) and every process under them, so other browsers on the machine (another
 * benchmark, a test run) are not counted.
 */
function chromiumProcesses(rootMatch: string): Map<string, string> {
  const parents = new Map<string, string>();
  const types = new Map<string, string>();
  const roots = new Set<string>();
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = readText(`/proc/${pid}/stat`);
    const commandLine = readText(`/proc/${pid}/cmdline`);
    if (stat === null || commandLine === null) continue;
    parents.set(pid, stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] ?? '');
    const type = processType(commandLine);
    if (type === null) continue;
    types.set(pid, type);
    if (commandLine.includes(rootMatch)) roots.add(pid);
  }
  const chosen = new Map<string, string>();
  for (const [pid, type] of types) {
    // Walk up: a process belongs if a root is among its ancestors (or it is one).
    for (let current: string | undefined = pid, depth = 0; current !== undefined && current !== '0' && depth < 64; current = parents.get(current), depth += 1) {
      if (roots.has(current)) {
        chosen.set(pid, type);
        break;
      }
    }
  }
  return chosen;
}

export function takeThreadCpuSnapshot(rootMatch: string): ThreadCpuSnapshot {
  const ticks = new Map<string, [number, number]>();
  if (!threadCpuAvailable()) return { atMs: Date.now(), ticks };
  for (const [pid, type] of chromiumProcesses(rootMatch)) {
    let threads: string[];
    try {
      threads = fs.readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const thread of threads) {
      const stat = readText(`/proc/${pid}/task/${thread}/stat`);
      const name = readText(`/proc/${pid}/task/${thread}/comm`);
      if (stat === null || name === null) continue;
      // Fields after the parenthesised name: state is field 3, utime 14 and stime 15 (1-based).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const user = Number(fields[11]);
      const system = Number(fields[12]);
      if (!Number.isFinite(user) || !Number.isFinite(system)) continue;
      const key = `${type}|${name.trim()}`;
      const sum = ticks.get(key) ?? [0, 0];
      sum[0] += user;
      sum[1] += system;
      ticks.set(key, sum);
    }
  }
  return { atMs: Date.now(), ticks };
}

/**
 * CPU used between two snapshots, heaviest first. Threads that ended in between are missed and
 * threads that started count from zero, so take both snapshots while the browsers run.
 */
export function threadCpuBetween(before: ThreadCpuSnapshot, after: ThreadCpuSnapshot): ThreadCpuRow[] {
  const seconds = Math.max(0.001, (after.atMs - before.atMs) / 1000);
  const rows: ThreadCpuRow[] = [];
  for (const [key, [user, system]] of after.ticks) {
    const [userBefore, systemBefore] = before.ticks.get(key) ?? [0, 0];
    const [processTypeName = '', threadName = ''] = key.split('|');
    const percent = (value: number): number => (100 * Math.max(0, value)) / ticksPerSecond / seconds;
    rows.push({ processType: processTypeName, threadName, userPercent: percent(user - userBefore), systemPercent: percent(system - systemBefore) });
  }
  return rows.sort((left, right) => right.userPercent + right.systemPercent - (left.userPercent + left.systemPercent));
}
