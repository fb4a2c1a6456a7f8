// The in-memory Raft log: entries after the snapshot floor, with the floor's index and term
// standing in for everything compacted. Indices are 1-based; index 0 / term 0 is the empty log.
import type { LogEntry } from './types.ts';
import { assert } from './assert.ts';

export interface RaftLog {
  readonly floorIndex: number;
  readonly floorTerm: number;
  readonly lastIndex: number;
  readonly lastTerm: number;
  /** The term at `index`, or undefined when it is below the floor or past the end. */
  termAt(index: number): number | undefined;
  entryAt(index: number): LogEntry | undefined;
  /** Entries in [fromIndex, toIndexInclusive], which must lie above the floor. */
  slice(fromIndex: number, toIndexInclusive: number): LogEntry[];
  append(entry: LogEntry): void;
  /** Removes every entry at or after `index` (index > floor). */
  truncateFrom(index: number): void;
  firstIndexOfTerm(term: number, atOrBefore: number): number;
  lastIndexOfTerm(term: number): number;
  /** Drops entries through `index` and moves the floor there (index must be in the log or the floor). */
  compactThrough(index: number, term: number): void;
}

export function createRaftLog(floorIndex: number, floorTerm: number, entries: readonly LogEntry[]): RaftLog {
  // Entries live in an array whose slot 0 holds index floor+1. Compaction shifts by splicing,
  // which is rare (snapshots), while appends and lookups stay O(1).
  let floor = floorIndex;
  let floorTermValue = floorTerm;
  let items: LogEntry[] = [];
  for (const entry of entries) {
    if (entry.index <= floor) continue;
    items.push(entry);
  }
  items.forEach((entry, offset) => {
    assert(entry.index === floor + 1 + offset, `log entries are not contiguous at index ${entry.index}`);
    // append checks this of every later entry; the term searches below rely on it.
    const previousTerm = offset === 0 ? floorTermValue : (items[offset - 1] as LogEntry).term;
    assert(entry.term >= previousTerm, `log entry ${entry.index} has term ${entry.term} after term ${previousTerm}`);
  });

  /** The term of an entry above the floor (callers keep `index` in floor+1..lastIndex). */
  const termOf = (index: number): number => (items[index - floor - 1] as LogEntry).term;

  /** The least index in floor+1..upTo whose term is at least `term`; upTo when none below it is. */
  const firstIndexWithTermAtLeast = (term: number, upTo: number): number => {
    let low = floor + 1;
    let high = upTo;
    while (low < high) {
      const middle = low + Math.floor((high - low) / 2);
      if (termOf(middle) >= term) high = middle;
      else low = middle + 1;
    }
    return low;
  };

  /** The greatest index in floor+1..lastIndex whose term is at most `term`, or the floor when none is. */
  const lastIndexWithTermAtMost = (term: number): number => {
    let low = floor;
    let high = floor + items.length;
    while (low < high) {
      const middle = low + Math.ceil((high - low) / 2);
      if (termOf(middle) <= term) low = middle;
      else high = middle - 1;
    }
    return low;
  };

  const log: RaftLog = {
    get floorIndex() {
      return floor;
    },
    get floorTerm() {
      return floorTermValue;
    },
    get lastIndex() {
      return floor + items.length;
    },
    get lastTerm() {
      const last = items[items.length - 1];
      return last === undefined ? floorTermValue : last.term;
    },
    termAt(index) {
      if (index === floor) return floorTermValue;
      if (index < floor) return undefined;
      return items[index - floor - 1]?.term;
    },
    entryAt(index) {
      if (index <= floor) return undefined;
      return items[index - floor - 1];
    },
    slice(fromIndex, toIndexInclusive) {
      assert(fromIndex > floor, `slice from ${fromIndex} reaches below the floor ${floor}`);
      return items.slice(fromIndex - floor - 1, toIndexInclusive - floor);
    },
    append(entry) {
      assert(entry.index === floor + items.length + 1, `append at ${entry.index} after last index ${floor + items.length}`);
      const previousTerm = items.length === 0 ? floorTermValue : (items[items.length - 1] as LogEntry).term;
      assert(entry.term >= previousTerm, `append of term ${entry.term} after term ${previousTerm}`);
      items.push(entry);
    },
    truncateFrom(index) {
      assert(index > floor, `truncate at ${index} reaches the floor ${floor}`);
      if (index - floor - 1 < items.length) items.length = index - floor - 1;
    },
    firstIndexOfTerm(term, atOrBefore) {
      // The start of the run of `term` that ends just below `start` (or `start` itself when the
      // entry below it has another term). Terms never decrease along the log, so each run is
      // found by halving: a follower answers every rejected probe with it, and a leader reads
      // lastIndexOfTerm for every rejection, where a scan cost one step per entry of the run
      // (the whole log, for a follower that holds one long term).
      const start = Math.min(atOrBefore, floor + items.length);
      if (start <= floor + 1 || termOf(start - 1) !== term) return start;
      return firstIndexWithTermAtLeast(term, start - 1);
    },
    lastIndexOfTerm(term) {
      const last = lastIndexWithTermAtMost(term);
      if (last === floor) return floorTermValue === term ? floor : 0;
      return termOf(last) === term ? last : 0;
    },
    compactThrough(index, term) {
      if (index <= floor) return;
      if (index >= floor + items.length) {
        items = [];
      } else {
        assert(log.termAt(index) === term, `compaction term mismatch at ${index}`);
        items = items.slice(index - floor);
      }
      floor = index;
      floorTermValue = term;
    },
  };
  return log;
}
