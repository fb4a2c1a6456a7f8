// The timeline join of bench:browser-diagnose --timeline: which marks make up one commit, who
// counts as the first follower, and that the critical path's stages add up to the whole commit.
import { describe, expect, it } from 'vitest';
import type { PageCommit, WorkerMarks } from '../pages/commit-timeline.ts';
import { joinTimelines, stageTable, timelineCounts } from './commit-timeline.ts';

const marks = (node: string, fields: Partial<WorkerMarks>): WorkerMarks => ({
  node,
  proposals: [],
  appendsSent: [],
  appendsReceived: [],
  answersSent: [],
  answersReceived: [],
  writes: [],
  eventBatches: [],
  messagesSent: [],
  framesThroughPage: [],
  notes: [],
  ...fields,
});

const write = (startMs: number, endMs: number, index: number): WorkerMarks['writes'][number] => ({ startMs, issuedMs: startMs + 0.5, endMs, firstIndex: index, lastIndex: index, hardState: false });

// Commit 7: proposed at 100, the leader sends at 101, follower b answers first (received 106),
// follower c later (108), the leader's own write ends at 105, the answer is posted at 106.5.
const page: PageCommit = { index: 7, proposedMs: 100, postedMs: 100.1, resolvedMs: 107 };
const leader = marks('a', {
  proposals: [90, 100.3],
  appendsSent: [
    { atMs: 101, returnedMs: 101.1, channel: 1, firstIndex: 7, lastIndex: 7 },
    { atMs: 101.1, returnedMs: 101.2, channel: 2, firstIndex: 7, lastIndex: 7 },
  ],
  answersReceived: [
    { atMs: 95, from: 'b', success: true, matchIndex: 6 },
    { atMs: 106, from: 'b', success: true, matchIndex: 7 },
    { atMs: 108, from: 'c', success: true, matchIndex: 7 },
  ],
  writes: [write(100.5, 105, 7)],
  eventBatches: [99, 106.5],
  messagesSent: [
    { atMs: 101, returnedMs: 101.1, channel: 1, frames: ['appendEntries(1)'] },
    { atMs: 101.1, returnedMs: 101.2, channel: 2, frames: ['appendEntries(1)'] },
    { atMs: 106.1, returnedMs: 106.2, channel: 1, frames: ['appendEntries(0)'] },
    { atMs: 106.2, returnedMs: 106.4, channel: 2, frames: ['appendEntries(0)'] },
  ],
});
const followerB = marks('b', {
  appendsReceived: [{ atMs: 102, from: 'a', firstIndex: 7, lastIndex: 7 }],
  writes: [write(102.1, 105, 7)],
  answersSent: [{ atMs: 105.2, returnedMs: 105.4, channel: 1, success: true, matchIndex: 7 }],
});
const followerC = marks('c', {
  appendsReceived: [{ atMs: 102.5, from: 'a', firstIndex: 7, lastIndex: 7 }],
  writes: [write(101, 103, 6), write(103, 107, 7)],
  answersSent: [{ atMs: 107.2, returnedMs: 107.3, channel: 1, success: true, matchIndex: 7 }],
});

describe('joinTimelines', () => {
  it('finds each stage of a commit and the follower that answered first', () => {
    const { timelines, missing } = joinTimelines([page], [followerC, leader, followerB], 'a');
    expect(missing).toBe(0);
    const [timeline] = timelines;
    expect(timeline?.proposeReceivedMs).toBe(100.3);
    expect(timeline?.appendSentMs).toBe(101);
    expect(timeline?.followers.map((follower) => follower.node)).toEqual(['b', 'c']);
    expect(timeline?.followers[1]?.waitedForWrite).toBe(true);
    expect(timeline?.commitReadyMs).toBe(106);
    expect(timeline?.answerPostedMs).toBe(106.5);
    expect(timeline?.sendsAfterCommit).toEqual({ count: 2, firstMs: 106.1, lastReturnedMs: 106.4 });
    expect(timelineCounts(timelines)).toEqual({ commits: 1, leaderWriteLast: 0, followerWaitedForWrite: 0 });
  });

  it('adds the critical path up to the whole commit', () => {
    const rows = stageTable(joinTimelines([page], [leader, followerB, followerC], 'a').timelines);
    const onPath = rows.filter((row) => row.onPath).reduce((sum, row) => sum + row.meanMs, 0);
    expect(onPath).toBeCloseTo(7);
    expect(rows.find((row) => row.stage.startsWith('total'))?.p50Ms).toBeCloseTo(7);
  });

  it('leaves out a commit with a mark missing', () => {
    expect(joinTimelines([page], [leader, marks('b', {}), marks('c', {})], 'a')).toEqual({ timelines: [], missing: 1 });
  });
});
