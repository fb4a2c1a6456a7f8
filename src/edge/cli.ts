#!/usr/bin/env node
// `npx raftmesh-peer --room R --signal ws://... --data ./dir [--witness]`: an always-on member.
// Logs one line per role, leader and membership change; /healthz and /metrics with --http-port;
// exits cleanly (leaves the room, closes its storage) on SIGINT or SIGTERM (run-peer.ts).
import { exitWithStartFailure, runPeer } from './run-peer.ts';

async function main(): Promise<void> {
  const webrtc = await import('node-datachannel/polyfill');
  await runPeer(process.argv.slice(2), process.env, webrtc);
}

main().catch(exitWithStartFailure);
