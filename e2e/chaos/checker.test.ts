// The checker must fail on every kind of bug it claims to catch: each test plants one in an
// otherwise clean history (three nodes, a few commands, a read) and expects the named violation.
import { describe, expect, it } from 'vitest';
import { check } from './checker.ts';
import type { Attempt, History, ProposalRecord, ReadRecord } from './history.ts';
import { foldState, initialState, type CommittedRecord } from './pages/chaos-protocol.ts';

const entry = (index: number, command: string | null, key: { clientId: string; requestId: number } | null = null): CommittedRecord => ({
  index,
  term: command === null ? null : 1,
  command,
  clientId: key?.clientId ?? null,
  requestId: key?.requestId ?? null,
});

const ok = (invokedMs: number, completedMs: number, index: number): Attempt => ({ invokedMs, completedMs, outcome: { type: 'ok', value: { index, term: 1 } } });
const unknown = (invokedMs: number, completedMs: number): Attempt => ({ invokedMs, completedMs, outcome: { type: 'unknown', error: 'LeadershipLostError' } });
const failed = (invokedMs: number, completedMs: number): Attempt => ({ invokedMs, completedMs, outcome: { type: 'failed', error: 'NotStarted' } });

const plain = (operationId: string, ...attempts: Attempt[]): ProposalRecord => ({ operationId, node: 'node-a', kind: 'plain', clientId: null, requestId: null, attempts });
const session = (operationId: string, requestId: number, ...attempts: Attempt[]): ProposalRecord => ({ operationId, node: 'node-b', kind: 'session', clientId: 'session-node-b', requestId, attempts });

/** The state a read at `appliedIndex` of `log` sees (each command effective once). */
function stateAt(log: readonly CommittedRecord[], appliedIndex: number): { count: number; hash: number } {
  let state = initialState;
  for (const record of log.slice(0, appliedIndex)) state = foldState(state, record, true);
  return { count: state.count, hash: state.hash };
}

const readAt = (log: readonly CommittedRecord[], invokedMs: number, completedMs: number, readIndex: number): ReadRecord => ({
  node: 'node-c',
  invokedMs,
  completedMs,
  outcome: { type: 'ok', value: { readIndex, appliedIndex: readIndex, ...stateAt(log, readIndex) } },
});

function cleanHistory(): History {
  const key = { clientId: 'session-node-b', requestId: 1 };
  const log = [entry(1, null), entry(2, 'a:1'), entry(3, 'b:1', key), entry(4, 'a:2')];
  return {
    seed: 7,
    seconds: 1,
    voters: ['node-a', 'node-b', 'node-c'],
    startedAt: '2026-12-01T00:00:00.000Z',
    proposals: [plain('a:1', ok(0, 10, 2)), session('b:1', 1, unknown(5, 20), ok(25, 30, 3)), plain('a:2', unknown(40, 60)), plain('a:3', failed(70, 71))],
    reads: [readAt(log, 12, 15, 2), readAt(log, 35, 38, 3)],
    faults: [],
    notes: [],
    finalLogs: { 'node-a': log, 'node-b': [...log], 'node-c': [...log] },
    finalCommitIndexes: { 'node-a': 4, 'node-b': 4, 'node-c': 4 },
    lostForGood: {},
    finalStatuses: {},
    leadership: { 'node-a': { 1: 100 }, 'node-b': { 2: 200 } },
  };
}

const violationsOf = (history: History): string => check(history).violations.join('\n');

describe('chaos checker', () => {
  it('passes a clean history: an unknown command may commit, a definitely failed one is absent', () => {
    const verdict = check(cleanHistory());
    expect(verdict.violations).toEqual([]);
    expect(verdict.summary).toMatchObject({ commitIndex: 4, acknowledged: 2, unknown: 1, unknownCommitted: 1, definitelyFailed: 1, readsChecked: 2 });
  });

  it('a node that did not converge, or holds another entry at an index', () => {
    const behind = cleanHistory();
    behind.finalLogs['node-c'] = behind.finalLogs['node-c']?.slice(0, 3) ?? [];
    behind.finalCommitIndexes['node-c'] = 3;
    expect(violationsOf(behind)).toMatch(/convergence: node-c/);
    const diverged = cleanHistory();
    diverged.finalLogs['node-b'] = [entry(1, null), entry(2, 'a:1'), entry(3, 'a:2'), entry(4, 'b:1', { clientId: 'session-node-b', requestId: 1 })];
    expect(violationsOf(diverged)).toMatch(/divergence at index 3: node-b/);
  });

  it('an acknowledged command missing from the log, or at another index than acknowledged', () => {
    const lost = cleanHistory();
    for (const node of lost.voters) lost.finalLogs[node] = [entry(1, null), entry(2, 'a:1'), entry(3, null), entry(4, 'a:2')];
    expect(violationsOf(lost)).toMatch(/lost ack: b:1 was acknowledged at index 3/);
    const moved = cleanHistory();
    moved.proposals[0] = plain('a:1', ok(0, 10, 4));
    expect(violationsOf(moved)).toMatch(/lost ack: a:1 was acknowledged at index 4/);
  });

  it('a retried session command that took effect twice', () => {
    const twice = cleanHistory();
    // Request id 1 again, but applied twice: only possible if the key differs (the table would skip
    // an equal key), so the planted bug is a retry that lost its dedup key.
    for (const node of twice.voters) twice.finalLogs[node] = [...(twice.finalLogs[node] ?? []), entry(5, 'b:1', { clientId: 'session-node-b', requestId: 2 })];
    for (const node of twice.voters) twice.finalCommitIndexes[node] = 5;
    expect(violationsOf(twice)).toMatch(/exactly-once: b:1 took effect 2 times/);
  });

  it('a retried session command deduplicated by its key passes', () => {
    const replayed = cleanHistory();
    for (const node of replayed.voters) replayed.finalLogs[node] = [...(replayed.finalLogs[node] ?? []), entry(5, 'b:1', { clientId: 'session-node-b', requestId: 1 })];
    for (const node of replayed.voters) replayed.finalCommitIndexes[node] = 5;
    expect(check(replayed).violations).toEqual([]);
    expect(check(replayed).summary.duplicatesInLog).toBe(1);
  });

  it('a definitely failed command in the log, and a command nobody proposed', () => {
    const committed = cleanHistory();
    for (const node of committed.voters) committed.finalLogs[node] = [...(committed.finalLogs[node] ?? []), entry(5, 'a:3'), entry(6, 'z:9')];
    for (const node of committed.voters) committed.finalCommitIndexes[node] = 6;
    const violations = violationsOf(committed);
    expect(violations).toMatch(/definite failure committed: a:3/);
    expect(violations).toMatch(/phantom: "z:9"/);
  });

  it('two leaders of one term', () => {
    const twoLeaders = cleanHistory();
    twoLeaders.leadership['node-c'] = { 2: 250 };
    expect(violationsOf(twoLeaders)).toMatch(/election safety: term 2 was led by node-b \(seen at 200 ms\) and node-c \(seen at 250 ms\)/);
  });

  it('a stale read, a read from the future, and a read whose state is not the prefix it names', () => {
    const log = cleanHistory().finalLogs['node-a'] ?? [];
    const stale = cleanHistory();
    stale.reads.push(readAt(log, 31, 33, 2)); // b:1 was acknowledged at index 3 at 30 ms
    expect(violationsOf(stale)).toMatch(/stale read: .* began after b:1 was acknowledged at index 3/);
    const future = cleanHistory();
    future.reads.push(readAt(log, 32, 36, 4)); // a:2 sits at index 4, first proposed at 40 ms
    expect(violationsOf(future)).toMatch(/read from the future: .* covers index 4, where a:2 sits/);
    const wrongState = cleanHistory();
    wrongState.reads.push({ node: 'node-c', invokedMs: 50, completedMs: 55, outcome: { type: 'ok', value: { readIndex: 3, appliedIndex: 3, ...stateAt(log, 2) } } });
    expect(violationsOf(wrongState)).toMatch(/saw 1 commands .* the committed prefix has 2/);
  });

  it('a node lost for good is not judged, as long as the others are a majority; a lost majority, or a log never read, is a violation', () => {
    const oneLost = cleanHistory();
    delete oneLost.finalLogs['node-c'];
    delete oneLost.finalCommitIndexes['node-c'];
    oneLost.lostForGood['node-c'] = 'RaftStorageError: the browser deleted the database';
    expect(check(oneLost).violations).toEqual([]);

    const twoLost = cleanHistory();
    for (const node of ['node-b', 'node-c']) {
      delete twoLost.finalLogs[node];
      delete twoLost.finalCommitIndexes[node];
      twoLost.lostForGood[node] = 'RaftStorageError: the browser deleted the database';
    }
    expect(violationsOf(twoLost)).toMatch(/majority: 2 of 3 voters lost for good \(node-b, node-c\), no majority left/);

    const unread = cleanHistory();
    delete unread.finalLogs['node-c'];
    delete unread.finalCommitIndexes['node-c'];
    expect(violationsOf(unread)).toMatch(/convergence: node-c's final log was never read/);
  });
});
