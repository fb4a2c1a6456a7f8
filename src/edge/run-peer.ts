// What `raftmesh-peer` does once it has a WebRTC implementation: parse the arguments, load the
// application's reducer, start the peer, and leave the room cleanly on SIGINT or SIGTERM. cli.ts
// hands it node-datachannel's polyfill; a test harness may hand it a wrapped one (a network it can
// cut: e2e/room-chaos/edge-peer-process.ts) and still run the real command, flags and all.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ReplicatedStoreOptions } from '../index.ts';
import { parsePeerArguments } from './cli-arguments.ts';
import type { WebRtcImplementation } from './edge-imports.ts';
import { startEdgePeer, type EdgePeer } from './edge-peer.ts';

const log = (line: string): void => console.log(`${new Date().toISOString()} ${line}`);

async function loadApp(path: string | undefined): Promise<ReplicatedStoreOptions<unknown, unknown> | undefined> {
  if (path === undefined) return undefined;
  const module = (await import(pathToFileURL(resolve(path)).href)) as { storeOptions?: ReplicatedStoreOptions<unknown, unknown>; default?: ReplicatedStoreOptions<unknown, unknown> };
  const options = module.storeOptions ?? module.default;
  if (options === undefined || typeof options.apply !== 'function') throw new Error(`${path} must export storeOptions (createReplicatedStore options with apply)`);
  return options;
}

/**
 * Runs the peer until SIGINT or SIGTERM, then exits the process (0 after a clean leave). The
 * handlers are installed before anything is opened: a supervisor may stop the peer at any moment,
 * joining included (a witness waits for its room as long as it takes), and must still get exit 0
 * with its storage closed and the directory lock released. Until 2026-12-02 a signal before the
 * room was joined killed the process by the default action.
 */
export async function runPeer(argv: readonly string[], environment: Readonly<Record<string, string | undefined>>, webrtc: WebRtcImplementation): Promise<void> {
  const args = parsePeerArguments(argv, environment);
  const stopping = new AbortController();
  let peer: EdgePeer<unknown, unknown> | null = null;
  const exitAfter = (closing: Promise<void>): void => {
    closing.then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`error while closing: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  const stop = (signal: string): void => {
    log(`${signal}: leaving the room`);
    stopping.abort(new Error(`stopped by ${signal} before the room was joined`));
    if (peer !== null) exitAfter(peer.close());
  };
  // Once each: a second signal while closing takes the default action (a supervisor's way to force it).
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  try {
    const app = await loadApp(args.app);
    stopping.signal.throwIfAborted();
    peer = await startEdgePeer({
      room: args.room,
      signalingUrl: args.signalingUrl,
      dataDirectory: args.dataDirectory,
      mode: args.mode,
      webrtc,
      httpPort: args.httpPort,
      ...(args.httpPort === null ? {} : { httpHost: args.httpHost }),
      log,
      signal: stopping.signal,
      ...(args.secret === undefined ? {} : { secret: args.secret }),
      ...(app === undefined ? {} : { app }),
      ...(args.bindAddress === undefined ? {} : { bindAddress: args.bindAddress }),
      ...(args.timing === undefined ? {} : { timing: args.timing }),
    });
  } catch (error) {
    // Stopped while starting: startEdgePeer closed what it had opened.
    if (stopping.signal.aborted) {
      log('closed');
      process.exit(0);
    }
    throw error;
  }
  if (stopping.signal.aborted) return exitAfter(peer.close());
  // Refused by the server (a wrong secret, say) after a start from stored data, which does not
  // wait for signaling: the peer could reach no new peer, so it says why and exits 2, as a refusal
  // during the start does (cli-exit.ts).
  const running = peer;
  void running.signalingStopped.then((reason) => {
    if (stopping.signal.aborted) return;
    stopping.abort(new Error('signaling stopped'));
    console.error(`raftmesh-peer: signaling stopped for good: ${reason}`);
    running.close().then(
      () => process.exit(2),
      () => process.exit(2),
    );
  });
}
