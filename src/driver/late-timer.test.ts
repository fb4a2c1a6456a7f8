// A timer that fires late says the node's own thread was held up, and frames that arrived
// meanwhile wait behind it. The driver puts such a tick behind them once, so a follower does not
// campaign against a leader whose heartbeat is already in its queue (elections under overload in
// bench:browser), while a real silence still elects.
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../codec/index.ts';
import type { Clock } from '../core/config.ts';
import type { RaftMessage } from '../core/messages.ts';
import { createEmitter, createWatchable } from '../core/observable.ts';
import { nodeId, type NodeId, type RaftEnvelope } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { seededRandom } from '../testing/seeded-random.ts';
import { drainMicrotasks } from '../testing/virtual-clock.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { createRaftNode } from './create-raft-node.ts';

/** A clock whose thread can be held up: time moves on, and due timers wait for fireDue(). */
function heldClock() {
  let now = 0;
  let nextHandle = 1;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const clock: Clock = {
    now: () => now,
    setTimeout(fn, ms) {
      const handle = nextHandle++;
      timers.set(handle, { at: now + Math.max(0, ms), fn });
      return handle;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
  };
  return {
    clock,
    /** Time passes while the thread runs nothing. */
    hold(ms: number): void {
      now += ms;
    },
    /** Runs the timers due now, as tasks in order, each with the microtasks it causes. */
    async fireDue(): Promise<void> {
      const due = [...timers].filter(([, timer]) => timer.at <= now).sort(([leftHandle, left], [rightHandle, right]) => left.at - right.at || leftHandle - rightHandle);
      for (const [handle, timer] of due) {
        if (!timers.delete(handle)) continue;
        timer.fn();
        await drainMicrotasks();
      }
    },
  };
}

const [leaderId, followerId, thirdId] = ['a', 'b', 'c'].map((name) => nodeId(name)) as [NodeId, NodeId, NodeId];

async function followerOfA() {
  const held = heldClock();
  const incoming = createEmitter<RaftEnvelope>();
  const sent: RaftMessage[] = [];
  const transport: RaftTransport = {
    selfId: followerId,
    peers: createWatchable<ReadonlySet<NodeId>>(new Set([leaderId, thirdId])),
    incoming,
    send(_to, bytes) {
      const decoded = decodeMessage(bytes);
      if (decoded.ok) sent.push(decoded.value);
    },
  };
  const node = await createRaftNode({ id: followerId, clusterConfig: { voters: [leaderId, followerId, thirdId] }, transport, storage: new InMemoryRaftStorage(), raftConfig: { clock: held.clock, random: seededRandom(3) } });
  const heartbeat = async (): Promise<void> => {
    incoming.emit({ from: leaderId, bytes: encodeMessage({ type: 'appendEntries', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, readRound: 0 }) });
    await drainMicrotasks();
  };
  await heartbeat();
  expect(node.leader.value).toBe(leaderId);
  const campaigned = (): boolean => sent.some((message) => message.type === 'requestVote');
  return { held, node, heartbeat, campaigned };
}

describe('a timer that fires late', () => {
  it('lets the frames queued meanwhile in first: a follower held up past its election timeout does not campaign against a leader it has news from', async () => {
    const { held, node, heartbeat, campaigned } = await followerOfA();
    // Held up for 2 s (every election timeout is 150–300 ms); the leader kept sending. Worst
    // order: the election timer's task runs before the frame that arrived meanwhile.
    held.hold(2_000);
    await held.fireDue();
    await heartbeat();
    await held.fireDue();
    expect(campaigned()).toBe(false);
    expect(node.leader.value).toBe(leaderId);
    await node.close();
  });

  it('still campaigns when the silence was real', async () => {
    const { held, node, campaigned } = await followerOfA();
    held.hold(2_000);
    await held.fireDue();
    await held.fireDue();
    expect(campaigned()).toBe(true);
    await node.close();
  });

  it('still elects within the election timeout when every timer is punctual', async () => {
    const { held, node, campaigned } = await followerOfA();
    // Past every possible election timeout, but each step no later than the timers' tolerance.
    for (let elapsed = 0; elapsed < 400 && !campaigned(); elapsed += 5) {
      held.hold(5);
      await held.fireDue();
    }
    expect(campaigned()).toBe(true);
    await node.close();
  });
});
