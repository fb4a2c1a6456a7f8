// The page half of `bench:browser-diagnose --timeline`: asks this page's engine worker to start
// and hand over its marks (browser-node-worker.ts, over the frame-watch BroadcastChannel), and on
// the leader's page proposes one command at a time, noting for each when propose() was called,
// when the proposeBatch call was posted to the worker (Worker.prototype.postMessage, patched while
// the commits run) and when the promise resolved.
import type { RaftNode } from '../../src/index.ts';
import type { PageCommit, WorkerMarks } from './commit-timeline.ts';

const wallClock = (): number => performance.timeOrigin + performance.now();
const replyTimeoutMs = 10_000;

function ask<T>(channel: BroadcastChannel, request: { timeline: 'start' | 'collect' }, isReply: (data: unknown) => data is T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onMessage = (event: MessageEvent<unknown>): void => {
      if (!isReply(event.data)) return;
      clearTimeout(timer);
      channel.removeEventListener('message', onMessage);
      resolve(event.data);
    };
    const timer = setTimeout(() => {
      channel.removeEventListener('message', onMessage);
      reject(new Error(`the engine worker did not answer ${request.timeline} within ${replyTimeoutMs} ms`));
    }, replyTimeoutMs);
    channel.addEventListener('message', onMessage);
    channel.postMessage(request);
  });
}

export async function startWorkerTimeline(channel: BroadcastChannel | null): Promise<void> {
  if (channel === null) throw new Error('the commit timeline needs the engine in a worker');
  await ask(channel, { timeline: 'start' }, (data): data is { timelineStarted: true } => (data as { timelineStarted?: unknown } | null)?.timelineStarted === true);
}

export async function collectWorkerTimeline(channel: BroadcastChannel | null): Promise<WorkerMarks> {
  if (channel === null) throw new Error('the commit timeline needs the engine in a worker');
  const reply = await ask(channel, { timeline: 'collect' }, (data): data is { marks: WorkerMarks } => typeof (data as { marks?: unknown } | null)?.marks === 'object');
  return reply.marks;
}

/** Proposes `count` 100-byte commands one at a time, `pauseMs` apart, and times each. */
export async function timelineCommits(node: RaftNode, count: number, pauseMs: number): Promise<PageCommit[]> {
  const commits: PageCommit[] = [];
  let postedMs = Number.NaN;
  const postMessage = Worker.prototype.postMessage as (this: Worker, message: unknown, transfer: Transferable[]) => void;
  Worker.prototype.postMessage = function timedPostMessage(this: Worker, message: unknown, transfer: Transferable[]): void {
    const path = (message as { path?: unknown } | null)?.path;
    if (Array.isArray(path) && path[0] === 'proposeBatch') postedMs = wallClock();
    postMessage.call(this, message, transfer);
  } as Worker['postMessage'];
  try {
    for (let commit = 0; commit < count; commit += 1) {
      postedMs = Number.NaN;
      const proposedMs = wallClock();
      const { index } = await node.propose(new Uint8Array(100).fill(5));
      commits.push({ index, proposedMs, postedMs, resolvedMs: wallClock() });
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  } finally {
    Worker.prototype.postMessage = postMessage as Worker['postMessage'];
  }
  return commits;
}
