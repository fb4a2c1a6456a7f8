// An example replicated key-value state machine, used by applications as a template and by
// our simulator and demo. It folds the committed stream (API.md `Committed`) into a map and
// shows the three duties every raftmesh state machine has:
//   - exactly-once: consult its own ClientSessionTable before applying an entry, and keep the
//     last result per client so a retried proposal (a duplicate) learns the original's result
//     (Raft dissertation §6.3);
//   - snapshots: the map, the session table and the last results travel together;
//   - determinism: the same committed stream gives the same state and byte-identical snapshots
//     on every replica (which is also what lets the simulator compare replicas).

import { createWatchable } from '../core/observable.ts';
import type { Watchable } from '../core/observable.ts';
import { encodeUtf8 } from '../core/client-session-bytes.ts';
import { ClientSessionTable } from '../core/client-session-table.ts';
import type { ClientId, Committed, DedupKey, LogEntry, Snapshot } from '../core/types.ts';
import { decodeKvCommand, maxValueBytes } from './kv-command.ts';
import type { KvCommand, KvResult } from './kv-command.ts';
import { decodeKvState, encodeKvState, maxKeys, maxReasonBytes } from './kv-snapshot.ts';
import type { KvLastResult } from './kv-snapshot.ts';

export * from './kv-command.ts';
export { decodeKvState, encodeKvState, kvSnapshotFormatVersion, maxKeys } from './kv-snapshot.ts';
export type { KvLastResult, KvState } from './kv-snapshot.ts';

export interface KeyValueStateMachine {
  /**
   * Folds one committed item. Returns the command's result for an entry (the original result
   * for a duplicate whose original is the client's latest request, undefined for an older
   * duplicate), undefined for internal and install.
   */
  apply(committed: Committed): KvResult | undefined;
  /** Index of the last log entry folded in (0 before any). */
  readonly appliedIndex: number;
  /** The same, observable: pass it to `awaitRead(node, stateMachine.applied)`. */
  readonly applied: Watchable<number>;
  get(key: string): string | undefined;
  /** Number of keys held. */
  readonly size: number;
  /** The result of a client's request if it is the latest one the machine applied for it. */
  resultFor(key: DedupKey): KvResult | undefined;
  snapshot(): Snapshot;
}

export interface KeyValueStateMachineOptions {
  /**
   * Called for every keyed entry whose command the machine executes (not for a duplicate the
   * session table skipped): a checker counting executions per dedup key sees exactly-once
   * broken even where the state would not show it (a put replayed writes the same value).
   */
  readonly onExecuted?: (key: DedupKey, index: number) => void;
}

export function createKeyValueStateMachine(options: KeyValueStateMachineOptions = {}): KeyValueStateMachine {
  let values = new Map<string, string>();
  let sessions = new ClientSessionTable();
  let lastResults = new Map<string, KvLastResult>();
  const applied = createWatchable(0);

  function applyEntry(entry: LogEntry): KvResult | undefined {
    const key = entry.dedupKey;
    if (!sessions.shouldApply(key)) return key === undefined ? undefined : lookupResult(key);
    const result = execute(values, entry.command);
    if (key !== undefined) {
      lastResults.set(key.clientId, { requestId: key.requestId, result });
      pruneLastResults();
      options.onExecuted?.(key, entry.index);
    }
    return result;
  }

  // Answers only for a client the table still tracks, so the answer does not depend on
  // whether the garbage of a dropped client has been swept yet (replicas sweep at different
  // moments: a snapshot sweeps).
  function lookupResult(key: DedupKey): KvResult | undefined {
    const last = lastResults.get(key.clientId);
    if (last === undefined || last.requestId !== key.requestId) return undefined;
    return sessions.highWaterMark(key.clientId) === key.requestId ? last.result : undefined;
  }

  // Results of clients the session table dropped (superseded auto ids, closed sessions) are
  // garbage; sweeping when the map outgrows the table by a margin keeps it bounded by the
  // table's own bound at amortised constant cost per entry.
  function pruneLastResults(): void {
    if (lastResults.size <= 2 * sessions.size + 64) return;
    lastResults = liveResults();
  }

  function liveResults(): Map<string, KvLastResult> {
    const live = new Map<string, KvLastResult>();
    for (const [id, last] of lastResults) {
      if (sessions.highWaterMark(id as ClientId) === last.requestId) live.set(id, last);
    }
    return live;
  }

  // The index is checked before and published after the state changes, so a listener of
  // `applied` (awaitRead) never sees an index whose entry is not in the map yet.
  function expectNext(index: number): void {
    if (index !== applied.value + 1) {
      throw new RangeError(`committed index ${index} does not follow the applied index ${applied.value} (a gap or a replay)`);
    }
  }

  function install(snapshot: Snapshot): void {
    if (!Number.isSafeInteger(snapshot.throughIndex) || snapshot.throughIndex < 0) {
      throw new RangeError(`snapshot throughIndex must be a safe non-negative integer, got ${snapshot.throughIndex}`);
    }
    const state = decodeKvState(snapshot.state);
    values = new Map(state.values);
    sessions = state.sessions;
    lastResults = new Map(state.lastResults);
    applied.set(snapshot.throughIndex);
  }

  return {
    apply(committed) {
      switch (committed.type) {
        case 'entry': {
          expectNext(committed.entry.index);
          const result = applyEntry(committed.entry);
          applied.set(committed.entry.index);
          return result;
        }
        case 'internal':
          expectNext(committed.index);
          applied.set(committed.index);
          return undefined;
        case 'install':
          install(committed.snapshot);
          return undefined;
      }
    },
    get appliedIndex() {
      return applied.value;
    },
    applied,
    get: (key) => values.get(key),
    get size() {
      return values.size;
    },
    resultFor: lookupResult,
    snapshot() {
      lastResults = liveResults();
      return { throughIndex: applied.value, state: encodeKvState({ values, sessions, lastResults }) };
    },
  };
}

/** Runs one command bytes against the map; never throws, so a bad entry cannot wedge replicas. */
function execute(values: Map<string, string>, commandBytes: Uint8Array): KvResult {
  let command: KvCommand;
  try {
    command = decodeKvCommand(commandBytes);
  } catch (error) {
    return invalid((error as Error).message);
  }
  switch (command.type) {
    case 'get':
      return { type: 'read', value: values.get(command.key) ?? null };
    case 'put':
      return store(values, command.key, command.value);
    case 'append':
      return store(values, command.key, (values.get(command.key) ?? '') + command.value);
    case 'compareAndSet': {
      if ((values.get(command.key) ?? null) !== command.expected) return { type: 'compared', succeeded: false };
      const stored = store(values, command.key, command.value);
      return stored.type === 'written' ? { type: 'compared', succeeded: true } : stored;
    }
    case 'delete':
      values.delete(command.key);
      return { type: 'written' };
  }
}

function store(values: Map<string, string>, key: string, value: string): KvResult {
  if (!values.has(key) && values.size >= maxKeys) return invalid(`the store is full (${maxKeys} keys)`);
  // Cheap length test first: a UTF-16 unit takes at most 3 UTF-8 bytes.
  if (value.length * 3 > maxValueBytes && encodeUtf8(value, 'value').length > maxValueBytes) {
    return invalid(`value would exceed ${maxValueBytes} UTF-8 bytes`);
  }
  values.set(key, value);
  return { type: 'written' };
}

function invalid(reason: string): KvResult {
  // Bounded so the result fits the snapshot format (a UTF-16 unit takes at most 3 UTF-8 bytes).
  return { type: 'invalid', reason: reason.slice(0, maxReasonBytes / 4) };
}
