// mergeReadies folds the readies queued behind a write into one storage batch: a later ready's
// truncation cuts what earlier readies of the same batch appended, and the readies' own arrays
// are never the batch's (the core keeps them).
import { describe, expect, it } from 'vitest';
import type { Ready } from '../core/ready.ts';
import type { LogEntry } from '../core/types.ts';
import { mergeReadies } from './write-queue.ts';

function entry(index: number, term: number): LogEntry {
  return { index, term, command: new Uint8Array([index, term]), isNoOp: false };
}

function ready(fields: Partial<Ready>): Ready {
  return { hardState: null, leaderForTerm: null, truncateFrom: null, entries: [], snapshot: null, commitIndex: null, messages: [], messagesAfterPersist: [], outcomes: [], reads: [], membershipChanges: [], transfers: [], metrics: [], trace: [], ...fields };
}

const indexesAndTerms = (entries: readonly LogEntry[]): Array<[number, number]> => entries.map((item) => [item.index, item.term]);

describe('mergeReadies', () => {
  it('appends the readies in order, and a later truncation cuts what an earlier ready of the batch appended', () => {
    const first = [entry(1, 1), entry(2, 1), entry(3, 1)];
    const merged = mergeReadies([
      ready({ entries: first }),
      ready({ entries: [entry(4, 1)], commitIndex: 2 }),
      ready({ hardState: { term: 2, votedFor: null }, truncateFrom: 3, entries: [entry(3, 2)] }),
      ready({ entries: [entry(4, 2), entry(5, 2)] }),
    ]);
    expect(indexesAndTerms(merged.batch.entries)).toEqual([[1, 1], [2, 1], [3, 2], [4, 2], [5, 2]]);
    expect(merged.batch.truncateFrom).toBe(3);
    expect(merged.batch.commitIndex).toBe(2);
    expect(merged.batch.hardState).toEqual({ term: 2, votedFor: null });
    expect(merged.readyCount).toBe(4);
    expect(merged.lastEntry).toEqual({ index: 5, term: 2 });
    // The first ready's array is the core's: merging must not have grown or cut it.
    expect(indexesAndTerms(first)).toEqual([[1, 1], [2, 1], [3, 1]]);
    expect(merged.batch.entries).not.toBe(first);
  });

  it('keeps the lowest truncation of the batch, even when a later one cuts higher', () => {
    const merged = mergeReadies([ready({ truncateFrom: 5, entries: [entry(5, 3), entry(6, 3)] }), ready({ truncateFrom: 6, entries: [entry(6, 4)] })]);
    expect(merged.batch.truncateFrom).toBe(5);
    expect(indexesAndTerms(merged.batch.entries)).toEqual([[5, 3], [6, 4]]);
  });

  it('merges a long queue of one-entry readies into one batch in order', () => {
    const readies = Array.from({ length: 10_000 }, (_, position) => ready({ entries: [entry(position + 1, 1)] }));
    const merged = mergeReadies(readies);
    expect(merged.batch.entries).toHaveLength(10_000);
    expect(merged.batch.entries.every((item, position) => item.index === position + 1)).toBe(true);
    expect(merged.lastEntry).toEqual({ index: 10_000, term: 1 });
  });

  it('refuses to merge a snapshot ready with any other', () => {
    const snapshot = { meta: { lastIncludedIndex: 3, lastIncludedTerm: 1 }, state: new Uint8Array(), discardLogThrough: 3 };
    expect(() => mergeReadies([ready({ snapshot }), ready({ entries: [entry(4, 1)] })])).toThrow(/written alone/);
  });
});
