// `npm test`: every suite, in order, then ONE closing line `N passed, N failed` totalled over
// all of them (CI reads that line). A check (typecheck, lint, cycles) counts as one test; a
// Vitest suite contributes its own per-test counts. Exits non-zero if anything failed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { findChromium, findFirefox, loopbackOnly } from './browser-env.mjs';

const binary = (name) => join('node_modules', '.bin', name);

/** Runs a command with inherited output; true when it exits 0. */
function run(command, args) {
  console.log(`\n$ ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.error) console.error(`could not start ${command}: ${result.error.message}`);
  return result.status === 0;
}

/** A suite that is one test: passes when the command exits 0. */
const check = (name, command, args) => ({
  name,
  run: () => (run(command, args) ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 }),
});

/** Runs a command with its output (stdout and stderr, interleaved) kept; resolves when it exits. */
function runCaptured(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks = [];
    child.stdout.on('data', (chunk) => chunks.push(chunk));
    child.stderr.on('data', (chunk) => chunks.push(chunk));
    child.on('error', (error) => resolve({ ok: false, output: `could not start ${command}: ${error.message}\n` }));
    child.on('close', (status) => resolve({ ok: status === 0, output: Buffer.concat(chunks).toString() }));
  });
}

/**
 * Checks (each one test) run side by side, as many at once as there are cores: they read files
 * and use no clock, so sharing the cores cannot change a verdict, and one after another they
 * took 38 s of CI's 20-minute budget (2026-12-06). Each one's output is printed whole, in the
 * order given, once all have finished; they are started longest first (the order given).
 */
const checksSideBySide = (checks) => ({
  checks,
  run: async () => {
    const results = new Array(checks.length);
    let next = 0;
    const lane = async () => {
      while (next < checks.length) {
        const index = next++;
        const { command, args } = checks[index];
        results[index] = await runCaptured(command, args);
      }
    };
    await Promise.all(Array.from({ length: Math.min(availableParallelism(), checks.length) }, lane));
    return checks.map(({ name, command, args }, index) => {
      console.log(`\n$ ${[command, ...args].join(' ')}`);
      process.stdout.write(results[index].output);
      return { name, counts: results[index].ok ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 } };
    });
  },
});

/**
 * Vitest with the default reporter on the console and a JSON report in a temporary file, from
 * which the per-test counts are read. A crash, or a file that failed to load (no failed test but
 * a non-zero exit), counts as one more failure. `wrap` lets a browser suite run under
 * loopbackOnly().
 */
const vitest = (name, args = [], wrap = null) => ({
  name,
  run: () => {
    const folder = mkdtempSync(join(tmpdir(), 'raftmesh-vitest-'));
    const report = join(folder, 'report.json');
    const vitestArgs = ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...args];
    const ok = wrap ? run(...wrap([binary('vitest'), ...vitestArgs].join(' '))) : run(binary('vitest'), vitestArgs);
    try {
      if (!existsSync(report)) {
        console.log('no JSON report: Vitest crashed before writing one');
        return { passed: 0, failed: 1 };
      }
      const summary = JSON.parse(readFileSync(report, 'utf8'));
      // A file that failed to load or crashed in a hook has no failed test: one failure each.
      const brokenFiles = summary.testResults.filter(
        (file) => file.status === 'failed' && !file.assertionResults.some((test) => test.status === 'failed'),
      );
      for (const file of brokenFiles) console.log(`broken test file (counted as one failure): ${file.name}`);
      const counts = { passed: summary.numPassedTests, failed: summary.numFailedTests + brokenFiles.length };
      if (!ok && counts.failed === 0) counts.failed = 1;
      return counts;
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  },
});

/**
 * Playwright with the list reporter on the console and a JSON report in a temporary file; counts
 * come from its stats (a flaky pass is reported as a failure: a flaky test is a bug; so is a
 * skipped test, which no spec asks for: the specs that run alone, after the rest, are skipped
 * when one of the rest failed, and that must not shrink the count).
 */
const playwright = (name) => ({
  name,
  run: () => {
    const folder = mkdtempSync(join(tmpdir(), 'raftmesh-playwright-'));
    const report = join(folder, 'report.json');
    const command = `PLAYWRIGHT_JSON_OUTPUT_NAME=${report} ${binary('playwright')} test --reporter=list,json`;
    const ok = run(...loopbackOnly(command));
    try {
      if (!existsSync(report)) {
        console.log('no JSON report: Playwright crashed before writing one');
        return { passed: 0, failed: 1 };
      }
      const { stats, errors } = JSON.parse(readFileSync(report, 'utf8'));
      const counts = { passed: stats.expected, failed: stats.unexpected + stats.flaky + stats.skipped + (errors?.length ?? 0) };
      if (!ok && counts.failed === 0) counts.failed = 1;
      return counts;
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  },
});

/**
 * A browser suite first needs its browsers (Chromium; Firefox ESR for the Playwright suite's
 * cross-browser spec), found or installed here, outside the namespace where apt has no network.
 * Each missing one is named; the suite then counts as one failure.
 */
const browserSuite = (suite, finders = [findChromium]) => ({
  name: suite.name,
  run: () => (finders.map((find) => find()).includes(null) ? { passed: 0, failed: 1 } : suite.run()),
});

const suites = [
  checksSideBySide([
    { name: 'typecheck (all code)', command: binary('tsc'), args: ['-p', 'tsconfig.json', '--noEmit'] },
    { name: 'lint (style and import direction)', command: binary('eslint'), args: ['.'] },
    // The published build (tsconfig.build.json: no test support, no Node-only types) must compile.
    { name: 'library build typechecks', command: binary('tsc'), args: ['-p', 'tsconfig.build.json', '--noEmit'] },
    // The core tsconfig has no DOM lib and no Node types: this proves core is pure.
    { name: 'typecheck (core has no DOM or Node types)', command: binary('tsc'), args: ['-p', 'src/core/tsconfig.json', '--noEmit'] },
    { name: 'no circular imports', command: 'node', args: ['scripts/check-cycles.mjs'] },
  ]),
  // Every core: Vitest's default for a run leaves one free, which on a 2-core machine ran these
  // files one after another (378 s against 264 s with both cores, 2026-12-04), most of CI's
  // 20-minute budget. The suite's timing-sensitive tests run on virtual clocks.
  // Both Node projects in one run (node shares workers between files, node-isolated does not:
  // vite.config.ts), so the files of both keep every core busy.
  vitest('unit, scenario and simulation tests (Node)', ['--project', 'node', '--project', 'node-isolated', `--maxWorkers=${availableParallelism()}`]),
  // Browser suites: Debian's Chromium, inside a loopback-only network namespace (ENVIRONMENT.md).
  vitest('network tests (Node WebRTC peers, loopback-only namespace)', ['--project', 'network'], loopbackOnly),
  browserSuite(vitest('in-browser tests (Vitest, headless Chromium)', ['--project', 'browser'], loopbackOnly)),
  browserSuite(playwright('end-to-end and multi-browser tests (Playwright, headless Chromium and Firefox ESR)'), [findChromium, findFirefox]),
  // Not a timed test: the end-to-end browser benchmark at a tiny size, so it cannot rot.
  browserSuite(check('browser benchmark runs (tiny)', 'node', ['scripts/run-loopback.mjs', 'node', '--import', 'tsx', 'bench/browser.ts', '--tiny'])),
];

const totals = { passed: 0, failed: 0 };
const lines = [];
// Each line says how long its suite took (side-by-side checks: the group's time), so a run that
// nears CI's 20-minute bound shows where the time went.
const record = (name, counts, seconds) => {
  totals.passed += counts.passed;
  totals.failed += counts.failed;
  const line = `${counts.failed === 0 ? 'PASS' : 'FAIL'} ${name}: ${counts.passed} passed, ${counts.failed} failed (${seconds} s)`;
  lines.push(line);
  console.log(line);
};
for (const suite of suites) {
  // A group of side-by-side checks reports one line per check; any other suite one line.
  const names = suite.checks === undefined ? [suite.name] : suite.checks.map((each) => each.name);
  let outcome;
  const started = performance.now();
  try {
    outcome = await suite.run();
  } catch (error) {
    console.error(`${names.join(', ')}: ${error instanceof Error ? error.message : String(error)}`);
    outcome = names.map((name) => ({ name, counts: { passed: 0, failed: 1 } }));
  }
  const seconds = Math.round((performance.now() - started) / 1000);
  for (const { name, counts } of suite.checks === undefined ? [{ name: suite.name, counts: outcome }] : outcome) record(name, counts, seconds);
}

console.log(`\nSummary:\n${lines.map((line) => `  ${line}`).join('\n')}`);
console.log(`\n${totals.passed} passed, ${totals.failed} failed`);
process.exit(totals.failed === 0 ? 0 : 1);
