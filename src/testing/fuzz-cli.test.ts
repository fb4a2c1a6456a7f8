// `npm run fuzz` (fuzz-cli.ts) run as a process: a mistyped flag is refused with exit code 2 and
// the usage (it was ignored, and a run of the default million frames passed for the run asked
// for), and a correct command runs what it is asked.
import { afterEach, describe, expect, it } from 'vitest';
import { killCliProcesses, runCli } from './cli-process.test-support.ts';

afterEach(() => killCliProcesses());

describe('npm run fuzz arguments', () => {
  it.each([
    [['--frame', '10'], "Unknown option '--frame'"],
    [['--frames', 'x'], '--frames must be a non-negative integer, got "x"'],
    [['--seed', '1.5'], '--seed must be a non-negative integer, got "1.5"'],
    [['10'], "Unexpected argument '10'"],
  ])('refuses %j', async (args, message) => {
    const run = runCli('src/testing/fuzz-cli.ts', args);
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toContain(`npm run fuzz: ${message}`);
    expect(run.stderr()).toContain('usage: npm run fuzz --');
    expect(run.stdout()).toBe('');
  });

  it('runs what it is asked', async () => {
    const run = runCli('src/testing/fuzz-cli.ts', ['--frames', '200', '--seed', '3']);
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toMatch(/^200 hostile frames \(\d+ decodable lies from strangers\) into a 3-node cluster: /m);
  });
});
