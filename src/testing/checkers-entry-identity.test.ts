// Guards how SafetyChecker tells entries apart: by (index, term), the command bytes AND the
// entry's kind, configuration and dedup key (entryMetadata). No-ops and configuration entries all
// carry an empty command, and one command can be proposed under two dedup keys; comparing only
// the bytes let two logs holding different entries at one (index, term) pass Log Matching, and two
// nodes applying different configuration entries at one index pass State Machine Safety (internal
// entries were compared by term only). An outside review found it (2026-12-07, third session).
import { describe, expect, it } from 'vitest';
import { clientId, nodeId, type LogEntry } from '../core/types.ts';
import { entryMetadata, SafetyChecker } from './checkers.ts';

const n1 = nodeId('n1');
const n2 = nodeId('n2');
const empty = new Uint8Array(0);
const configOf = (...voters: string[]): LogEntry => ({ index: 4, term: 2, command: empty, isNoOp: false, config: { old: null, new: { voters: voters.map((id) => nodeId(id)) } } });
const noOp: LogEntry = { index: 4, term: 2, command: empty, isNoOp: true };
const termBefore = (index: number): number | undefined => (index === 3 ? 2 : undefined);

function violations(checker: SafetyChecker): string[] {
  return checker.violations.map((violation) => violation.message);
}

describe('entry identity in the safety checker', () => {
  it('Log Matching: two different configuration entries at one (index, term) are reported', () => {
    const checker = new SafetyChecker(1);
    checker.entriesPersisted(n1, [configOf('n1', 'n2', 'n3')], termBefore);
    checker.entriesPersisted(n2, [configOf('n1')], termBefore);
    expect(violations(checker)).toEqual([expect.stringContaining('Log Matching')]);
  });

  it('Log Matching: a no-op and a configuration entry at one (index, term) are reported', () => {
    const checker = new SafetyChecker(1);
    checker.entriesPersisted(n1, [noOp], termBefore);
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

  it('Log Matching: the same configuration entry in two logs passes', () => {
    const checker = new SafetyChecker(1);
    checker.entriesPersisted(n1, [configOf('n1', 'n2')], termBefore);
    checker.entriesPersisted(n2, [configOf('n1', 'n2')], termBefore);
    expect(violations(checker)).toEqual([]);
  });

  it('State Machine Safety: two nodes applying different configuration entries (one term) at one index are reported', () => {
    const checker = new SafetyChecker(1);
    for (const [id, entry] of [[n1, configOf('n1', 'n2', 'n3')], [n2, configOf('n1')]] as const) {
      checker.entryApplied(id, { index: 4, term: null, command: null }, 2);
      checker.internalEntryApplied(id, 4, entry.term, entryMetadata(entry));
    }
    expect(violations(checker)).toEqual([expect.stringContaining('State Machine Safety')]);
  });

  it('State Machine Safety: one command applied under two dedup keys at one index is reported', () => {
    const checker = new SafetyChecker(1);
    const command = new TextEncoder().encode('append x <a>');
    for (const [id, requestId] of [[n1, 3], [n2, 4]] as const) {
      const entry: LogEntry = { index: 4, term: 2, command, isNoOp: false, dedupKey: { clientId: clientId('client-n1'), requestId } };
      checker.entryApplied(id, { index: 4, term: 2, command, metadata: entryMetadata(entry) }, 2);
    }
    expect(violations(checker)).toEqual([expect.stringContaining('State Machine Safety')]);
  });
});
