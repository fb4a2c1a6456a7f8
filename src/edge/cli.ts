#!/usr/bin/env node
// `npx raftmesh-peer --room R --signal ws://... --data ./dir [--witness]`: an always-on member.
// Logs one line per role, leader and membership change; /healthz and /metrics with --http-port;
// exits cleanly (leaves the room, closes its storage) on SIGINT or SIGTERM.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ReplicatedStoreOptions } from '../index.ts';
import { parsePeerArguments } from './cli-arguments.ts';
import { startEdgePeer } from './edge-peer.ts';

const log = (line: string): void => console.log(`${new Date().toISOString()} ${line}`);

async function loadApp(path: string | undefined): Promise<ReplicatedStoreOptions<unknown, unknown> | undefined> {
  if (path === undefined) return undefined;
  const module = (await import(pathToFileURL(resolve(path)).href)) as { storeOptions?: ReplicatedStoreOptions<unknown, unknown>; default?: ReplicatedStoreOptions<unknown, unknown> };
  const options = module.storeOptions ?? module.default;
  if (options === undefined || typeof options.apply !== 'function') throw new Error(`${path} must export storeOptions (createReplicatedStore options with apply)`);
  return options;
}

async function main(): Promise<void> {
  const args = parsePeerArguments(process.argv.slice(2), process.env);
  const app = await loadApp(args.app);
  const webrtc = await import('node-datachannel/polyfill');
  const peer = await startEdgePeer({
    room: args.room,
    signalingUrl: args.signalingUrl,
    dataDirectory: args.dataDirectory,
    mode: args.mode,
    webrtc,
    httpPort: args.httpPort,
    httpHost: args.httpHost,
    log,
    ...(args.secret === undefined ? {} : { secret: args.secret }),
    ...(app === undefined ? {} : { app }),
    ...(args.bindAddress === undefined ? {} : { bindAddress: args.bindAddress }),
  });
  const stop = (signal: string): void => {
    log(`${signal}: leaving the room`);
    peer.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`error while closing: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(`raftmesh-peer: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
});
