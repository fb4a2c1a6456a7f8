// How `raftmesh-peer` ends when it cannot start, in a module of its own so that cli.ts can refuse
// bad arguments before the library loads; harnesses that run the peer in a process of their own use it too.

/**
 * raftmesh-peer's exit statuses, one per way it ends, so that a supervisor (systemd, a container
 * runtime) can tell them apart: 0 after a clean leave on SIGINT or SIGTERM; 1 when closing failed;
 * 2 when refused (bad arguments, a data directory it cannot use, the signaling server's refusal);
 * 3 when its node stopped for good while it ran (its storage failed: a full disk, an I/O error,
 * its lock lost to another process), after closing what was left: a process that lived on would
 * do nothing useful, and a supervisor restarts only a process that exits.
 */
export const peerExitStatus = { closed: 0, closeFailed: 1, refused: 2, nodeStopped: 3 } as const;

/** The exit for a peer that could not start: the reason on stderr (one line, no stack), exit code 2. */
export function exitWithStartFailure(error: unknown): never {
  console.error(`raftmesh-peer: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(peerExitStatus.refused);
}
