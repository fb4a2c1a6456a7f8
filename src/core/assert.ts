// Invariant checks stay on in production: a broken invariant in a consensus engine is a bug
// that must stop the node loudly rather than corrupt a replicated log.
export class InvariantError extends Error {
  constructor(message: string) {
    super(`raftmesh invariant broken: ${message}`);
    this.name = 'InvariantError';
  }
}

export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}

export function assertNever(value: never, context: string): never {
  throw new InvariantError(`unexpected ${context}: ${JSON.stringify(value)}`);
}

/** The default branch of a switch over every case of a union: the compiler proves it unreachable. */
export function assertUnreachable(value: never): never {
  throw new Error(`unreachable: ${JSON.stringify(value)}`);
}
