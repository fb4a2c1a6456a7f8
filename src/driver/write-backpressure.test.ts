// Guards: a leader whose storage write is slow pushes back on new proposals instead of queuing a
// write per proposal until its bound on queued writes stops it. The bound was a fixed 4,096
// readies, enforced by stopping the node, and nothing pushed back earlier: a healthy leader whose
// one write was slow (a busy disk, a large snapshot) while followers' forwards kept arriving, one
// frame per task, stopped itself for good. An outside review found it (2026-12-07, third
// session). Now the core refuses proposals past maxPendingProposals entries not yet on the
// leader's disk (src/core/leader-admission.test.ts), and the bound is sized from that
// (write-pipeline.ts queuedReadiesBound, capped so it does not grow with a huge
// maxPendingProposals). A write that hangs is caught by its deadline (stuck-write.test.ts).
import { describe, expect, it } from 'vitest';
import { clientId } from '../core/types.ts';
import { VirtualClock, drainMicrotasks } from '../testing/virtual-clock.ts';
import { createRaftNode } from './create-raft-node.ts';
import type { RaftNode } from './node-options.ts';
import { appendedIndexes, forwardAnswers, GatedStorage, handTransport, type HandTransport, ids, leaderOfThreeByHand } from './hand-driven-node.test-support.ts';
import { queuedReadiesBound } from './write-pipeline.ts';

/** a, leading a, b and c, on a clock of its own. */
const leaderOfThree = (storage: GatedStorage, maxPendingProposals?: number): ReturnType<typeof leaderOfThreeByHand> =>
  leaderOfThreeByHand(storage, new VirtualClock(), maxPendingProposals === undefined ? {} : { maxPendingProposals });

/** Forwards from b, each in a task of its own, as frames from a real transport arrive. */
async function forwardProposals(node: RaftNode, transport: HandTransport, from: number, count: number): Promise<number> {
  const b = clientId('b-client');
  let delivered = 0;
  for (let request = from; request < from + count && node.stopped.value === null; request += 1) {
    transport.deliver(ids.b, { type: 'forwardPropose', correlationId: request, command: new Uint8Array([request & 0xff]), dedupKey: { clientId: b, requestId: request }, proposerCommitIndex: 0 });
    await drainMicrotasks();
    delivered += 1;
  }
  return delivered;
}

describe('a leader whose storage write is slow under a stream of forwarded proposals', () => {
  it('does not stop itself when readies pile up behind the slow write', async () => {
    const storage = new GatedStorage();
    const { node, transport } = await leaderOfThree(storage);
    // One write takes long (here: it waits until released); meanwhile forwards arrive.
    storage.gated = true;
    const delivered = await forwardProposals(node, transport, 1, 4_200);
    expect({ stopped: node.stopped.value?.message ?? null, delivered }).toEqual({ stopped: null, delivered: 4_200 });
    storage.gated = false;
    storage.release();
    await node.close();
  });

  it('answers busy once maxPendingProposals entries wait for its disk, though its followers committed them, and appends again once the write lands', async () => {
    const storage = new GatedStorage();
    const { node, transport } = await leaderOfThree(storage, 8);
    storage.gated = true;
    for (let request = 1; request <= 20; request += 1) {
      await forwardProposals(node, transport, request, 1);
      // b and c hold everything at once: the entries commit without the leader's own disk.
      const lastIndex = Math.max(1, ...appendedIndexes(transport));
      for (const follower of [ids.b, ids.c]) {
        transport.deliver(follower, { type: 'appendEntriesResponse', term: 1, success: true, matchIndex: lastIndex, conflictIndex: 0, conflictTerm: 0, readRound: 0 });
      }
      await drainMicrotasks();
    }
    // The first forwards, then refusals: nothing queues behind the slow write without bound.
    const answers = forwardAnswers(transport, ids.b);
    expect(answers.filter((type) => type === 'appended').length).toBeLessThanOrEqual(8);
    expect(answers.slice(-10)).toEqual(Array(10).fill('busy'));
    expect(storage.pendingWrites).toBe(1);
    expect(node.stopped.value).toBeNull();

    storage.gated = false;
    storage.release();
    await drainMicrotasks();
    const before = forwardAnswers(transport, ids.b).length;
    await forwardProposals(node, transport, 100, 1);
    expect(forwardAnswers(transport, ids.b).slice(before)).toEqual(['appended']);
    await node.close();
  });
});

describe('a storage that is truly stuck', () => {
  it('still ends in a clear failure once the bound on queued writes is reached', async () => {
    // A follower whose one write never completes while candidates keep asking for its vote: each
    // new term is a write (hard state) that no admission bound holds back.
    const maxPendingProposals = 1;
    const storage = new GatedStorage();
    const transport = handTransport(ids.b, [ids.a, ids.c]);
    const quiet = { electionTimeoutMin: 100_000, electionTimeoutMax: 200_000, heartbeatInterval: 1_000, maxPendingProposals };
    const node = await createRaftNode({ id: ids.b, clusterConfig: { voters: [ids.a, ids.b, ids.c] }, transport, storage, raftConfig: quiet });
    const bound = queuedReadiesBound(maxPendingProposals);
    for (let term = 1; term <= bound + 10 && node.stopped.value === null; term += 1) {
      const candidate = term % 2 === 0 ? ids.a : ids.c;
      transport.deliver(candidate, { type: 'requestVote', term, lastLogIndex: 0, lastLogTerm: 0, preVote: false, transfer: false });
      await drainMicrotasks();
    }
    expect(storage.pendingWrites).toBe(1);
    expect(node.stopped.value?.name).toBe('RaftStorageError');
    expect(node.stopped.value?.message).toMatch(new RegExp(`storage write has not completed while ${bound} more writes queued behind it \\(the storage appears stuck\\)`));
    storage.fail(new Error('released at the end of the test'));
  });
});

describe('the bound on readies queued behind a write', () => {
  it('follows maxPendingProposals (twice, plus term and vote changes) up to a fixed cap, above the default configuration', () => {
    expect(queuedReadiesBound(1)).toBe(4_098);
    expect(queuedReadiesBound(100_000)).toBe(204_096);
    // A configuration of millions must not let millions of readies buffer behind a slow write.
    expect(queuedReadiesBound(10_000_000)).toBe(262_144);
  });
});
