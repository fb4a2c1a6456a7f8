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
 * A browser from Debian's packages at `path`. Installed with apt (package `debianPackage`) when
 * missing and we are root; otherwise says plainly how to install it and returns null. Call it
 * before entering the loopback-only namespace: apt cannot reach the mirrors from inside.
 */
function findDebianBrowser(label, path, debianPackage) {
  if (existsSync(path)) return path;
  if (isRoot()) {
    console.log(`\n$ apt-get update && apt-get install -y ${debianPackage}`);
    spawnSync('sh', ['-c', `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${debianPackage}`], { stdio: 'inherit' });
    if (existsSync(path)) return path;
  }
  console.error(`${label} is not installed at ${path}. Install it with:`);
  console.error(`  sudo apt-get update && sudo apt-get install -y ${debianPackage}    (Debian/Ubuntu)`);
  console.error('Do not run `npx playwright install`: it cannot download browsers on these machines.');
  return null;
}

/**
 * Debian's Chromium (Playwright cannot download browsers here: launch with `executablePath`), or
 * the one RAFTMESH_CHROMIUM names, which every launcher uses too (browser-flags.mjs): a Chromium
 * elsewhere must be usable by `npm test`, not only by the benchmarks.
 */
export function findChromium() {
  const override = process.env.RAFTMESH_CHROMIUM;
  if (override === undefined || override === '') return findDebianBrowser('Chromium', '/usr/bin/chromium', 'chromium');
  if (existsSync(override)) return override;
  console.error(`RAFTMESH_CHROMIUM names ${override}, which does not exist. Unset it to use Debian's /usr/bin/chromium.`);
  return null;
}

/** Debian's Firefox ESR, for the cross-browser test (puppeteer-core drives it over WebDriver BiDi). */
export function findFirefox() {
  return findDebianBrowser('Firefox ESR', '/usr/bin/firefox-esr', 'firefox-esr');
}
