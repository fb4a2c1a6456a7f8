// What `raftmesh-peer` does once it has a WebRTC implementation: parse the arguments, load the
// application's reducer, start the peer, and leave the room cleanly on SIGINT or SIGTERM. cli.ts
// hands it node-datachannel's polyfill; a test harness may hand it a wrapped one (a network it can
// cut: e2e/room-chaos/edge-peer-process.ts) and still run the real command, flags and all.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ReplicatedStoreOptions } from '../index.ts';
import { parsePeerArguments } from './cli-arguments.ts';
import type { WebRtcImplementation } from './edge-imports.ts';
import { startEdgePeer } from './edge-peer.ts';

const log = (line: string): void => console.log(`${new Date().toISOString()} ${line}`);

async function loadApp(path: string | undefined): Promise<ReplicatedStoreOptions<unknown, unknown> | undefined> {
  if (path === undefined) return undefined;
  const module = (await import(pathToFileURL(resolve(path)).href)) as { storeOptions?: ReplicatedStoreOptions<unknown, unknown>; default?: ReplicatedStoreOptions<unknown, unknown> };
  const options = module.storeOptions ?? module.default;
  if (options === undefined || typeof options.apply !== 'function') throw new Error(`${path} must export storeOptions (createReplicatedStore options with apply)`);
  return options;
}

/** Runs the peer until SIGINT or SIGTERM, then exits the process (0 after a clean leave). */
export async function runPeer(argv: readonly string[], environment: Readonly<Record<string, string | undefined>>, webrtc: WebRtcImplementation): Promise<void> {
  const args = parsePeerArguments(argv, environment);
  const app = await loadApp(args.app);
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
    ...(args.timing === undefined ? {} : { timing: args.timing }),
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

/** The exit for a peer that could not start: the reason on stderr, exit code 2. */
export function exitWithStartFailure(error: unknown): never {
  console.error(`raftmesh-peer: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
}
