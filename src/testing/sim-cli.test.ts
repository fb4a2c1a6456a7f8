// `npm run sim` (sim-cli.ts) run as a process: a mistyped flag is refused with exit code 2 and
// the usage, instead of being ignored (a run of the defaults then passed for the run asked for),
// and a correct command still runs and prints its summary.
import { afterEach, describe, expect, it } from 'vitest';
import { killCliProcesses, runCli } from './cli-process.test-support.ts';

afterEach(() => killCliProcesses());

describe('npm run sim arguments', () => {
  it.each([
    [['--seed', '3', '--node', '5'], "Unknown option '--node'"],
    [['--nodes', '0'], '--nodes must be an integer >= 1, got "0"'],
    [['--seeds', '0'], '--seeds must be an integer >= 1, got "0"'],
    [['--first', '1e3'], '--first must be an integer >= 0, got "1e3"'],
    [['--workload', 'kvv'], '--workload is faults or kv, got "kvv"'],
    [['--seed', '3', '--seeds', '4'], '--seed runs one seed: give it, or --seeds and --first, not both'],
    [['--workload', 'kv', '--removals'], '--removals applies to the faults workload, not --workload kv'],
    [['--workload', 'kv', '--witnesses', '1'], '--witnesses applies to the faults workload, not --workload kv'],
    [['--nodes', '3', '--witnesses', '2'], '--witnesses must be fewer than a quorum of --nodes (at most 1 of 3), got 2'],
    [['5'], "Unexpected argument '5'"],
  ])('refuses %j', async (args, message) => {
    const run = runCli('src/testing/sim-cli.ts', args);
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toContain(`npm run sim: ${message}`);
    expect(run.stderr()).toContain('usage: npm run sim --');
    expect(run.stdout()).toBe('');
  });

  it('runs what it is asked', async () => {
    const run = runCli('src/testing/sim-cli.ts', ['--seeds', '2', '--first', '7', '--nodes', '5', '--workload', 'kv']);
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toMatch(/^2 of 2 seeds passed \(kv workload, 5 nodes, /m);
  });

  it('runs witnesses among the nodes when asked', async () => {
    const run = runCli('src/testing/sim-cli.ts', ['--seed', '7', '--nodes', '5', '--witnesses', '2']);
    expect(await run.exited).toBe(0);
    const result = JSON.parse(run.stdout().split('\n')[0] ?? '') as { witnesses: string[] };
    expect(result.witnesses).toHaveLength(2);
    expect(run.stdout()).toMatch(/^1 of 1 seeds passed \(faults workload, 5 nodes \(2 witnesses\), /m);
  });
});
