// Arbitrary well-formed CatchUpEntries frames from a voter (an honest witness or a lying one)
// against receivers with a snapshot floor, a commit index and entries still being written: the
// engine never throws, no committed entry changes, the term never falls below the last entry's,
// and what is written matches the log in memory (a review's property test of catch-up.ts).
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { resolveRaftConfig } from './config.ts';
import type { CatchUpEntries } from './messages.ts';
import { RaftCore } from './raft-core.ts';
import { readyNeedsWrite, type Ready } from './ready.ts';
import { nodeId, type ClusterConfig, type LogEntry, type NodeId } from './types.ts';

const [a, b, w] = ['a', 'b', 'w'].map((n) => nodeId(n)) as [NodeId, NodeId, NodeId];
const config: ClusterConfig = { voters: [a, b, w], learners: [] };
const entryOf = (index: number, term: number, tag: number): LogEntry => ({ index, term, command: new Uint8Array([tag]), isNoOp: false });

it('catch-up frames never throw, never touch committed entries, and leave the written log equal to the log in memory', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 10 }), // durable log length (after floor)
      fc.integer({ min: 0, max: 4 }), // floor
      fc.integer({ min: 0, max: 4 }), // unwritten appended via AE
      fc.integer({ min: 0, max: 14 }), // leaderCommit
      fc.integer({ min: 0, max: 20 }), // prevLogIndex
      fc.integer({ min: 0, max: 8 }), // entries
      fc.integer({ min: 0, max: 3 }), // frame term above receiver
      fc.integer({ min: 0, max: 6 }),
      fc.integer(),
      fc.boolean(),
      (n, floor, unwritten, leaderCommit, prevLogIndex, count, frameUp, prevTermPick, seed, witnessReceiver) => {
        let s = seed;
        const nextRandom = (): number => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
        let t = 1 + Math.floor(nextRandom() * 2);
        const logTerms: number[] = [];
        for (let i = 0; i < floor + n + unwritten; i += 1) {
          if (nextRandom() < 0.3) t += 1;
          logTerms.push(t);
        }
        const all = logTerms.map((term, i) => entryOf(i + 1, term, 1));
        const stored = all.slice(floor, floor + n);
        const floorTerm = floor === 0 ? 0 : (logTerms[floor - 1] as number);
        const receiverTerm = (logTerms[logTerms.length - 1] ?? 1) + Math.floor(nextRandom() * 2);
        const core = new RaftCore({ id: b, config: resolveRaftConfig({ witness: witnessReceiver, electionTimeoutMin: 150, electionTimeoutMax: 300 }), random: () => 0.5, now: 0, bootstrap: config, hardState: { term: receiverTerm, votedFor: null }, leaderPin: null, snapshotMeta: floor === 0 ? null : { lastIncludedIndex: floor, lastIncludedTerm: floorTerm }, snapshotState: floor === 0 ? undefined : new Uint8Array(0), entries: stored } as never);
        core.tracing = true;
        let durable: LogEntry[] = [...stored];
        const take = (persist: boolean): Ready | null => {
          const ready = core.takeReady();
          if (ready === null) return null;
          if (persist && readyNeedsWrite(ready)) {
            if (ready.truncateFrom !== null) durable = durable.filter((e) => e.index < (ready.truncateFrom as number));
            durable.push(...ready.entries);
            const last = ready.entries[ready.entries.length - 1];
            core.persisted(0, last === undefined ? null : { index: last.index, term: last.term });
          }
          return ready;
        };
        take(true);
        // A leader of the receiver's term appends the unwritten tail and sets the commit index.
        const tail = all.slice(floor + n);
        const lastStored = floor + n;
        core.receive(10, a, { type: 'appendEntries', term: receiverTerm, prevLogIndex: lastStored, prevLogTerm: lastStored === floor ? floorTerm : (logTerms[lastStored - 1] as number), entries: tail, leaderCommit, readRound: 0 });
        const pending = core.takeReady(); // written later: in flight
        const commitBefore = core.commitIndex;
        const committed = new Map<number, number>();
        for (let i = floor + 1; i <= commitBefore; i += 1) committed.set(i, core.termAt(i) as number);
        // The catch-up, well after the leader went quiet.
        const frameTerm = receiverTerm + frameUp;
        let previousTerm = prevTermPick === 0 ? 0 : Math.min(frameTerm, (logTerms[prevLogIndex - 1] ?? 1) + (prevTermPick > 4 ? 1 : 0));
        if (prevLogIndex === 0) previousTerm = 0;
        const entryTerms: number[] = [];
        let entryTerm = Math.max(previousTerm, 1);
        for (let i = 0; i < count; i += 1) {
          if (nextRandom() < 0.4) entryTerm = Math.min(frameTerm, entryTerm + 1);
          entryTerms.push(entryTerm);
        }
        const message: CatchUpEntries = { type: 'catchUpEntries', term: frameTerm, prevLogIndex, prevLogTerm: previousTerm, entries: entryTerms.map((term, i) => entryOf(prevLogIndex + 1 + i, term, 2)) };
        core.receive(500, w, message);
        const after = core.takeReady();
        // The earlier write completes, then the new one.
        if (pending !== null && readyNeedsWrite(pending)) {
          if (pending.truncateFrom !== null) durable = durable.filter((e) => e.index < (pending.truncateFrom as number));
          durable.push(...pending.entries);
          const last = pending.entries[pending.entries.length - 1];
          core.persisted(501, last === undefined ? null : { index: last.index, term: last.term });
        }
        if (after !== null && readyNeedsWrite(after)) {
          if (after.truncateFrom !== null) durable = durable.filter((e) => e.index < (after.truncateFrom as number));
          durable.push(...after.entries);
          const last = after.entries[after.entries.length - 1];
          core.persisted(502, last === undefined ? null : { index: last.index, term: last.term });
        }
        take(true);
        for (const [i, term] of committed) expect(core.termAt(i)).toBe(term);
        expect(core.term).toBeGreaterThanOrEqual(core.termAt(core.lastIndex) ?? 0);
        // Durable log equals the in-memory log above the floor.
        const inMemory: Array<[number, number, number]> = [];
        for (let i = floor + 1; i <= core.lastIndex; i += 1) {
          const e = core.entryAt(i) as LogEntry;
          inMemory.push([e.index, e.term, e.command[0] as number]);
        }
        expect(durable.map((e) => [e.index, e.term, e.command[0]])).toEqual(inMemory);
      },
    ),
    { numRuns: 3_000 },
  );
});
