// Preferences for the Firefox ESR that specs drive with puppeteer-core (firefox-interop.spec.ts,
// worker-death.spec.ts), on top of puppeteer's own.

/**
 * Firefox looks up firefox.settings.services.mozilla.com (Remote Settings) within a second of
 * starting, whatever puppeteer's `services.settings.server` says. In the loopback-only namespace
 * the tests run in, the nameserver of /etc/resolv.conf is out of reach: the lookup waits out
 * 5 s attempts, and a closing Firefox waits for the attempt in flight, so every `browser.close()`
 * took 5 s and ended in puppeteer's SIGKILL (strace, 2026-12-07: two resolver threads polling
 * 10.255.255.53:53 until the exit). Answered locally, the lookup fails at once and Firefox exits
 * by itself in about a second. Nothing under test needs that service.
 */
export const firefoxOffline: Readonly<Record<string, string>> = {
  'network.dns.localDomains': 'firefox.settings.services.mozilla.com',
};
