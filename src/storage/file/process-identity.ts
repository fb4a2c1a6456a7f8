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
// A lock written before these facts existed is the pid alone, and reads as one without them; a
// line this version does not know (a fact a later one adds) is skipped.
import { readFile } from 'node:fs/promises';

export interface ProcessIdentity {
  readonly pid: number;
  readonly bootId?: string;
  /** Clock ticks after boot at which the process started, as /proc writes it. */
  readonly startTime?: string;
}

/** A lock file is a few dozen bytes: anything much longer is garbage, not an owner. */
const maxIdentityTextLength = 1024;
const bootIdPath = '/proc/sys/kernel/random/boot_id';
const bootIdPattern = /^[0-9a-f-]{1,64}$/;
const startTimePattern = /^\d{1,20}$/;

export function identityText(identity: ProcessIdentity): string {
  return [String(identity.pid), ...(identity.bootId === undefined ? [] : [`boot ${identity.bootId}`]), ...(identity.startTime === undefined ? [] : [`start ${identity.startTime}`])].join('\n');
}

/** The identity a lock or takeover file names, or null for anything else (empty, garbage). */
export function parseIdentity(text: string): ProcessIdentity | null {
  if (text.length > maxIdentityTextLength) return null;
  const [first = '', ...rest] = text.trim().split('\n');
  const pid = Number(first.trim());
  if (!Number.isSafeInteger(pid) || pid <= 0 || first.trim() === '') return null;
  let bootId: string | undefined;
  let startTime: string | undefined;
  for (const line of rest) {
    const [name, value = '', ...extra] = line.trim().split(' ');
    // A fact a later version adds is skipped, not taken for garbage: garbage is taken over, and a
    // live owner's lock taken over means two writers on one journal.
    if (name !== 'boot' && name !== 'start') continue;
    if (extra.length > 0) return null;
    if (name === 'boot' && bootIdPattern.test(value)) bootId = value;
    else if (name === 'start' && startTimePattern.test(value)) startTime = value;
    else return null;
  }
  return { pid, ...(bootId === undefined ? {} : { bootId }), ...(startTime === undefined ? {} : { startTime }) };
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

let own: Promise<ProcessIdentity> | null = null;

/** This process's identity (read once: neither fact changes while it runs). */
export function ownIdentity(): Promise<ProcessIdentity> {
  own ??= (async () => {
    const [bootId, startTime] = await Promise.all([readBootId(), startTimeOf(process.pid)]);
    // Both or neither: a start time means nothing without the boot it counts from.
    return bootId === null || startTime === null ? { pid: process.pid } : { pid: process.pid, bootId, startTime };
  })();
  return own;
}

/** The pid check alone, for names that carry only a pid (a lock draft's). */
export function pidIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether the process `identity` names is still running: its pid is alive and, where the lock
 * recorded them and they can be read now, the boot and the pid's start time are the recorded ones.
 */
export async function isRunning(identity: ProcessIdentity): Promise<boolean> {
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
