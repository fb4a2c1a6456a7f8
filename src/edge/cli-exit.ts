// How `raftmesh-peer` ends when it cannot start, in a module of its own so that cli.ts can refuse
// bad arguments before the library loads; harnesses that run the peer in a process of their own use it too.

/** The exit for a peer that could not start: the reason on stderr (one line, no stack), exit code 2. */
export function exitWithStartFailure(error: unknown): never {
  console.error(`raftmesh-peer: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
}
