// Guards: a leader whose storage write never completes stops, so that another can lead, instead of
// leading for ever while refusing every proposal. Since the session's admission change (the core
// refuses proposals once maxPendingProposals entries are not on the leader's own disk,
// leader-admission.test.ts), readies no longer pile up behind a hung write to the pipeline's count
// bound, which used to stop such a leader; it answered 'busy' and 'overloaded' for ever while its
// heartbeats kept its followers from electing anyone. A review of the session's fixes found it
// (2026-12-07, third session). Now the write in flight has a deadline (stuck-write-watch.ts), and
// a write that is slow, or whose completion a frozen process hears late, is not taken for stuck.
import { describe, expect, it } from 'vitest';
import type { RaftMetric } from '../core/events.ts';
import { clientId } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { CrashableStorage } from '../testing/crashable-storage.ts';
import { createPausableProcess } from '../testing/pausable-process.ts';
import { seededRandom } from '../testing/seeded-random.ts';
import { VirtualClock, drainMicrotasks } from '../testing/virtual-clock.ts';
import { createRaftNode } from './create-raft-node.ts';
import type { RaftNode } from './node-options.ts';
import { appendedIndexes, forwardAnswers, GatedStorage, handTiming, handTransport, type HandTransport, ids, leaderOfThreeByHand } from './hand-driven-node.test-support.ts';
import { stuckWriteBoundMs } from './stuck-write-watch.ts';

const timing = handTiming;

/** a, leading a, b and c, admitting at most 8 entries not settled. */
const leaderOfThree = (storage: GatedStorage, clock: VirtualClock, onMetric?: (metric: RaftMetric) => void): ReturnType<typeof leaderOfThreeByHand> =>
  leaderOfThreeByHand(storage, clock, { maxPendingProposals: 8, ...(onMetric === undefined ? {} : { onMetric }) });

const lastAppended = (transport: HandTransport): number => Math.max(1, ...appendedIndexes(transport));

/** One forward from b every `everyMs` for `durationMs`, b and c acknowledging the whole log each time. */
async function steadyForwards(node: RaftNode, transport: HandTransport, clock: VirtualClock, durationMs: number, everyMs = 10): Promise<void> {
  const b = clientId('b-client');
  for (let request = 1; request <= durationMs / everyMs && node.stopped.value === null; request += 1) {
    transport.deliver(ids.b, { type: 'forwardPropose', correlationId: request, command: new Uint8Array([request & 0xff]), dedupKey: { clientId: b, requestId: request }, proposerCommitIndex: 0 });
    await drainMicrotasks();
    for (const follower of [ids.b, ids.c]) {
      transport.deliver(follower, { type: 'appendEntriesResponse', term: 1, success: true, matchIndex: lastAppended(transport), conflictIndex: 0, conflictTerm: 0, readRound: 0 });
    }
    await clock.advance(everyMs);
  }
}

describe('a leader whose one storage write never completes, under a steady stream of proposals', () => {
  it('stops with a RaftStorageError once the write is past its deadline, instead of answering busy for ever', async () => {
    const clock = new VirtualClock();
    const storage = new GatedStorage();
    const metrics: RaftMetric[] = [];
    const { node, transport } = await leaderOfThree(storage, clock, (metric) => metrics.push(metric));
    storage.gated = true; // the next write hangs for good (a hung IndexedDB transaction, say)
    const hungAt = clock.now();
    await steadyForwards(node, transport, clock, 50_000);
    expect(forwardAnswers(transport, ids.b)).toContain('busy');
    expect(storage.pendingWrites).toBe(1);
    const error = node.stopped.value as (Error & { reason?: string }) | null;
    expect(error?.name).toBe('RaftStorageError');
    expect(error?.reason).toBe('unknown');
    expect(error?.message).toMatch(/^storage write has not completed in 31 s \(the storage appears stuck\); node stopped so that another node can lead$/);
    expect(clock.now() - hungAt).toBeGreaterThanOrEqual(stuckWriteBoundMs(timing.electionTimeoutMax));
    expect(clock.now() - hungAt).toBeLessThan(stuckWriteBoundMs(timing.electionTimeoutMax) + 2_000);
    expect(metrics.filter((metric) => metric.type === 'storageFailed')).toEqual([{ type: 'storageFailed', message: error?.message, reason: 'unknown' }]);
    // Its followers hear no more heartbeats, so one of them is elected.
    const sentWhenStopped = transport.sent.length;
    await clock.advance(1_000);
    expect(transport.sent.length).toBe(sentWhenStopped);
    storage.fail(new Error('released at the end of the test'));
  }, 60_000);

  it('keeps leading through a write that is slow but completes within the deadline, and the deadline is per write', async () => {
    const clock = new VirtualClock();
    const storage = new GatedStorage();
    const { node, transport } = await leaderOfThree(storage, clock);
    // Three writes in a row, each 25 s long (a large snapshot on a slow phone, say): 75 s in all.
    for (let slowWrite = 0; slowWrite < 3; slowWrite += 1) {
      storage.gated = true;
      await steadyForwards(node, transport, clock, 25_000, 100);
      expect(storage.pendingWrites).toBe(1);
      storage.gated = false;
      storage.release();
      await drainMicrotasks();
    }
    // And no deadline is left of them: 40 s more with its writes landing at once.
    await steadyForwards(node, transport, clock, 40_000, 100);
    expect(node.stopped.value).toBeNull();
    expect(node.role.value).toBe('leader');
    await node.close();
  }, 60_000);

  it('leaves no deadline behind when it is closed with the write in flight', async () => {
    const clock = new VirtualClock();
    const storage = new GatedStorage();
    const { node, transport } = await leaderOfThree(storage, clock);
    storage.gated = true;
    await steadyForwards(node, transport, clock, 100);
    expect(storage.pendingWrites).toBe(1);
    void node.close();
    await drainMicrotasks();
    expect(clock.pendingTimers).toBe(0);
    expect(node.stopped.value?.name).toBe('RaftClosedError');
    storage.fail(new Error('released at the end of the test'));
  });
});

describe('a node whose process froze longer than the deadline while its write was landing', () => {
  it('hears the write complete before it judges the write stuck', async () => {
    // A frozen tab or a suspended process: when it resumes, its timers that fell due run first,
    // the deadline's among them, and the news that the write landed comes a moment later.
    const shared = new VirtualClock();
    const process = createPausableProcess(shared, handTransport(ids.a, []));
    const storage = new CrashableStorage(new InMemoryRaftStorage(), process.clock, seededRandom(1), 2);
    const node = await createRaftNode({ id: ids.a, clusterConfig: { voters: [ids.a] }, transport: process.transport, storage, raftConfig: { clock: process.clock, ...timing } });
    expect(await shared.runUntil(() => node.role.value === 'leader', 5_000)).toBe(true);
    const proposed = node.propose(new Uint8Array([1]));
    await drainMicrotasks();
    expect(storage.pendingWrites).toBe(1);
    process.pause();
    await shared.advance(stuckWriteBoundMs(timing.electionTimeoutMax) + 10_000);
    process.resume('timersFirst');
    expect(await shared.runUntil(() => storage.pendingWrites === 0, 1_000)).toBe(true);
    expect((await proposed).index).toBeGreaterThan(0);
    await shared.advance(5_000);
    expect(node.stopped.value).toBeNull();
    await node.close();
  });
});
