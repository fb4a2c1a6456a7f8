// How Chromium is launched everywhere (Vitest browser mode, Playwright end-to-end tests,
// benchmarks): Debian's binary, and the flags ENVIRONMENT.md found necessary here. Without the
// background-networking flags Chromium tries to reach Google's hosts; without
// --allow-loopback-in-peer-connection WebRTC finds no candidate on a loopback-only host.
export const chromiumPath = process.env.RAFTMESH_CHROMIUM || '/usr/bin/chromium';

export const chromiumArguments = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--allow-loopback-in-peer-connection',
];
