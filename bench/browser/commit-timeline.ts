// Joins what `bench:browser-diagnose --timeline` collected (the leader page's commits and every
// engine worker's marks, bench/pages/commit-timeline.ts) into one timeline per commit, and sums
// the timelines up stage by stage.
//
// The critical path of a commit at light load, whose stages add up to its whole latency:
//   page: propose() → proposeBatch posted → leader worker receives it → AppendEntries handed to
//   the data channels → the first follower to answer receives it → its write completes → its
//   answer is handed to its channel → the leader receives it → (the leader's own write, if it is
//   still running) → the answer event is posted to the page → the page's promise resolves.
// Means add up to the mean total; the p50 and p90 of each stage are what to compare.
import { percentile } from '../statistics.ts';
import type { PageCommit, WorkerMarks } from '../pages/commit-timeline.ts';

type Write = WorkerMarks['writes'][number];

export interface FollowerPath {
  readonly node: string;
  readonly receivedMs: number;
  readonly write: Write;
  readonly answerSentMs: number;
  readonly answerSendReturnedMs: number;
  /** At the leader. */
  readonly answerReceivedMs: number;
  /** A write of this follower's was still running when the frame arrived (it waits for it). */
  readonly waitedForWrite: boolean;
}

export interface CommitTimeline {
  readonly page: PageCommit;
  readonly proposeReceivedMs: number;
  readonly appendSentMs: number;
  /** The first AppendEntries' send() returned. */
  readonly appendSendReturnedMs: number;
  /**
   * Data channel messages the leader sent between the commit and the answer's event batch (the
   * commit news to the followers): when the first send() was called and the last returned.
   */
  readonly sendsAfterCommit: { readonly count: number; readonly firstMs: number; readonly lastReturnedMs: number } | null;
  readonly leaderWrite: Write;
  readonly answerPostedMs: number;
  /** The first follower to answer, then the other. */
  readonly followers: readonly FollowerPath[];
  /** The later of the leader's own write and the first follower's answer at the leader. */
  readonly commitReadyMs: number;
}

const contains = (mark: { readonly firstIndex: number | null; readonly lastIndex: number | null }, index: number): boolean =>
  mark.firstIndex !== null && mark.lastIndex !== null && mark.firstIndex <= index && index <= mark.lastIndex;

/** Timelines of the commits whose every mark was found; the rest are counted as missing. */
export function joinTimelines(commits: readonly PageCommit[], marks: readonly WorkerMarks[], leaderId: string): { timelines: CommitTimeline[]; missing: number } {
  const leader = marks.find((each) => each.node === leaderId);
  if (leader === undefined) return { timelines: [], missing: commits.length };
  const followers = marks.filter((each) => each.node !== leaderId);
  const timelines: CommitTimeline[] = [];
  for (const page of commits) {
    const timeline = joinOne(page, leader, followers);
    if (timeline !== null) timelines.push(timeline);
  }
  return { timelines, missing: commits.length - timelines.length };
}

/** The last mark at or before `atMs` (marks ascending). */
function lastAtOrBefore(marks: readonly number[], atMs: number): number | undefined {
  let found: number | undefined;
  for (const mark of marks) {
    if (mark > atMs) break;
    found = mark;
  }
  return found;
}

function joinOne(page: PageCommit, leader: WorkerMarks, followers: readonly WorkerMarks[]): CommitTimeline | null {
  const { index } = page;
  // The first AppendEntries carrying the entry after the page posted it: one commit at a time, so
  // the proposal that arrived last before it is this commit's.
  const appendSent = leader.appendsSent.find((each) => contains(each, index) && each.atMs >= page.postedMs);
  const leaderWrite = leader.writes.find((write) => contains(write, index));
  if (appendSent === undefined || leaderWrite === undefined) return null;
  const proposeReceivedMs = lastAtOrBefore(leader.proposals, appendSent.atMs);
  if (proposeReceivedMs === undefined || proposeReceivedMs < page.postedMs) return null;
  const paths: FollowerPath[] = [];
  for (const follower of followers) {
    const received = follower.appendsReceived.find((each) => each.from === leader.node && contains(each, index));
    const write = follower.writes.find((each) => contains(each, index));
    const answerSent = follower.answersSent.find((each) => each.success && each.matchIndex >= index && write !== undefined && each.atMs >= write.endMs);
    const answerReceived = leader.answersReceived.find((each) => each.from === follower.node && each.success && each.matchIndex >= index);
    if (received === undefined || write === undefined || answerSent === undefined || answerReceived === undefined) continue;
    const waitedForWrite = follower.writes.some((other) => other !== write && other.startMs <= received.atMs && other.endMs > received.atMs);
    paths.push({ node: follower.node, receivedMs: received.atMs, write, answerSentMs: answerSent.atMs, answerSendReturnedMs: answerSent.returnedMs, answerReceivedMs: answerReceived.atMs, waitedForWrite });
  }
  paths.sort((left, right) => left.answerReceivedMs - right.answerReceivedMs);
  const first = paths[0];
  if (first === undefined) return null;
  const commitReadyMs = Math.max(leaderWrite.endMs, first.answerReceivedMs);
  // The answer goes out with the first event batch after the commit (the commit index's state
  // event and the answer are queued in the same task).
  const answerPostedMs = leader.eventBatches.find((atMs) => atMs >= commitReadyMs);
  if (answerPostedMs === undefined || answerPostedMs > page.resolvedMs) return null;
  const after = leader.messagesSent.filter((message) => message.atMs >= commitReadyMs && message.atMs <= answerPostedMs);
  const sendsAfterCommit = after.length === 0 ? null : { count: after.length, firstMs: (after[0] as { atMs: number }).atMs, lastReturnedMs: Math.max(...after.map((message) => message.returnedMs)) };
  return { page, proposeReceivedMs, appendSentMs: appendSent.atMs, appendSendReturnedMs: appendSent.returnedMs, sendsAfterCommit, leaderWrite, answerPostedMs, followers: paths, commitReadyMs };
}

export interface StageRow {
  readonly stage: string;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly meanMs: number;
  /** On the critical path: these rows' means add up to the total's. */
  readonly onPath: boolean;
}

type Stage = readonly [name: string, onPath: boolean, delta: (timeline: CommitTimeline) => number | null];

const firstFollower = (timeline: CommitTimeline): FollowerPath => timeline.followers[0] as FollowerPath;
const secondFollower = (timeline: CommitTimeline): FollowerPath | null => timeline.followers[1] ?? null;

const stages: readonly Stage[] = [
  ['page: propose() → proposeBatch posted', true, (t) => t.page.postedMs - t.page.proposedMs],
  ['page → leader worker: proposeBatch arrives', true, (t) => t.proposeReceivedMs - t.page.postedMs],
  ['leader worker: proposeBatch → AppendEntries on the channel', true, (t) => t.appendSentMs - t.proposeReceivedMs],
  ['channel: leader → first follower engine', true, (t) => firstFollower(t).receivedMs - t.appendSentMs],
  ['first follower: frame → its write complete', true, (t) => firstFollower(t).write.endMs - firstFollower(t).receivedMs],
  ['first follower: write complete → answer on the channel', true, (t) => firstFollower(t).answerSentMs - firstFollower(t).write.endMs],
  ['channel: first follower → leader engine', true, (t) => firstFollower(t).answerReceivedMs - firstFollower(t).answerSentMs],
  ['leader: answer → own write complete (0 if done before)', true, (t) => t.commitReadyMs - firstFollower(t).answerReceivedMs],
  ['leader worker: commit → answer event posted', true, (t) => t.answerPostedMs - t.commitReadyMs],
  ['leader worker → page: promise resolved', true, (t) => t.page.resolvedMs - t.answerPostedMs],
  ['total: propose() → resolved', false, (t) => t.page.resolvedMs - t.page.proposedMs],
  ['  first follower: frame → write called', false, (t) => firstFollower(t).write.startMs - firstFollower(t).receivedMs],
  ['  first follower: write called → requests issued (synchronous part)', false, (t) => firstFollower(t).write.issuedMs - firstFollower(t).write.startMs],
  ['  first follower: write called → complete', false, (t) => firstFollower(t).write.endMs - firstFollower(t).write.startMs],
  ['  leader: AppendEntries on the channel → first answer received', false, (t) => firstFollower(t).answerReceivedMs - t.appendSentMs],
  ['  leader: the AppendEntries\' send() call (called → returned)', false, (t) => t.appendSendReturnedMs - t.appendSentMs],
  ['  first follower: the answer\'s send() call (called → returned)', false, (t) => firstFollower(t).answerSendReturnedMs - firstFollower(t).answerSentMs],
  ['  leader worker: commit → first frame on a channel after it (commit news)', false, (t) => (t.sendsAfterCommit === null ? null : t.sendsAfterCommit.firstMs - t.commitReadyMs)],
  ['  leader worker: send() calls between the commit and the answer (first called → last returned)', false, (t) => (t.sendsAfterCommit === null ? null : t.sendsAfterCommit.lastReturnedMs - t.sendsAfterCommit.firstMs)],
  ['  leader worker: last of those send() returned → answer event posted', false, (t) => (t.sendsAfterCommit === null ? null : t.answerPostedMs - t.sendsAfterCommit.lastReturnedMs)],
  ['  leader worker: proposeBatch → own write called', false, (t) => t.leaderWrite.startMs - t.proposeReceivedMs],
  ['  leader: write called → requests issued (synchronous part)', false, (t) => t.leaderWrite.issuedMs - t.leaderWrite.startMs],
  ['  leader: write called → complete', false, (t) => t.leaderWrite.endMs - t.leaderWrite.startMs],
  ['  leader: own write complete → first answer received (negative: write later)', false, (t) => firstFollower(t).answerReceivedMs - t.leaderWrite.endMs],
  ['  second follower: AppendEntries on the channel → answer received', false, (t) => {
    const second = secondFollower(t);
    return second === null ? null : second.answerReceivedMs - t.appendSentMs;
  }],
  ['  second follower: write called → complete', false, (t) => {
    const second = secondFollower(t);
    return second === null ? null : second.write.endMs - second.write.startMs;
  }],
];

export function stageTable(timelines: readonly CommitTimeline[]): StageRow[] {
  return stages.map(([stage, onPath, delta]) => {
    const values = timelines.map(delta).filter((value): value is number => value !== null && Number.isFinite(value)).sort((left, right) => left - right);
    const meanMs = values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length;
    return { stage, p50Ms: percentile(values, 0.5), p90Ms: percentile(values, 0.9), meanMs, onPath };
  });
}

/** Counts that say which way each commit went. */
export interface TimelineCounts {
  readonly commits: number;
  /** The leader's own write completed after the first follower's answer arrived. */
  readonly leaderWriteLast: number;
  /** The first follower's frame arrived while one of its writes was running. */
  readonly followerWaitedForWrite: number;
}

export function timelineCounts(timelines: readonly CommitTimeline[]): TimelineCounts {
  return {
    commits: timelines.length,
    leaderWriteLast: timelines.filter((timeline) => timeline.leaderWrite.endMs > firstFollower(timeline).answerReceivedMs).length,
    followerWaitedForWrite: timelines.filter((timeline) => firstFollower(timeline).waitedForWrite).length,
  };
}
