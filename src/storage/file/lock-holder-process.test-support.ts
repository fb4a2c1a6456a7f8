// Starts lock-holder.test-support.ts in a process of its own (behind `prefix`, e.g. `unshare …` for
// a PID namespace of its own) and hands back the child with its first line, `opened` or
// `refused <reason>`: for the tests whose lock holder must be another process.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const holderScript = join(import.meta.dirname, 'lock-holder.test-support.ts');

export interface LockHolderProcess {
  readonly child: ChildProcess;
  /** The holder's first line; rejects if it exits before saying anything. */
  readonly firstLine: Promise<string>;
}

export function startLockHolder(directory: string, prefix: readonly string[] = []): LockHolderProcess {
  const command = [...prefix, process.execPath, '--import', 'tsx', holderScript, directory];
  const child = spawn(command[0]!, command.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => (errors += String(chunk)));
  const firstLine = new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += String(chunk);
      if (out.includes('\n')) resolve(out.split('\n')[0] ?? '');
    });
    child.once('exit', (code) => reject(new Error(`the holder exited (${code}) before it said anything: ${errors}`)));
  });
  return { child, firstLine };
}
