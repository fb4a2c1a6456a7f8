// Review: SafetyChecker identifies a log entry by (index, term) and its `command` bytes only.
// Configuration entries and no-ops both carry an empty command (log-writes.ts appendConfig /
// appendAsLeader), their payload lives in `config` / `isNoOp`, and the dedup key in `dedupKey`:
// none of these is compared. So two logs holding different entries at one (index, term) pass Log
// Matching (entriesPersisted), and two nodes applying different configuration entries at one index
// pass State Machine Safety (entryApplied records internal entries as term null / command null,
// internalEntryApplied compares only their terms).
import { describe, expect, it } from 'vitest';
import { SafetyChecker } from '../testing/checkers.ts';
import { clientId, nodeId, type LogEntry } from '../core/types.ts';

const n1 = nodeId('n1');
const n2 = nodeId('n2');
const empty = new Uint8Array(0);
const configOf = (...voters: string[]): LogEntry => ({ index: 4, term: 2, command: empty, isNoOp: false, config: { old: null, new: { voters: voters.map((id) => nodeId(id)) } } });
const termBefore = (index: number): number | undefined => (index === 3 ? 2 : undefined);

function violations(checker: SafetyChecker): string[] {
  return checker.violations.map((violation) => violation.message);
}

describe('entry identity in the safety checker (review)', () => {
  it('Log Matching: two different configuration entries at one (index, term) are reported', () => {
    const checker = new SafetyChecker(1);
    checker.entriesPersisted(n1, [configOf('n1', 'n2', 'n3')], termBefore);
    checker.entriesPersisted(n2, [configOf('n1')], termBefore);
    expect(violations(checker)).toEqual([expect.stringContaining('Log Matching')]);
  });

  it('Log Matching: a no-op and a configuration entry at one (index, term) are reported', () => {
    const checker = new SafetyChecker(1);
    checker.entriesPersisted(n1, [{ index: 4, term: 2, command: empty, isNoOp: true }], termBefore);
    checker.entriesPersisted(n2, [configOf('n1', 'n2')], termBefore);
    expect(violations(checker)).toEqual([expect.stringContaining('Log Matching')]);
  });

  it('Log Matching: one command under two different dedup keys at one (index, term) is reported', () => {
    const checker = new SafetyChecker(1);
    const command = new TextEncoder().encode('append x <a>');
    checker.entriesPersisted(n1, [{ index: 4, term: 2, command, isNoOp: false, dedupKey: { clientId: clientId('client-n1'), requestId: 3 } }], termBefore);
    checker.entriesPersisted(n2, [{ index: 4, term: 2, command, isNoOp: false, dedupKey: { clientId: clientId('client-n1'), requestId: 4 } }], termBefore);
    expect(violations(checker)).toEqual([expect.stringContaining('Log Matching')]);
  });

});
