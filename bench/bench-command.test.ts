// `npm run bench` with a section it does not have: the usage and exit code 2, where it used to
// print its header and nothing else (no benchmark runs here; the refusal comes first).
import { afterEach, expect, it } from 'vitest';
import { killCliProcesses, runCli } from '../src/testing/cli-process.test-support.ts';

afterEach(() => killCliProcesses());

it.each([[['nonsense']], [['core', 'dedup']]])('npm run bench refuses %j', async (args) => {
  const run = runCli('bench/index.ts', args);
  expect(await run.exited).toBe(2);
  expect(run.stderr()).toContain('usage: npm run bench [-- core|dedup|forwards|codec|snapshot|reads|machine|bundle]');
  expect(run.stdout()).toBe('');
});
