// `npm test`: every suite, in order, then ONE closing line `N passed, N failed` totalled over
// all of them (CI reads that line). Checks (typecheck, lint, cycles) count as one test each;
// Vitest suites contribute their own test counts.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const binary = (name) => join('node_modules', '.bin', name);
const totals = { passed: 0, failed: 0 };

function run(command, args, options = {}) {
  console.log(`\n$ ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  return result.status === 0;
}

function check(name, command, args) {
  const ok = run(command, args);
  totals[ok ? 'passed' : 'failed'] += 1;
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}`);
}

/** Runs Vitest with a JSON report and adds its per-test counts; a crash counts as a failure. */
function vitest(name, args) {
  const folder = mkdtempSync(join(tmpdir(), 'raftmesh-vitest-'));
  const report = join(folder, 'report.json');
  const ok = run(binary('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...args]);
  if (existsSync(report)) {
    const summary = JSON.parse(readFileSync(report, 'utf8'));
    totals.passed += summary.numPassedTests;
    totals.failed += summary.numFailedTests;
    // A suite that failed to load has no failed tests but must still fail the run.
    if (!ok && summary.numFailedTests === 0) totals.failed += 1;
    console.log(`${ok ? 'PASS' : 'FAIL'} ${name}: ${summary.numPassedTests} passed, ${summary.numFailedTests} failed`);
  } else {
    totals.failed += 1;
    console.log(`FAIL ${name}: no report (Vitest crashed)`);
  }
  rmSync(folder, { recursive: true, force: true });
}

/**
 * Browser, WebRTC and Node-peer suites run in a loopback-only network namespace when we are
 * root on Linux (ENVIRONMENT.md): nothing they start can reach anything but 127.0.0.1.
 */
export function loopbackOnly(command) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasUnshare = spawnSync('sh', ['-c', 'command -v unshare'], { stdio: 'ignore' }).status === 0;
  if (!isRoot || !hasUnshare || process.platform !== 'linux') return ['sh', ['-c', command]];
  return ['unshare', ['-n', 'sh', '-c', `ip link set lo up && ip route add default dev lo src 127.0.0.1 && ${command}`]];
}

/** Debian's Chromium; installed when we are root and it is missing; otherwise says how to get it. */
export function findChromium() {
  const path = '/usr/bin/chromium';
  if (existsSync(path)) return path;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot) {
    run('sh', ['-c', 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium']);
    if (existsSync(path)) return path;
  }
  console.error('Chromium not found at /usr/bin/chromium. Install it with: sudo apt-get install -y chromium (Debian/Ubuntu).');
  return null;
}

check('typecheck (all code)', binary('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
check('typecheck (core has no DOM or Node types)', binary('tsc'), ['-p', 'src/core/tsconfig.json', '--noEmit']);
check('lint', binary('eslint'), ['.']);
check('no circular imports', 'node', ['scripts/check-cycles.mjs']);
vitest('unit, scenario and simulation tests', []);
// Browser suites (IndexedDB in Chromium, worker, WebRTC, end-to-end) join here, each wrapped
// with loopbackOnly() after findChromium().

console.log(`\n${totals.passed} passed, ${totals.failed} failed`);
process.exit(totals.failed === 0 ? 0 : 1);
