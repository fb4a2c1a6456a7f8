// A stand-in RaftNode for tests of proposeWithRetries: its propose() fails with the given errors
// in turn, then appends at a fixed entry, and it records the request id of every attempt.
import type { LogEntry } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';

/** The entry a flaky proposer's successful attempt resolves with. */
export const appendedEntry: LogEntry = { index: 4, term: 2, command: new Uint8Array(), isNoOp: false };

/** The store's stop signal, for a store that stays open. */
export const storeRunning = new AbortController().signal;

export function flakyProposer(failures: Error[]): { node: RaftNode; requestIds: (number | undefined)[] } {
  const requestIds: (number | undefined)[] = [];
  const node = {
    propose: async (_bytes: Uint8Array, options?: { requestId?: number }) => {
      requestIds.push(options?.requestId);
      const failure = failures.shift();
      if (failure !== undefined) throw failure;
      return appendedEntry;
    },
  } as unknown as RaftNode;
  return { node, requestIds };
}
