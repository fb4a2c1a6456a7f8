// The rejoin after a wedge goes on when the application's listener throws on the `wedged` event
// (join-room.ts hands events over through emitSafely). The wedge is reported by hand through the
// node's metric callback, its sender's frames refused on and on as a real wedge's are
// (wedge-report.test-support.ts): building a real one takes a removed member and a stale
// configuration, which the room simulation covers; here only the rejoin path matters.
import { describe, expect, it } from 'vitest';
import type { RaftMetric } from '../core/events.ts';
import { createWatchable, type WritableWatchable } from '../core/observable.ts';
import { nodeId, type NodeId } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { createRaftNode } from '../driver/create-raft-node.ts';
import { deriveSeed, seededRandom } from '../testing/seeded-random.ts';
import { createSimulatedNetwork, reliableNetwork } from '../testing/simulated-network.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { currentEndpoint, stubSignaling } from './simulated-room-endpoints.test-support.ts';
import { joinRoom } from './join-room.ts';
import type { RoomEvent } from './room-events.ts';
import { memoryKeyValueStore } from './room-identity.ts';
import { kvReducer } from './room-simulation-peers.test-support.ts';
import { collectingRejections } from './unhandled-rejections.test-support.ts';
import { manualVisibility } from './visibility.ts';
import { reportWedge } from './wedge-report.test-support.ts';
import { joinLoneRoom } from './lone-room.test-support.ts';

describe('joinRoom rejoin after a wedge', () => {
  it('still rejoins under a fresh id when the application listener throws on the wedged event', async () => {
    const raised = await collectingRejections(async () => {
      const { clock, room, events, report } = await joinLoneRoom(811, 'wedge', (event) => {
        if (event.type === 'wedged') throw new Error('the application listener broke');
      });
      await clock.runUntil(() => room.node.role.value === 'leader', { timeoutMs: 5_000 });
      const firstId = room.id;
      // It follows only the peer it refuses (here: itself, the only leader there is): wedged.
      const refusing = reportWedge(clock, report, { type: 'wedgeSuspected', from: firstId, localTerm: 1, remoteTerm: 1, voters: [firstId], gate: 'senderNotVoter' });
      const rejoined = await clock.runUntil(() => events.some((event) => event.type === 'rejoined' || event.type === 'rejoinFailed'), { timeoutMs: 10_000 });
      expect(rejoined).toBe(true);
      refusing.stop();
      expect(room.id).not.toBe(firstId);
      expect(events.find((event) => event.type === 'rejoined')).toMatchObject({ previousId: firstId, id: room.id });
      const leaving = room.leave();
      await clock.advance(100);
      await leaving;
    });
    expect(raised).toHaveLength(1);
  });

  it('looks again at a report it dismissed: once the leader the node named is gone, the peer rejoins, with no second report (the node reports a sender once)', async () => {
    const test = await roomNamingLeader(812);
    const firstId = test.room.id;
    // The node names itself: a report about a sender it keeps refusing is dismissed, as a healthy member's is.
    const refusing = reportWedge(test.clock, test.report, { type: 'wedgeSuspected', from: nodeId('stranger'), localTerm: 1, remoteTerm: 2, voters: [firstId], gate: 'senderNotVoter' });
    expect(await test.clock.runUntil(() => test.events.some((event) => event.type === 'rejoined'), { timeoutMs: 3_000 })).toBe(false);
    expect(test.room.id).toBe(firstId);
    // The leader it named is gone. Before the fix the dismissed report was never looked at again.
    test.name(null);
    expect(await test.clock.runUntil(test.rejoined, { timeoutMs: 5_000 })).toBe(true);
    refusing.stop();
    expect(test.events.find((event) => event.type === 'rejoined')).toMatchObject({ previousId: firstId, id: test.room.id });
    await test.close();
  });
});

/** A lone peer whose node names the leader the test sets (itself at first), and the report callback of its first node. */
async function roomNamingLeader(seed: number, timings: { readonly raftConfig?: { heartbeatInterval: number; electionTimeoutMin: number; electionTimeoutMax: number }; readonly gossipIntervalMs?: number; readonly onMetric?: (metric: RaftMetric) => void } = {}) {
  const clock = new VirtualClock(0);
  const network = createSimulatedNetwork(clock, seededRandom(deriveSeed(seed, 'network')), reliableNetwork);
  const events: RoomEvent[] = [];
  let reportMetric: ((metric: RaftMetric) => void) | undefined;
  let named: WritableWatchable<NodeId | null> | null = null;
  const endpoints = new Map<NodeId, RaftTransport>();
  const endpoint = (id: NodeId): RaftTransport => currentEndpoint(network, endpoints, id);
  const joining = joinRoom({
    room: 'wedge-named',
    signaling: ({ roomId, nodeId: id }) => stubSignaling(roomId, id, endpoint(id)),
    createTransport: (signaling) => endpoint(signaling.selfId),
    createNode: async (nodeOptions) => {
      const node = await createRaftNode(nodeOptions);
      if (named !== null) return node;
      reportMetric = nodeOptions.onMetric;
      named = createWatchable<NodeId | null>(node.id);
      return Object.assign(Object.create(node) as RaftNode, { leader: named });
    },
    identityStore: memoryKeyValueStore(),
    visibility: manualVisibility(true),
    store: { initialState: {}, apply: kvReducer },
    raftConfig: { clock, random: seededRandom(seed), ...(timings.raftConfig ?? { heartbeatInterval: 100, electionTimeoutMin: 300, electionTimeoutMax: 600 }) },
    discoveryMs: 400,
    gossipIntervalMs: timings.gossipIntervalMs ?? 300,
    ...(timings.onMetric === undefined ? {} : { onMetric: timings.onMetric }),
    onEvent: (event) => events.push(event),
  });
  let joined = false;
  void joining.then(() => (joined = true));
  await clock.runUntil(() => joined, { timeoutMs: 5_000 });
  const room = await joining;
  const rejoined = (): boolean => events.some((event) => event.type === 'rejoined' || event.type === 'rejoinFailed');
  const close = async (): Promise<void> => {
    const leaving = room.leave();
    await clock.advance(100);
    await leaving;
  };
  return { clock, room, events, report: reportMetric!, name: (leader: NodeId | null) => named!.set(leader), rejoined, close };
}

describe('a wedge report about a sender that is no leader of the room', () => {
  it('is not honoured once its sender has stopped sending: a stranger that went away, then a moment with no leader, is no wedge', async () => {
    const test = await roomNamingLeader(813);
    const firstId = test.room.id;
    // A stranger's frames, refused until the report, then no more: the node named itself meanwhile.
    const refusing = reportWedge(test.clock, test.report, { type: 'wedgeSuspected', from: nodeId('stranger'), localTerm: 1, remoteTerm: 2, voters: [firstId], gate: 'senderNotVoter' });
    await test.clock.advance(1_000);
    refusing.stop();
    await test.clock.advance(1_000);
    // No leader for a while (a blip): before the rule, the dismissed report became a verdict here.
    test.name(null);
    expect(await test.clock.runUntil(test.rejoined, { timeoutMs: 20_000 })).toBe(false);
    expect(test.room.id).toBe(firstId);
    await test.close();
  });

  it('is not honoured for a moment without a leader shorter than an election and a hello take, even while the sender keeps sending; it is once that lasts', async () => {
    const test = await roomNamingLeader(814);
    const firstId = test.room.id;
    const refusing = reportWedge(test.clock, test.report, { type: 'wedgeSuspected', from: nodeId('stranger'), localTerm: 1, remoteTerm: 2, voters: [firstId], gate: 'senderNotVoter' });
    for (let blip = 0; blip < 5; blip += 1) {
      test.name(null);
      await test.clock.advance(2_000);
      test.name(firstId);
      await test.clock.advance(1_000);
    }
    expect(test.rejoined()).toBe(false);
    expect(test.room.id).toBe(firstId);
    // No leader for good, and the sender still refused: that is a wedge.
    test.name(null);
    expect(await test.clock.runUntil(test.rejoined, { timeoutMs: 5_000 })).toBe(true);
    expect(test.room.id).not.toBe(firstId);
    refusing.stop();
    await test.close();
  });

  it('is honoured when the verdict takes longer than the rechecks of a dismissed report last (short gossip interval, long election timeouts)', async () => {
    // Hellos every 10 ms (the bound's floor), elections up to 2 s: the verdict needs 4 * 2 s + 2 *
    // 10 ms = 8.02 s of counting, and a report was looked at 600 times, one per gossip interval
    // (6 s): a node wedged from the first look was never found so, and kept its id for good.
    const test = await roomNamingLeader(815, { raftConfig: { heartbeatInterval: 100, electionTimeoutMin: 1_000, electionTimeoutMax: 2_000 }, gossipIntervalMs: 10 });
    const firstId = test.room.id;
    test.name(null);
    const refusing = reportWedge(test.clock, test.report, { type: 'wedgeSuspected', from: nodeId('leader-elsewhere'), localTerm: 1, remoteTerm: 2, voters: [firstId], gate: 'senderNotVoter' });
    expect(await test.clock.runUntil(test.rejoined, { timeoutMs: 20_000 })).toBe(true);
    expect(test.room.id).not.toBe(firstId);
    refusing.stop();
    await test.close();
  });

  it("is honoured when the application's onMetric throws: the room notes the refusals and the report before it calls the application", async () => {
    // The driver catches what onMetric throws (and reports it asynchronously): the room's wrapper
    // called the application first, so a throwing listener skipped the room's own handling, and
    // with a verdict that needs every frameRefused noted, a node wedged for good kept its id.
    const raised = await collectingRejections(async () => {
      const test = await roomNamingLeader(816, {
        onMetric: () => {
          throw new Error('an application listener with a bug');
        },
      });
      const firstId = test.room.id;
      test.name(null);
      const asTheDriverCalls = (metric: RaftMetric): void => {
        try {
          test.report(metric);
        } catch (error) {
          void Promise.reject(error);
        }
      };
      const refusing = reportWedge(test.clock, asTheDriverCalls, { type: 'wedgeSuspected', from: nodeId('leader-elsewhere'), localTerm: 1, remoteTerm: 2, voters: [firstId], gate: 'senderNotVoter' });
      expect(await test.clock.runUntil(test.rejoined, { timeoutMs: 10_000 })).toBe(true);
      expect(test.room.id).not.toBe(firstId);
      refusing.stop();
      await test.close();
    });
    // The application still hears of its listener's errors.
    expect(raised.length).toBeGreaterThan(0);
    expect(raised.every((reason) => reason instanceof Error && reason.message === 'an application listener with a bug')).toBe(true);
  });
});
