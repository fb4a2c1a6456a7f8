// Who holds a lock: a pid alone cannot tell the owner from a later process given the same pid
// (after a reboot, or once pids wrap around), and such a stranger used to keep the directory
// locked for good. On Linux the lock also names the boot (/proc/sys/kernel/random/boot_id) and the
// owner's start time (field 22 of /proc/<pid>/stat, clock ticks after boot): a pid with either
// changed is another process, and the lock is stale. Where these cannot be read (macOS, Windows,
// a /proc hidden from this user) the lock is the pid alone and judged as before: by the pid.
//
// The text is the pid on its first line, then one `name value` line per fact known:
//   12345
//   boot 7e6403c0-df16-4559-90ca-43b3a4447f0c
//   start 69238
//   pid-namespace 4026531836
// A lock written before these facts existed is the pid alone, and reads as one without them; a
// line this version does not know (a fact a later one adds) is skipped.
//
// A pid means something only inside its PID namespace: two containers sharing a data volume each
// see the other's pid as dead, or as an unrelated process of theirs, and each took the other's live
// lock over (two writers on one journal; an outside review). The lock names the owner's namespace
// (the inode /proc/self/ns/pid links to); an owner of another namespace cannot be looked up from
// here, so it counts as running unless the machine rebooted since (the boot id is the host's,
// the same in every container). A lock without the namespace (older builds) is judged as before.
import { readFile, readlink } from 'node:fs/promises';

export interface ProcessIdentity {
  readonly pid: number;
  readonly bootId?: string;
  /** Clock ticks after boot at which the process started, as /proc writes it. */
  readonly startTime?: string;
  /** The PID namespace `pid` counts in: the inode number /proc/self/ns/pid names. */
  readonly pidNamespace?: string;
}

/** A lock file is a few dozen bytes: anything much longer is garbage, not an owner. */
const maxIdentityTextLength = 1024;
const bootIdPath = '/proc/sys/kernel/random/boot_id';
const bootIdPattern = /^[0-9a-f-]{1,64}$/;
const startTimePattern = /^\d{1,20}$/;
const pidNamespacePath = '/proc/self/ns/pid';
const pidNamespacePattern = /^\d{1,20}$/;

export function identityText(identity: ProcessIdentity): string {
  return [
    String(identity.pid),
    ...(identity.bootId === undefined ? [] : [`boot ${identity.bootId}`]),
    ...(identity.startTime === undefined ? [] : [`start ${identity.startTime}`]),
    ...(identity.pidNamespace === undefined ? [] : [`pid-namespace ${identity.pidNamespace}`]),
  ].join('\n');
}

/** The identity a lock or takeover file names, or null for anything else (empty, garbage). */
export function parseIdentity(text: string): ProcessIdentity | null {
  if (text.length > maxIdentityTextLength) return null;
  const [first = '', ...rest] = text.trim().split('\n');
  const pid = Number(first.trim());
  if (!Number.isSafeInteger(pid) || pid <= 0 || first.trim() === '') return null;
  let bootId: string | undefined;
  let startTime: string | undefined;
  let pidNamespace: string | undefined;
  for (const line of rest) {
    const [name, value = '', ...extra] = line.trim().split(' ');
    // A fact a later version adds is skipped, not taken for garbage: garbage is taken over, and a
    // live owner's lock taken over means two writers on one journal.
    if (name !== 'boot' && name !== 'start' && name !== 'pid-namespace') continue;
    if (extra.length > 0) return null;
    if (name === 'boot' && bootIdPattern.test(value)) bootId = value;
    else if (name === 'start' && startTimePattern.test(value)) startTime = value;
    else if (name === 'pid-namespace' && pidNamespacePattern.test(value)) pidNamespace = value;
    else return null;
  }
  return { pid, ...(bootId === undefined ? {} : { bootId }), ...(startTime === undefined ? {} : { startTime }), ...(pidNamespace === undefined ? {} : { pidNamespace }) };
}

async function readBootId(): Promise<string | null> {
  const text = await readFile(bootIdPath, 'utf8').catch(() => null);
  const bootId = text?.trim() ?? '';
  return bootIdPattern.test(bootId) ? bootId : null;
}

/** Field 22 of /proc/<pid>/stat, or null where it cannot be read (not Linux, no such process). */
export async function startTimeOf(pid: number): Promise<string | null> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  return text === null ? null : startTimeIn(text);
}

/** The start time (field 22) in the text of a /proc/<pid>/stat file, or null if it has none. */
export function startTimeIn(statText: string): string | null {
  // Field 2 is the command name in parentheses, which may itself hold spaces and ')': count
  // from the last ')', after which field 3 comes first.
  const closing = statText.lastIndexOf(')');
  if (closing < 0) return null;
  const startTime = statText.slice(closing + 1).trim().split(' ')[22 - 3];
  return startTime !== undefined && startTimePattern.test(startTime) ? startTime : null;
}

/** The inode number of this process's PID namespace (`pid:[4026531836]`), or null where /proc cannot say. */
async function readPidNamespace(): Promise<string | null> {
  const link = await readlink(pidNamespacePath).catch(() => null);
  const inode = /^pid:\[(\d{1,20})\]$/.exec(link ?? '')?.[1];
  return inode ?? null;
}

let own: Promise<ProcessIdentity> | null = null;

/** This process's identity (read once: none of these facts changes while it runs). */
export function ownIdentity(): Promise<ProcessIdentity> {
  own ??= (async () => {
    const [bootId, startTime, pidNamespace] = await Promise.all([readBootId(), startTimeOf(process.pid), readPidNamespace()]);
    // Boot and start both or neither: a start time means nothing without the boot it counts from.
    const times = bootId === null || startTime === null ? {} : { bootId, startTime };
    return { pid: process.pid, ...times, ...(pidNamespace === null ? {} : { pidNamespace }) };
  })();
  return own;
}

/** Whether a process of this PID namespace has `pid` (EPERM: it has, and is another user's). */
function pidIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * What a lock (or takeover) file's owner is, seen from this process:
 * - 'gone': it has exited (or the machine rebooted since), and its lock is stale;
 * - 'running': a live process of this PID namespace;
 * - 'thisProcess': this very process (another worker thread, or a second copy of this module);
 * - 'otherPidNamespace': a process of another PID namespace (another container), which cannot be
 *   looked up from here: taken for running, since taking a live owner's lock means two writers.
 */
export type OwnerVerdict = 'gone' | 'running' | 'thisProcess' | 'otherPidNamespace';

export async function judgeOwner(owner: ProcessIdentity): Promise<OwnerVerdict> {
  const self = await ownIdentity();
  // The boot id is the host's, the same in every namespace: another boot means every process of
  // that boot has ended, in whatever namespace it ran.
  if (owner.bootId !== undefined && self.bootId !== undefined && owner.bootId !== self.bootId) return 'gone';
  // A namespace this process cannot read its own of cannot be compared: it may be another.
  if (owner.pidNamespace !== undefined && owner.pidNamespace !== self.pidNamespace) return 'otherPidNamespace';
  if (owner.pid === self.pid) {
    // Our own pid. Named with our boot and start time (and namespace, where both say), it is this
    // very process; otherwise an earlier process that had our pid (a container restarted, where
    // the peer is pid 1 each time), which cannot be running, since we are.
    const sameStart = owner.bootId !== undefined && owner.bootId === self.bootId && owner.startTime !== undefined && owner.startTime === self.startTime;
    return sameStart ? 'thisProcess' : 'gone';
  }
  return (await isRunning(owner)) ? 'running' : 'gone';
}

/**
 * Whether the process `identity` names (of this PID namespace) is still running: its pid is alive
 * and, where the lock recorded them and they can be read now, the boot and the pid's start time
 * are the recorded ones.
 */
async function isRunning(identity: ProcessIdentity): Promise<boolean> {
  if (!pidIsAlive(identity.pid)) return false;
  if (identity.bootId !== undefined) {
    const bootId = await readBootId();
    if (bootId !== null && bootId !== identity.bootId) return false;
  }
  if (identity.startTime !== undefined) {
    const startTime = await startTimeOf(identity.pid);
    if (startTime !== null && startTime !== identity.startTime) return false;
  }
  return true;
}
