// What the browser tests of the engine's worker share: a page whose main thread is blocked for
// longer than any election timeout must cost a cluster of worker nodes nothing, when the frames
// bypass the page (worker-isolation.browser.test.ts with a network worker,
// data-channels-in-worker.browser.test.ts with real WebRTC).
import { expect } from 'vitest';
import type { RaftMetric } from '../core/events.ts';
import type { NodeId } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import type { WorkerRaftConfig } from './protocol.ts';

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/**
 * Election timeouts of the block tests: the longest (1.8 s) is under the 2 s block, so a leader
 * whose engine stalled with the page would be replaced; the shortest (1.2 s) is far above the
 * stalls a shared 2-core machine causes a worker (the busy page itself takes one core).
 */
export const blockTestConfig: WorkerRaftConfig = { electionTimeoutMin: 1_200, electionTimeoutMax: 1_800, heartbeatInterval: 100 };
const blockMs = 2_000;

/** Elections the nodes report (their `onMetric`), to see that none happened across the block. */
export function recordElections(): { readonly elections: Array<{ node: NodeId; metric: RaftMetric }>; onMetric(node: NodeId): (metric: RaftMetric) => void } {
  const elections: Array<{ node: NodeId; metric: RaftMetric }> = [];
  return {
    elections,
    onMetric: (node) => (metric) => {
      if (metric.type === 'electionStarted' || metric.type === 'electionWon') elections.push({ node, metric });
    },
  };
}

/** Blocks this page's main thread for 2 s, then expects the same leader in the same term everywhere and no election. */
export async function blockPageAndExpectNoElection(nodes: readonly RaftNode[], leader: RaftNode, elections: readonly unknown[]): Promise<void> {
  const termBefore = leader.term.value;
  const electionsBefore = elections.length;
  const blockedUntil = performance.now() + blockMs;
  while (performance.now() < blockedUntil) {
    // Busy: the page's main thread runs nothing else (no timers, no messages, no rendering).
  }
  // A round trip to every worker after the block: everything each one reported before answering
  // (metrics, state) has been handled on the page by then.
  const entry = await leader.propose(bytes('after the block'));
  await Promise.all(nodes.map((node) => node.readIndex()));
  expect(entry.term).toBe(termBefore);
  expect(nodes.map((node) => node.term.value)).toEqual(nodes.map(() => termBefore));
  expect(nodes.map((node) => node.leader.value)).toEqual(nodes.map(() => leader.id));
  expect(leader.role.value).toBe('leader');
  expect(elections.slice(electionsBefore)).toEqual([]);
}
