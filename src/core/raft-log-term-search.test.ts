// The log's term searches (firstIndexOfTerm, answered by a follower to every rejected probe, and
// lastIndexOfTerm, read by the leader for every rejection) find their runs by halving since
// 2026-12-07; before, they walked the log one entry at a time, which for a follower holding one
// long term was the whole log per rejection. Checked here against that walk, kept as the model,
// on random logs (terms never decrease along a log) with and without a compacted prefix.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRaftLog } from './raft-log.ts';
import type { LogEntry } from './types.ts';

interface Model {
  readonly floor: number;
  readonly floorTerm: number;
  readonly terms: readonly number[];
}

function termOf(model: Model, index: number): number {
  return model.terms[index - model.floor - 1] as number;
}

/** The walk the log used before. */
function firstIndexOfTermByWalking(model: Model, term: number, atOrBefore: number): number {
  let index = Math.min(atOrBefore, model.floor + model.terms.length);
  while (index > model.floor + 1 && termOf(model, index - 1) === term) index -= 1;
  return index;
}

function lastIndexOfTermByWalking(model: Model, term: number): number {
  for (let index = model.floor + model.terms.length; index > model.floor; index -= 1) {
    const entryTerm = termOf(model, index);
    if (entryTerm === term) return index;
    if (entryTerm < term) return 0;
  }
  return model.floorTerm === term ? model.floor : 0;
}

const models: fc.Arbitrary<Model> = fc
  .record({ floor: fc.nat({ max: 50 }), floorTerm: fc.nat({ max: 4 }), steps: fc.array(fc.nat({ max: 2 }), { maxLength: 80 }) })
  .map(({ floor, floorTerm: drawnFloorTerm, steps }) => {
    // Each step raises the term by 0, 1 or 2 from the one before: long runs, short runs and gaps.
    const floorTerm = floor === 0 ? 0 : drawnFloorTerm; // the empty log's floor is index 0, term 0
    const terms: number[] = [];
    let term = floorTerm;
    for (const step of steps) {
      term += step;
      terms.push(Math.max(term, 1));
    }
    return { floor, floorTerm, terms };
  });

function logOf(model: Model) {
  const entries: LogEntry[] = model.terms.map((term, offset) => ({ index: model.floor + 1 + offset, term, command: new Uint8Array(0) }) as LogEntry);
  return createRaftLog(model.floor, model.floorTerm, entries);
}

describe('the log finds a term’s run by halving, as the walk did', () => {
  it('firstIndexOfTerm and lastIndexOfTerm agree with the walk for every term and start', () => {
    fc.assert(
      fc.property(models, (model) => {
        const log = logOf(model);
        const last = model.floor + model.terms.length;
        const highestTerm = Math.max(model.floorTerm, ...model.terms);
        for (let term = 0; term <= highestTerm + 1; term += 1) {
          expect(log.lastIndexOfTerm(term), `lastIndexOfTerm(${term})`).toBe(lastIndexOfTermByWalking(model, term));
          for (let start = Math.max(0, model.floor - 1); start <= last + 2; start += 1) {
            expect(log.firstIndexOfTerm(term, start), `firstIndexOfTerm(${term}, ${start})`).toBe(firstIndexOfTermByWalking(model, term, start));
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps agreeing after truncation and compaction', () => {
    const terms = [1, 1, 1, 2, 2, 4, 4, 4, 4, 5, 7, 7];
    const log = createRaftLog(0, 0, terms.map((term, offset) => ({ index: offset + 1, term, command: new Uint8Array(0) }) as LogEntry));
    log.truncateFrom(11); // terms 1 1 1 2 2 4 4 4 4 5
    log.compactThrough(4, 2); // floor 4 (term 2), entries 5..10: 2 4 4 4 4 5
    const model: Model = { floor: 4, floorTerm: 2, terms: [2, 4, 4, 4, 4, 5] };
    for (let term = 0; term <= 8; term += 1) {
      expect(log.lastIndexOfTerm(term)).toBe(lastIndexOfTermByWalking(model, term));
      for (let start = 3; start <= 12; start += 1) expect(log.firstIndexOfTerm(term, start)).toBe(firstIndexOfTermByWalking(model, term, start));
    }
    expect([log.lastIndexOfTerm(2), log.lastIndexOfTerm(4), log.firstIndexOfTerm(4, 9), log.lastIndexOfTerm(7)]).toEqual([5, 9, 6, 0]);
  });

  it('refuses entries handed to it whose terms go down', () => {
    const entries = [1, 3, 2].map((term, offset) => ({ index: offset + 1, term, command: new Uint8Array(0) }) as LogEntry);
    expect(() => createRaftLog(0, 0, entries)).toThrow(/log entry 3 has term 2 after term 3/);
    expect(() => createRaftLog(5, 4, [{ index: 6, term: 3, command: new Uint8Array(0) } as LogEntry])).toThrow(/log entry 6 has term 3 after term 4/);
  });
});
