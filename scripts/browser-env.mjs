// Helpers for the browser, WebRTC and Node-peer suites (ENVIRONMENT.md). A module with no side
// effects, so scripts/test.mjs and a future playwright.config.ts / vitest browser config can
// import it alike.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;
const succeeds = (command) => spawnSync('sh', ['-c', command], { stdio: 'ignore' }).status === 0;

/**
 * Wraps a shell command so that, as root on Linux, it runs in a fresh network namespace that has
 * nothing but loopback (plus a default route via lo, which Firefox needs): nothing it starts can
 * reach anything but 127.0.0.1. Elsewhere (not root, not Linux, no unshare) it runs unwrapped.
 * Returns [command, args] for spawnSync. Throws when we are root on Linux but cannot isolate,
 * rather than silently running browser tests on the real network.
 */
export function loopbackOnly(command) {
  if (process.platform !== 'linux' || !isRoot() || !succeeds('command -v unshare')) {
    return ['sh', ['-c', command]];
  }
  if (!succeeds('unshare -n true')) {
    throw new Error('running as root but `unshare -n` is not permitted here (no CAP_SYS_ADMIN?): cannot run browser tests loopback-only');
  }
  return ['unshare', ['-n', 'sh', '-c', `ip link set lo up && ip route add default dev lo src 127.0.0.1 && ${command}`]];
}

/**
 * Debian's Chromium at /usr/bin/chromium (Playwright cannot download browsers here: launch with
 * `executablePath`). Installed with apt when missing and we are root; otherwise says plainly how
 * to install it and returns null.
 */
export function findChromium() {
  const path = '/usr/bin/chromium';
  if (existsSync(path)) return path;
  if (isRoot()) {
    console.log('\n$ apt-get update && apt-get install -y chromium');
    spawnSync('sh', ['-c', 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium'], { stdio: 'inherit' });
    if (existsSync(path)) return path;
  }
  console.error('Chromium is not installed at /usr/bin/chromium. Install it with:');
  console.error('  sudo apt-get update && sudo apt-get install -y chromium    (Debian/Ubuntu)');
  console.error('Do not run `npx playwright install`: it cannot download browsers on these machines.');
  return null;
}

/**
 * Debian's Firefox ESR at /usr/bin/firefox-esr, for the cross-browser test (puppeteer-core drives
 * it over WebDriver BiDi; Playwright's own Firefox build cannot be downloaded here). Installed with
 * apt when missing and we are root; otherwise says plainly how to install it and returns null.
 * Call it before entering the loopback-only namespace: apt cannot reach the mirrors from inside.
 */
export function findFirefox() {
  const path = '/usr/bin/firefox-esr';
  if (existsSync(path)) return path;
  if (isRoot()) {
    console.log('\n$ apt-get update && apt-get install -y firefox-esr');
    spawnSync('sh', ['-c', 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y firefox-esr'], { stdio: 'inherit' });
    if (existsSync(path)) return path;
  }
  console.error('Firefox ESR is not installed at /usr/bin/firefox-esr. Install it with:');
  console.error('  sudo apt-get update && sudo apt-get install -y firefox-esr    (Debian/Ubuntu)');
  console.error('Do not run `npx playwright install`: it cannot download browsers on these machines.');
  return null;
}
