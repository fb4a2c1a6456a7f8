// Guards exactly-once as the simulation checks it: every execution of a request by a replica's
// state machine is counted per dedup key (SafetyChecker.requestExecuted), so a request applied
// twice is caught even when the values would not show it. Before, only the append tokens left in
// the final values were counted: a replayed put (same value written twice) or an append whose
// token a later put overwrote passed. An outside review suspected it (2026-12-07, third session).
import { describe, expect, it } from 'vitest';
import { clientId, nodeId, type DedupKey, type LogEntry } from '../core/types.ts';
import { SafetyChecker } from './checkers.ts';
import { createKeyValueStateMachine, encodeKvCommand } from './kv-state-machine.ts';

const key = (requestId: number): DedupKey => ({ clientId: clientId('client-n1'), requestId });
const put = (index: number, requestId: number): LogEntry => ({ index, term: 1, command: encodeKvCommand({ type: 'put', key: 'x', value: 'a' }), isNoOp: false, dedupKey: key(requestId) });

describe('exactly-once: executions counted per dedup key', () => {
  it('the key-value machine reports each request it executes, and not a committed copy its session table skips', () => {
    const executed: string[] = [];
    const machine = createKeyValueStateMachine({ onExecuted: (dedupKey, index) => executed.push(`${dedupKey.requestId}@${index}`) });
    machine.apply({ type: 'entry', entry: put(1, 1) });
    machine.apply({ type: 'entry', entry: put(2, 1) });
    machine.apply({ type: 'entry', entry: put(3, 2) });
    expect(executed).toEqual(['1@1', '2@3']);
  });

  it('the checker reports a request executed at two indexes (a put replayed leaves the value unchanged)', () => {
    const checker = new SafetyChecker(7);
    checker.requestExecuted(nodeId('n1'), key(1), 1);
    checker.requestExecuted(nodeId('n2'), key(1), 2);
    expect(checker.violations.map((violation) => violation.message)).toEqual([expect.stringContaining('Exactly once violated (seed 7): n2 executed request client-n1#1 at index 2, n1 executed it at index 1')]);
  });

  it('a replica (or a new incarnation) executing a request again at the same index is a replay of the log, not a violation', () => {
    const checker = new SafetyChecker(7);
    checker.requestExecuted(nodeId('n1'), key(1), 1);
    checker.requestExecuted(nodeId('n2'), key(1), 1);
    checker.requestExecuted(nodeId('n1'), key(1), 1);
    expect(checker.violations).toEqual([]);
  });
});
