// This peer's dispatched commands that are not applied yet: the optimistic view of the state
// (confirmed state with them applied over it, in dispatch order) and the bookkeeping that
// drops each one the moment its entry is applied or its dispatch fails.
import { createWatchable, type Watchable } from '../core/observable.ts';

interface PendingCommand<Command> {
  readonly requestId: number;
  readonly command: Command;
}

export interface PendingCommands<State, Command> {
  readonly optimistic: Watchable<State>;
  readonly size: number;
  has(requestId: number): boolean;
  add(requestId: number, command: Command): void;
  /** Drops a command (applied or failed); true if it was pending. */
  drop(requestId: number): boolean;
  /** A command's dispatch goes on under another request id; it keeps its place in dispatch order. */
  renumber(requestId: number, newRequestId: number): void;
  /**
   * The confirmed state changed, maybe by applying some of ours (`appliedRequestIds`: one folded
   * entry, or those an installed snapshot covers): drop them and fold the rest over the new state
   * in one step, so no listener sees one applied twice or not at all.
   */
  confirmedChanged(confirmed: State, appliedRequestIds?: readonly number[]): void;
  /** The request ids pending, in dispatch order. */
  requestIds(): number[];
}

export function createPendingCommands<State, Command>(initial: State, apply: (state: State, command: Command) => State): PendingCommands<State, Command> {
  const pending: PendingCommand<Command>[] = [];
  let confirmed = initial;
  const optimistic = createWatchable(initial);

  const refold = (): void => {
    let state = confirmed;
    for (const item of pending) {
      try {
        state = apply(state, item.command);
      } catch {
        // The confirmed apply will reject this command too; the optimistic view skips it.
      }
    }
    optimistic.set(state);
  };

  return {
    optimistic,
    get size() {
      return pending.length;
    },
    has: (requestId) => pending.some((item) => item.requestId === requestId),
    add(requestId, command) {
      pending.push({ requestId, command });
      refold();
    },
    drop(requestId) {
      const position = pending.findIndex((item) => item.requestId === requestId);
      if (position < 0) return false;
      pending.splice(position, 1);
      refold();
      return true;
    },
    renumber(requestId, newRequestId) {
      const position = pending.findIndex((item) => item.requestId === requestId);
      const item = pending[position];
      if (item !== undefined) pending[position] = { requestId: newRequestId, command: item.command };
    },
    confirmedChanged(state, appliedRequestIds = []) {
      confirmed = state;
      for (const requestId of appliedRequestIds) {
        const position = pending.findIndex((item) => item.requestId === requestId);
        if (position >= 0) pending.splice(position, 1);
      }
      refold();
    },
    requestIds: () => pending.map((item) => item.requestId),
  };
}
