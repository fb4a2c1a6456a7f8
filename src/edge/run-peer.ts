// What `raftmesh-peer` does once it has a WebRTC implementation: parse the arguments, load the
// application's reducer, start the peer, and leave the room cleanly on SIGINT or SIGTERM. cli.ts
// hands it node-datachannel's polyfill; a test harness may hand it a wrapped one (a network it can
// cut: e2e/room-chaos/edge-peer-process.ts) and still run the real command, flags and all.
import { loadApp } from './app-module.ts';
import { parsePeerArguments } from './cli-arguments.ts';
import { peerExitStatus } from './cli-exit.ts';
import type { WebRtcImplementation } from './edge-imports.ts';
import { startEdgePeer, type EdgePeer } from './edge-peer.ts';

const log = (line: string): void => console.log(`${new Date().toISOString()} ${line}`);

/**
 * Runs the peer until SIGINT or SIGTERM, then exits the process (0 after a clean leave), or until
 * it can do nothing useful any more (refused by signaling: 2; its node stopped for good: 3). The
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
      () => process.exit(peerExitStatus.closed),
      (error: unknown) => {
        console.error(`error while closing: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(peerExitStatus.closeFailed);
      },
    );
  };
  const stop = (signal: string): void => {
    // Already closing for good (signaling refused it, its node stopped): that close ends the
    // process with its own status; a second close would race it to exit 0.
    if (peer !== null && stopping.signal.aborted) return;
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
      process.exit(peerExitStatus.closed);
    }
    throw error;
  }
  if (stopping.signal.aborted) return exitAfter(peer.close());
  const running = peer;
  /** Ends the process for a reason other than a signal: says why (one line), closes, exits `status` whatever the close does. */
  const endForGood = (why: string, status: number): void => {
    if (stopping.signal.aborted) return; // a signal's close, or the other reason's, came first
    stopping.abort(new Error(why));
    console.error(`raftmesh-peer: ${why}`);
    running.close().then(
      () => process.exit(status),
      (error: unknown) => {
        console.error(`error while closing: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(status);
      },
    );
  };
  // Refused by the server (a wrong secret, say) after a start from stored data, which does not
  // wait for signaling: the peer could reach no new peer, so it says why and exits 2, as a refusal
  // during the start does (cli-exit.ts).
  void running.signalingStopped.then((reason) => endForGood(`signaling stopped for good: ${reason}`, peerExitStatus.refused));
  // Its node stopped for good while the process runs (its storage failed: a full disk, an I/O
  // error, its lock lost to another process): nothing starts it again, and a process that lives
  // on answers 503 for good while a supervisor restarts only one that exits.
  void running.nodeStopped.then((error) => endForGood(`its node stopped for good: ${error.name}: ${error.message}`, peerExitStatus.nodeStopped));
}
