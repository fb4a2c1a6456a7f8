#!/usr/bin/env node
// `npx raftmesh-peer --room R --signal ws://... --data ./dir [--witness]`: an always-on member.
// Logs one line per role, leader and membership change; /healthz and /metrics with --http-port;
// exits cleanly (leaves the room, closes its storage) on SIGINT or SIGTERM, and with a status of its
// own when it can do nothing useful any more (run-peer.ts; the statuses: cli-exit.ts).
import { asksForHelp, parsePeerArguments, usage } from './cli-arguments.ts';
import { exitWithStartFailure } from './cli-exit.ts';

async function main(): Promise<void> {
  if (asksForHelp(process.argv.slice(2))) {
    console.log(usage);
    return;
  }
  // Bad arguments are refused before the library and node-datachannel load (a second or so).
  parsePeerArguments(process.argv.slice(2), process.env);
  const [{ runPeer }, webrtc] = await Promise.all([import('./run-peer.ts'), import('node-datachannel/polyfill')]);
  await runPeer(process.argv.slice(2), process.env, webrtc);
}

main().catch(exitWithStartFailure);
