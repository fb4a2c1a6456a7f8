import { describe, expect, it } from 'vitest';
import { nodeId, type LogEntry } from '../core/types.ts';
import { fingerprintBytes, SafetyChecker } from './checkers.ts';

const [a, b] = [nodeId('a'), nodeId('b')];
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const entry = (index: number, term: number, text = `e${index}`): LogEntry => ({ index, term, command: bytes(text), isNoOp: false });
const noEarlierTerm = (): number | undefined => undefined;

describe('SafetyChecker', () => {
  it('Election Safety: two leaders in one term is a violation naming the seed; one leader per term is fine', () => {
    const checker = new SafetyChecker(77);
    checker.leaderElected(a, 1);
    checker.leaderElected(b, 2);
    checker.leaderElected(b, 2);
    expect(() => checker.throwIfViolated()).not.toThrow();
    checker.leaderElected(a, 2);
    expect(() => checker.throwIfViolated()).toThrow(/Election Safety violated \(seed 77\): b and a both led term 2/);
  });

  it('a witness that leads is a violation naming it and the term', () => {
    const checker = new SafetyChecker(5);
    checker.witnessLed(b, 3);
    expect(() => checker.throwIfViolated()).toThrow(/Witness never leads violated \(seed 5\): witness b led term 3/);
  });

  it('Log Matching: one (index, term) with two commands, or two predecessor terms, is a violation', () => {
    const checker = new SafetyChecker(1);
    checker.entriesPersisted(a, [entry(1, 1, 'x')], noEarlierTerm);
    checker.entriesPersisted(b, [entry(1, 1, 'x')], noEarlierTerm);
    expect(checker.violations).toEqual([]);
    checker.entriesPersisted(b, [entry(1, 1, 'y')], noEarlierTerm);
    expect(checker.violations[0]?.message).toMatch(/Log Matching/);

    const other = new SafetyChecker(2);
    other.entriesPersisted(a, [entry(3, 4)], () => 2);
    other.entriesPersisted(b, [entry(3, 4)], () => 3);
    expect(other.violations[0]?.message).toMatch(/term 3 before 3:4, another log has 2/);
  });

  it('State Machine Safety: different commands, terms or kinds at one index are violations', () => {
    const checker = new SafetyChecker(1);
    checker.entryApplied(a, { index: 1, term: null, command: null });
    checker.entryApplied(b, { index: 1, term: null, command: null });
    checker.entryApplied(a, { index: 2, term: 1, command: bytes('x') });
    checker.entryApplied(b, { index: 2, term: 1, command: bytes('x') });
    expect(checker.violations).toEqual([]);
    checker.entryApplied(b, { index: 2, term: 2, command: bytes('x') });
    checker.entryApplied(b, { index: 1, term: 1, command: bytes('z') });
    expect(checker.violations.map((violation) => violation.message)).toEqual([
      expect.stringMatching(/State Machine Safety.*index 2/),
      expect.stringMatching(/State Machine Safety.*index 1/),
    ]);
  });

  it('Apply order: a gap or a repeat is a violation; an install may jump ahead', () => {
    const checker = new SafetyChecker(1);
    checker.applyOrder(a, 0, { index: 1 });
    checker.applyOrder(a, 1, { installThrough: 10 });
    checker.applyOrder(a, 10, { index: 11 });
    expect(checker.violations).toEqual([]);
    checker.applyOrder(a, 11, { index: 13 });
    checker.applyOrder(a, 13, { index: 13 });
    checker.applyOrder(a, 13, { installThrough: 5 });
    expect(checker.violations.length).toBe(3);
  });

  it('Leader Completeness: a leader of a later term must hold every entry applied in an earlier term', () => {
    const checker = new SafetyChecker(5);
    checker.entryApplied(a, { index: 1, term: 1, command: bytes('e1') }, 1);
    checker.entryApplied(a, { index: 2, term: 1, command: bytes('e2') }, 1);
    checker.leaderLog(b, 2, 1, [entry(1, 1), entry(2, 1), entry(3, 2)]);
    expect(checker.violations).toEqual([]);
    checker.leaderLog(b, 3, 1, [entry(1, 1)]);
    expect(checker.violations[0]?.message).toMatch(/Leader Completeness violated \(seed 5\): b leads term 3 without applied entry 2/);
  });

  it('Leader Completeness skips compacted entries and entries that may have committed in the leader term or later', () => {
    const checker = new SafetyChecker(1);
    checker.entryApplied(a, { index: 1, term: 1, command: bytes('e1') }, 1);
    checker.entryApplied(a, { index: 2, term: 1, command: bytes('e2') }, 4);
    // Index 1 lies below this leader's compaction floor; index 2 was applied only in term 4.
    checker.leaderLog(b, 3, 2, []);
    expect(checker.violations).toEqual([]);
  });

  it('Committed entry kept: a log that held an entry of the term an entry was applied in, or later, must not lose it; a discard beyond the snapshot never', () => {
    const checker = new SafetyChecker(6);
    checker.entryApplied(a, { index: 2, term: 1, command: bytes('e2') }, 3);
    checker.entryApplied(a, { index: 3, term: 3, command: bytes('e3') }, 3);
    // Not committed here (another term at index 2, nothing applied at 4), or a log whose newest
    // entry is of term 2, below every term the entry was applied in: a stale leader may still
    // overwrite it (Figure 8).
    checker.entriesRemoved(b, [entry(2, 2), entry(4, 3)], 5, 'a truncation from 2');
    checker.entriesRemoved(b, [entry(2, 1), entry(3, 3)], 2, 'a truncation from 2');
    expect(checker.violations).toEqual([]);
    checker.entriesRemoved(b, [entry(2, 1), entry(3, 3)], 3, 'a truncation from 2');
    checker.entriesDiscardedUncovered(b, [entry(9, 4)], 9, 8);
    expect(checker.violations.map((violation) => violation.message)).toEqual([
      'Committed entry kept violated (seed 6): b removed committed entry 2 (term 1) from its durable log, which held an entry of term 3 (a truncation from 2)',
      'Committed entry kept violated (seed 6): b discarded its log through 9 beyond its durable snapshot through 8, entry 9 (term 4) with it',
    ]);
  });

  it('internal entries (no-op, configuration): their terms, as the applying nodes’ logs held them, judge removals and new leaders too', () => {
    const checker = new SafetyChecker(12);
    const marker = (index: number, term: number): LogEntry => ({ index, term, command: new Uint8Array(0), isNoOp: true });
    checker.entryApplied(a, { index: 1, term: null, command: null }, 2);
    checker.entryApplied(a, { index: 2, term: null, command: null }, 2); // its term never seen: not judged
    checker.internalEntryApplied(a, 1, 2);
    checker.entriesRemoved(b, [marker(1, 1)], 3, 'a truncation from 1'); // another entry at 1: not the committed one
    checker.entriesRemoved(b, [marker(2, 2)], 3, 'a truncation from 2');
    checker.leaderLog(b, 3, 1, [marker(1, 2), marker(2, 7)]);
    expect(checker.violations).toEqual([]);
    checker.entriesRemoved(b, [marker(1, 2)], 3, 'a truncation from 1');
    checker.leaderLog(b, 3, 1, [marker(1, 1)]);
    checker.internalEntryApplied(b, 1, 5);
    expect(checker.violations.map((violation) => violation.message)).toEqual([
      'Committed entry kept violated (seed 12): b removed committed entry 1 (term 2) from its durable log, which held an entry of term 3 (a truncation from 1)',
      'Leader Completeness violated (seed 12): b leads term 3 without applied internal entry 1 (term 2)',
      'State Machine Safety violated (seed 12): b applied the internal entry of term 5 at index 1, another node the one of term 2',
    ]);
  });

  it('acknowledged proposals must be applied unchanged at their index', () => {
    const checker = new SafetyChecker(9);
    checker.proposalAcknowledged(entry(2, 1, 'kept'));
    checker.entryApplied(a, { index: 2, term: 1, command: bytes('kept') });
    checker.checkAcknowledgedApplied();
    expect(checker.violations).toEqual([]);
    expect(checker.highestAcknowledged).toBe(2);
    checker.proposalAcknowledged(entry(3, 1, 'lost'));
    checker.checkAcknowledgedApplied();
    expect(checker.violations[0]?.message).toMatch(/acknowledged entry 3 was never applied/);
    checker.proposalAcknowledged(entry(2, 1, 'other'));
    expect(checker.violations[1]?.message).toMatch(/acknowledged entry 2 differs/);
  });

  it('a read index below a write acknowledged before the read began is a violation', () => {
    const checker = new SafetyChecker(1);
    checker.readCompleted(a, 5, 5);
    expect(checker.violations).toEqual([]);
    checker.readCompleted(a, 4, 5);
    expect(checker.violations[0]?.message).toMatch(/Linearizable read/);
  });

  it('Snapshot integrity: an installed snapshot must equal, byte for byte, one published at its index', () => {
    const checker = new SafetyChecker(9);
    const published = new Uint8Array(40_000).map((_, position) => position * 7);
    checker.snapshotPublished(12, published);
    checker.snapshotPublished(12, published.slice());
    checker.snapshotInstalled(a, 12, published.slice());
    checker.snapshotPublished(13, new Uint8Array(0));
    checker.snapshotInstalled(b, 13, new Uint8Array(0));
    expect(checker.violations).toEqual([]);
    expect(checker.snapshotsInstalled).toEqual({ count: 2, bytes: 40_000 });
    const altered = published.slice();
    altered[39_999] = 0;
    checker.snapshotInstalled(b, 12, altered);
    expect(checker.violations[0]?.message).toMatch(/Snapshot integrity violated \(seed 9\): b installed a snapshot through 12 \(40000 bytes\) that differs from every one published there \(40000 bytes\)/);
    checker.snapshotInstalled(a, 14, published);
    expect(checker.violations[1]?.message).toMatch(/no node published one there/);
  });

  it('State agreement: two nodes reporting different states at one index is a violation', () => {
    const checker = new SafetyChecker(3);
    checker.stateReached(a, 5, fingerprintBytes(bytes('state five')));
    checker.stateReached(b, 5, fingerprintBytes(bytes('state five')));
    checker.stateReached(b, 6, fingerprintBytes(bytes('state six')));
    expect(checker.violations).toEqual([]);
    checker.stateReached(a, 6, fingerprintBytes(bytes('state siX')));
    expect(checker.violations[0]?.message).toMatch(/State agreement violated \(seed 3\): a reached state .* at index 6, b reached/);
    expect(fingerprintBytes(new Uint8Array([1, 2, 3, 4, 5]))).not.toBe(fingerprintBytes(new Uint8Array([1, 2, 3, 4, 6])));
  });
});
