// SIGKILL of one tab's whole Chromium: every process whose command line names its profile, and
// every process under those (renderers, the GPU, network and storage services), at once, so
// nothing gets to shut down or flush — as e2e/storage-crash.spec.ts does.
import { readdirSync, readFileSync } from 'node:fs';

/** Each live process: its parent and its command line. */
function processTable(): Map<number, { parent: number; commandLine: string }> {
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

/** Kills the browser using this profile directory; answers how many processes were signalled. */
export function killBrowser(profile: string): number {
  const table = processTable();
  const doomed = new Set([...table].filter(([, info]) => info.commandLine.includes(`--user-data-dir=${profile}`)).map(([pid]) => pid));
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
