// A command-line entry run as a real process (through tsx), judged by what a user sees: its
// output, its exit code, stderr. Waits on output and exit events, never on wall-clock time.
// Used by the raftmesh-signal and raftmesh-peer process tests.
import { spawn } from 'node:child_process';

export interface CliRun {
  readonly pid: number;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** The exit code, or null when a signal ended the process. */
  readonly exited: Promise<number | null>;
  /** Resolves with the first stdout text matching `pattern` (or null if the process exits first). */
  waitFor(pattern: RegExp): Promise<RegExpExecArray | null>;
  signal(name: NodeJS.Signals): void;
}

const children: Array<{ kill(signal: NodeJS.Signals): boolean; exitCode: number | null; signalCode: NodeJS.Signals | null }> = [];

/** Kills every process still running (call it in afterEach: a failed test must not leave one). */
export function killCliProcesses(): void {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

export function runCli(script: string, args: readonly string[], environment: Readonly<Record<string, string | undefined>> = {}): CliRun {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { env: { ...process.env, ...environment } });
  children.push(child);
  let stdout = '';
  let stderr = '';
  let wake: Array<() => void> = [];
  const poke = (): void => {
    const woken = wake;
    wake = [];
    for (const resolve of woken) resolve();
  };
  child.stdout.on('data', (chunk) => ((stdout += String(chunk)), poke()));
  child.stderr.on('data', (chunk) => (stderr += String(chunk)));
  let done = false;
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      done = true;
      poke();
      resolve(code);
    }),
  );
  return {
    pid: child.pid ?? 0,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async waitFor(pattern) {
      for (;;) {
        const match = pattern.exec(stdout);
        if (match !== null || done) return match;
        await new Promise<void>((resolve) => wake.push(resolve));
      }
    },
    signal: (name) => child.kill(name),
  };
}
