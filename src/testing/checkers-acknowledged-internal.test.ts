// Guards "no acknowledged proposal is lost" (SafetyChecker.checkAcknowledgedApplied and
// proposalAcknowledged) against an acknowledged command whose index ended up holding an internal
// entry (a later leader's no-op or a configuration entry): the checkers compared only when the
// applied record was itself a command, so an internal record at the index counted as "applied"
// and the lost command went unreported. An outside review found it (2026-12-07, third session).
import { describe, expect, it } from 'vitest';
import { nodeId, type LogEntry } from '../core/types.ts';
import { SafetyChecker } from './checkers.ts';

const command = new TextEncoder().encode('p1-7');
const acknowledged: LogEntry = { index: 5, term: 2, command, isNoOp: false };
const noOpOfTerm3: LogEntry = { index: 5, term: 3, command: new Uint8Array(0), isNoOp: true };

function messages(checker: SafetyChecker): string[] {
  return checker.violations.map((violation) => violation.message);
}

describe('an acknowledged proposal replaced by an internal entry', () => {
  it('checkAcknowledgedApplied reports an acknowledged command whose index applied a later no-op', () => {
    const checker = new SafetyChecker(1);
    checker.proposalAcknowledged(acknowledged, command);
    // Every node applies the no-op of term 3 at index 5: the acknowledged command is gone.
    for (const id of ['n1', 'n2', 'n3']) {
      checker.entryApplied(nodeId(id), { index: 5, term: null, command: null }, 3);
      checker.internalEntryApplied(nodeId(id), 5, 3);
    }
    checker.checkAcknowledgedApplied();
    expect(messages(checker)).toEqual([expect.stringContaining('Acknowledged proposal kept')]);
    expect(messages(checker)[0]).toContain('replaced by an internal entry of term 3');
  });

  it('proposalAcknowledged reports an acknowledgement for an index that already applied an internal entry', () => {
    const checker = new SafetyChecker(1);
    checker.entryApplied(nodeId('n1'), { index: 5, term: null, command: null }, 3);
    checker.internalEntryApplied(nodeId('n1'), 5, 3);
    checker.proposalAcknowledged(acknowledged, command);
    expect(messages(checker)).toEqual([expect.stringContaining('Acknowledged proposal kept')]);
  });

  it('proposalAcknowledged reports a promise resolved with an internal entry', () => {
    const checker = new SafetyChecker(1);
    checker.proposalAcknowledged(noOpOfTerm3, new Uint8Array(0));
    expect(messages(checker)).toEqual([expect.stringContaining('which is a no-op')]);
  });

  it('an acknowledged command applied unchanged at its index passes', () => {
    const checker = new SafetyChecker(1);
    checker.proposalAcknowledged(acknowledged, command);
    checker.entryApplied(nodeId('n1'), { index: 5, term: 2, command }, 2);
    checker.checkAcknowledgedApplied();
    expect(messages(checker)).toEqual([]);
  });
});
