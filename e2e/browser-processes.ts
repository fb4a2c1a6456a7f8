// Finding and killing a browser (a Chromium by its profile, a Firefox by its process) (e2e/storage-crash.spec.ts, the chaos campaigns in
// e2e/chaos/ and e2e/room-chaos/): SIGKILL of the browser process and every process under it (renderers, GPU,
// network and storage services) at once, so nothing gets to shut down or flush.
import { readdirSync, readFileSync } from 'node:fs';

/** Each live process: its parent and its command line. */
export function processTable(): Map<number, { parent: number; commandLine: string }> {
  const table = new Map<number, { parent: number; commandLine: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      table.set(Number(entry), { parent, commandLine: readFileSync(`/proc/${entry}/cmdline`, 'utf8') });
    } catch {
      // exited meanwhile
    }
  }
  return table;
}

/** SIGKILLs the Chromium using this profile and all its descendants; returns how many processes. */
export function killBrowser(profile: string): number {
  const table = processTable();
  return killWithDescendants(table, [...table].filter(([, info]) => info.commandLine.includes(`--user-data-dir=${profile}`)).map(([pid]) => pid));
}

/** SIGKILLs a process and all its descendants (a Firefox that puppeteer started); returns how many processes. */
export function killProcessTree(pid: number): number {
  const table = processTable();
  // Not one that exited already: 0 says so, and its pid may belong to another process by now.
  return table.has(pid) ? killWithDescendants(table, [pid]) : 0;
}

function killWithDescendants(table: Map<number, { parent: number; commandLine: string }>, roots: readonly number[]): number {
  const doomed = new Set(roots);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, info] of table) {
      if (!doomed.has(pid) && doomed.has(info.parent)) {
        doomed.add(pid);
        grew = true;
      }
    }
  }
  for (const pid of doomed) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  return doomed.size;
}
