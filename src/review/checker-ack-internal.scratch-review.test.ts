// Review: "no acknowledged proposal is lost" (SafetyChecker.checkAcknowledgedApplied and
// proposalAcknowledged) only compares an acknowledged command with what was applied at its index
// when the applied record is itself a command (`applied.term !== null && ...`). When the index
// ended up holding an internal entry (a later leader's no-op or a configuration entry) instead,
// the acknowledged command was lost and the checker says nothing: an internal record at the index
// counts as "applied".
import { describe, expect, it } from 'vitest';
import { SafetyChecker } from '../testing/checkers.ts';
import { nodeId, type LogEntry } from '../core/types.ts';

const command = new TextEncoder().encode('p1-7');
const acknowledged: LogEntry = { index: 5, term: 2, command } as LogEntry;

describe('acknowledged proposal replaced by an internal entry (review)', () => {
  it('checkAcknowledgedApplied reports an acknowledged command whose index applied a later no-op', () => {
    const checker = new SafetyChecker(1);
    checker.proposalAcknowledged(acknowledged, command);
    // Every node applies the no-op of term 3 at index 5: the acknowledged command is gone.
    for (const id of ['n1', 'n2', 'n3']) {
      checker.entryApplied(nodeId(id), { index: 5, term: null, command: null }, 3);
      checker.internalEntryApplied(nodeId(id), 5, 3);
    }
    checker.checkAcknowledgedApplied();
    expect(checker.violations.map((violation) => violation.message)).toEqual([expect.stringContaining('Acknowledged proposal kept')]);
  });

  it('proposalAcknowledged reports an acknowledgement for an index that already applied an internal entry', () => {
    const checker = new SafetyChecker(1);
    checker.entryApplied(nodeId('n1'), { index: 5, term: null, command: null }, 3);
    checker.internalEntryApplied(nodeId('n1'), 5, 3);
    checker.proposalAcknowledged(acknowledged, command);
    expect(checker.violations.map((violation) => violation.message)).toEqual([expect.stringContaining('Acknowledged proposal kept')]);
  });
});
