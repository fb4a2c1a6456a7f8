// A lock names its owner by pid and, on Linux, by boot and start time: a pid that now belongs to
// another process (after a reboot, or once pids wrap around) used to read as a live owner and keep
// the directory locked for good. Live pids here are real (this test's parent process); the boot
// and start times around them are made up or read from /proc.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RaftStorageError } from '../../core/errors.ts';
import { FileRaftStorage } from './file-storage.ts';
import { parseIdentity, startTimeIn, startTimeOf } from './process-identity.ts';
import { temporaryDirectories } from './temporary-directories.test-support.ts';

const freshDirectory = temporaryDirectories('raftmesh-lock-identity-');

const bootId = (): string => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
const otherBootId = (): string => (bootId().startsWith('0') ? '1' : '0') + bootId().slice(1);
async function liveParent(): Promise<{ pid: number; startTime: string }> {
  const startTime = await startTimeOf(process.ppid);
  if (startTime === null) throw new Error('this test needs /proc (Linux)');
  return { pid: process.ppid, startTime };
}
const lockOf = (directory: string): string => readFileSync(join(directory, 'lock'), 'utf8');
const pidNamespace = (): string => /\d+/.exec(readlinkSync('/proc/self/ns/pid'))?.[0] ?? '';
/** This process's lock: its identity, then the token of the one lock (any). */
const ownLock = async (): Promise<RegExp> => new RegExp(`^${process.pid}\nboot ${bootId()}\nstart ${await startTimeOf(process.pid)}\npid-namespace ${pidNamespace()}\ntoken [0-9a-f-]{36}$`);

async function outcomeOf(directory: string): Promise<string> {
  try {
    const storage = await FileRaftStorage.open(directory, { fsync: false });
    const lock = lockOf(directory);
    await storage.close();
    return `opened; lock was ${JSON.stringify(lock)}`;
  } catch (error) {
    return error instanceof RaftStorageError ? `${error.reason}: ${error.message}` : String(error);
  }
}

describe('the data directory lock names its owner beyond the pid', () => {
  it('writes this process’s pid, boot and start time and PID namespace, and reads them back', async () => {
    const directory = freshDirectory();
    const storage = await FileRaftStorage.open(directory, { fsync: false });
    const written = lockOf(directory);
    expect(written).toMatch(await ownLock());
    expect(parseIdentity(written)).toEqual({ pid: process.pid, bootId: bootId(), startTime: await startTimeOf(process.pid), pidNamespace: pidNamespace() });
    await storage.close();
  });

  it('takes over a lock whose live pid was recorded under another boot (the pid was reused after a reboot)', async () => {
    const directory = freshDirectory();
    const parent = await liveParent();
    writeFileSync(join(directory, 'lock'), `${parent.pid}\nboot ${otherBootId()}\nstart ${parent.startTime}`);
    const outcome = await outcomeOf(directory);
    expect(outcome).toMatch(/^opened; lock was /);
    expect(JSON.parse(outcome.slice('opened; lock was '.length)) as string).toMatch(await ownLock());
  });

  it('takes over a lock whose live pid started at another time (the pid was reused by a later process)', async () => {
    const directory = freshDirectory();
    const parent = await liveParent();
    writeFileSync(join(directory, 'lock'), `${parent.pid}\nboot ${bootId()}\nstart ${BigInt(parent.startTime) + 1n}`);
    expect(await outcomeOf(directory)).toMatch(new RegExp(`^opened; lock was "${process.pid}\\\\nboot `));
  });

  it('refuses a lock naming a live process by its own pid, boot and start time, as before', async () => {
    const directory = freshDirectory();
    const parent = await liveParent();
    const lock = `${parent.pid}\nboot ${bootId()}\nstart ${parent.startTime}`;
    writeFileSync(join(directory, 'lock'), lock);
    expect(await outcomeOf(directory)).toMatch(new RegExp(`^inUse: .*in use by process ${parent.pid}; one process per data directory`));
    expect(lockOf(directory)).toBe(lock);
  });

  it('reads a lock from before (the pid alone) as before: a live pid refused, a dead one taken over', async () => {
    const directory = freshDirectory();
    writeFileSync(join(directory, 'lock'), `${process.ppid}\n`);
    expect(await outcomeOf(directory)).toMatch(/^inUse: /);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
    writeFileSync(join(directory, 'lock'), String(dead));
    expect(await outcomeOf(directory)).toMatch(/^opened; /);
  });

  it('clears a takeover file left by a taker whose pid now belongs to another process', async () => {
    const directory = freshDirectory();
    const parent = await liveParent();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
    writeFileSync(join(directory, 'lock'), String(dead));
    writeFileSync(join(directory, 'lock.takeover'), `${parent.pid}\nboot ${otherBootId()}\nstart ${parent.startTime}`);
    expect(await outcomeOf(directory)).toMatch(/^opened; /);
    expect(existsSync(join(directory, 'lock.takeover'))).toBe(false);
  });

  it('reads the start time after a command name holding spaces and parentheses, and refuses what is not a lock', () => {
    const fields = Array.from({ length: 50 }, (_, position) => String(position + 3)).join(' ');
    expect(startTimeIn(`4242 (a) b (c) ${fields}`)).toBe('22');
    expect(startTimeIn('no parenthesis here')).toBeNull();
    for (const garbage of ['', 'not a pid', '-5', '12abc', '12\nboot', '12\nstart soon', '12\nboot a b', `12\n${'boot 1\n'.repeat(200)}`]) expect(parseIdentity(garbage), garbage).toBeNull();
    expect(parseIdentity(' 12 \n')).toEqual({ pid: 12 });
  });

  it('skips a line it does not know (a fact a later version adds) instead of taking a live owner lock for garbage', async () => {
    expect(parseIdentity('12\ncolour blue\nboot abc-1\nhost a b c')).toEqual({ pid: 12, bootId: 'abc-1' });
    const parent = { pid: process.ppid, startTime: await startTimeOf(process.ppid) };
    const directory = freshDirectory();
    writeFileSync(join(directory, 'lock'), `${parent.pid}\nboot ${bootId()}\nstart ${parent.startTime}\nversion 9 with words`);
    expect(await outcomeOf(directory)).toMatch(new RegExp(`in use by process ${parent.pid}`));
  });
});
