// A peer the room removes while it runs (cut off past the policy's unreachable window, then back)
// learns it is outside the cluster from its own node: joinRoom reports `removed`, its proposals
// fail with NotMemberError (which the store retries) until the policy takes the same id back as a
// reachable newcomer, and then a command dispatched while it was outside applies exactly once.
// Reads are retried the same way, so a read issued while outside answers once the peer is back.
// Real room peers on the simulated network with a virtual clock: the removal is the membership
// policy's own, nothing is reported by hand.
import { describe, expect, it } from 'vitest';
import { NotMemberError } from '../core/errors.ts';
import { nodeId, type NodeId } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import type { KvCommand } from '../testing/kv-command.ts';
import { deriveSeed, seededRandom } from '../testing/seeded-random.ts';
import { createSimulatedNetwork, reliableNetwork, type SimulatedNetwork } from '../testing/simulated-network.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import { settleOnVirtualClock } from '../testing/settle-on-clock.test-support.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { currentEndpoint, stubSignaling } from './simulated-room-endpoints.test-support.ts';
import { joinRoom, type JoinRoomOptions, type Room } from './join-room.ts';
import type { RoomEvent } from './room-events.ts';
import { identityKey, memoryKeyValueStore, type KeyValueStore } from './room-identity.ts';
import { kvReducer, type KvState } from './room-simulation-peers.test-support.ts';
import { manualVisibility } from './visibility.ts';

const roomName = 'removed-while-running';
/** Short, so the test removes a peer in a few virtual seconds; the default is 10 s. */
const unreachableAfterMs = 1_500;
/**
 * The leader's policy runs this often. Longer than the election timeout (300-600 ms): back on the
 * network, the removed peer's next pre-vote reaches the leader before the policy's next run,
 * which would otherwise admit its old id again as a newcomer (policy rule 2) before it hears of
 * its removal. The heal follows the removal's commit by a few milliseconds, just after a run.
 */
const coordinatorIntervalMs = 1_000;

interface TestPeer {
  readonly name: NodeId;
  readonly identity: KeyValueStore;
  readonly transports: Map<NodeId, RaftTransport>;
  readonly events: RoomEvent[];
  room: Room<KvState, KvCommand> | null;
}

type ExtraOptions = Partial<Pick<JoinRoomOptions<KvState, KvCommand>, 'discardStorage' | 'nodeId'>>;

function createTestRoom(seed: number) {
  const clock = new VirtualClock(0);
  const network: SimulatedNetwork = createSimulatedNetwork(clock, seededRandom(deriveSeed(seed, 'network')), reliableNetwork);
  const peers: TestPeer[] = [];

  const endpoint = (owner: TestPeer, id: NodeId): RaftTransport => currentEndpoint(network, owner.transports, id);

  const join = (name: string, extra: ExtraOptions = {}): TestPeer => {
    const identity = memoryKeyValueStore();
    void identity.set(identityKey(roomName), name);
    const owner: TestPeer = { name: nodeId(name), identity, transports: new Map(), events: [], room: null };
    peers.push(owner);
    void joinRoom<KvState, KvCommand>({
      room: roomName,
      signaling: (context) => stubSignaling(roomName, context.nodeId, endpoint(owner, context.nodeId)),
      createTransport: (signaling) => endpoint(owner, signaling.selfId),
      storage: () => new InMemoryRaftStorage(),
      identityStore: identity,
      visibility: manualVisibility(true),
      store: { initialState: {}, apply: kvReducer },
      policy: { unreachableAfterMs, targetVoters: 5 },
      raftConfig: { clock, random: seededRandom(deriveSeed(seed, name)), heartbeatInterval: 100, electionTimeoutMin: 300, electionTimeoutMax: 600 },
      discoveryMs: 400,
      gossipIntervalMs: 300,
      coordinatorIntervalMs,
      onEvent: (event) => owner.events.push(event),
      ...extra,
    }).then((room) => (owner.room = room));
    return owner;
  };

  const leader = (): TestPeer | undefined => peers.find((each) => each.room?.node.role.value === 'leader');

  const settle = <T>(promise: Promise<T>, timeoutMs = 10_000): Promise<PromiseSettledResult<T>> => settleOnVirtualClock(clock, promise, timeoutMs);

  const close = async (): Promise<void> => {
    const leaving = peers.map((each) => each.room?.leave());
    await clock.advance(200);
    await Promise.all(leaving);
  };

  return { clock, network, peers, join, leader, settle, close };
}

type TestRoom = ReturnType<typeof createTestRoom>;

/**
 * Three voters; a follower is cut off from the other two until the leader's policy has removed it
 * (committed), then the network heals. Returns the cut-off peer and the id it was removed under.
 */
async function removeAFollowerWhileItRuns(test: TestRoom, cutOffExtra: ExtraOptions) {
  // The one that is cut off joins last: with the smallest id bootstrapping, it is not the leader.
  const peers = [test.join('a'), test.join('b'), test.join('c', cutOffExtra)];
  const grown = await test.clock.runUntil(() => {
    const leaderCommit = test.leader()?.room?.node.commitIndex.value;
    return peers.every((each) => each.room?.node.membership.value.voters.length === 3 && each.room.node.commitIndex.value === leaderCommit);
  }, { timeoutMs: 10_000 });
  expect(grown).toBe(true);
  const cutOff = peers[2]!;
  const leaderPeer = test.leader();
  expect(leaderPeer).not.toBe(cutOff);
  const leaderId = leaderPeer!.room!.id;
  const removedId = cutOff.room!.id;
  test.network.isolate(removedId);
  const stayed = peers.filter((each) => each !== cutOff);
  // Removed on both remaining peers: the change committed, not only appended on the leader.
  const removed = await test.clock.runUntil(() => stayed.every((each) => {
    const membership = each.room?.node.membership.value;
    return membership !== undefined && !membership.voters.includes(removedId) && !(membership.learners ?? []).includes(removedId);
  }) && stayed.some((each) => each.events.some((event) => event.type === 'membershipChanged' && 'removed' in event.decision && event.decision.removed === removedId)), { timeoutMs: 10_000 });
  expect(removed).toBe(true);
  // Before the heal the cut-off peer has heard nothing of its removal.
  expect(cutOff.events.filter((event) => event.type === 'removed')).toEqual([]);
  test.network.heal();
  return { cutOff, stayed, removedId, leaderId };
}

describe('a peer removed from the room while it runs', () => {
  it('reports the removal, keeps its id, and a command dispatched while outside applies once everywhere after the room takes it back', async () => {
    const test = createTestRoom(2_301);
    const discarded: NodeId[] = [];
    const { cutOff, stayed, removedId, leaderId } = await removeAFollowerWhileItRuns(test, { discardStorage: (id) => void discarded.push(id) });
    const reported = await test.clock.runUntil(() => cutOff.events.some((event) => event.type === 'removed'), { timeoutMs: 10_000 });
    expect(reported).toBe(true);
    // The leader told it, answering its first pre-vote after the heal.
    expect(cutOff.events.filter((event) => event.type === 'removed')).toEqual([{ type: 'removed', id: removedId, toldBy: leaderId, at: expect.any(Number) as unknown }]);
    const room = cutOff.room!;
    // Outside the cluster a proposal fails at once instead of waiting for a leader that never answers.
    const outside = await test.settle(room.node.propose(new TextEncoder().encode('from outside')), 1);
    expect(outside.status).toBe('rejected');
    expect((outside as PromiseRejectedResult).reason).toBeInstanceOf(NotMemberError);
    // The store retries it under the same request id until the room takes the peer back.
    const dispatched = await test.settle(room.store.dispatch({ type: 'append', key: 'log', value: 'x' }));
    expect(dispatched.status).toBe('fulfilled');
    const everywhere = await test.clock.runUntil(() => [cutOff, ...stayed].every((each) => each.room?.store.state.value.log === 'x'), { timeoutMs: 10_000 });
    expect(everywhere).toBe(true);
    const leaderMembership = test.leader()!.room!.node.membership.value;
    expect([...leaderMembership.voters, ...(leaderMembership.learners ?? [])]).toContain(removedId);
    // Same id, same storage: nothing to rejoin under or to discard.
    expect(room.id).toBe(removedId);
    expect(cutOff.events.filter((event) => event.type === 'rejoined' || event.type === 'rejoinFailed')).toEqual([]);
    expect(discarded).toEqual([]);
    await test.close();
  });

  it('answers a read issued while outside once the room takes it back, with what the room committed meanwhile', async () => {
    const test = createTestRoom(2_302);
    const { cutOff, stayed, removedId } = await removeAFollowerWhileItRuns(test, {});
    const reported = await test.clock.runUntil(() => cutOff.events.some((event) => event.type === 'removed'), { timeoutMs: 10_000 });
    expect(reported).toBe(true);
    const room = cutOff.room!;
    // A write the rest of the room finished while this peer was outside...
    const written = await test.settle(stayed[0]!.room!.store.dispatch({ type: 'put', key: 'while', value: 'outside' }));
    expect(written.status).toBe('fulfilled');
    expect(room.store.state.value.while).toBeUndefined();
    // ...(still outside: its node alone refuses a read index at once)...
    const refused = await test.settle(room.node.readIndex(), 1);
    expect(refused.status).toBe('rejected');
    expect((refused as PromiseRejectedResult).reason).toBeInstanceOf(NotMemberError);
    // ...is in what a read issued now returns: the store retries it until the room takes the peer back.
    const read = await test.settle(room.store.read());
    expect(read.status).toBe('fulfilled');
    expect((read as PromiseFulfilledResult<KvState>).value.while).toBe('outside');
    const leaderMembership = test.leader()!.room!.node.membership.value;
    expect([...leaderMembership.voters, ...(leaderMembership.learners ?? [])]).toContain(removedId);
    expect(room.id).toBe(removedId);
    await test.close();
  });
});
