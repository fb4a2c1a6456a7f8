// raftmesh/rooms's joinRoom (src/rooms.ts): the room API with no engine of its own. It refuses
// options without createNode before anything opens, and otherwise runs the room on the node the
// caller's factory starts, as the root's joinRoom does. That no bundle of it carries the engine is
// bench/bundle-size.test.ts's to show, with both bundlers.
import { describe, expect, it } from 'vitest';
import type { NodeId } from '../core/types.ts';
import { createRaftNode } from '../driver/create-raft-node.ts';
import type { RaftNode, RaftNodeOptions } from '../driver/node-options.ts';
import * as roomsEntry from '../rooms.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { readStoredNodeState } from '../storage/stored-node-state.ts';
import type { KvCommand } from '../testing/kv-command.ts';
import { deriveSeed, seededRandom } from '../testing/seeded-random.ts';
import { createSimulatedNetwork, reliableNetwork } from '../testing/simulated-network.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { joinRoom as joinRoomWithDefaultEngine } from './join-room.ts';
import { bootstrapKey, memoryKeyValueStore } from './room-identity.ts';
import { kvReducer, type KvState } from './room-simulation-peers.test-support.ts';
import { currentEndpoint, stubSignaling } from './simulated-room-endpoints.test-support.ts';
import { manualVisibility } from './visibility.ts';

const { joinRoom } = roomsEntry;

/** Advances the virtual clock until the promise settles (at most timeoutMs). */
async function settle<T>(clock: VirtualClock, promise: Promise<T>, timeoutMs = 5_000): Promise<T> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await clock.runUntil(() => done, { timeoutMs });
  return promise;
}

/** One peer's room options on a fresh simulated network; `opened` records every resource joinRoom asks for. */
function aloneInRoom(seed: number) {
  const clock = new VirtualClock(0);
  const network = createSimulatedNetwork(clock, seededRandom(deriveSeed(seed, 'network')), reliableNetwork);
  const endpoints = new Map<NodeId, RaftTransport>();
  const endpoint = (id: NodeId): RaftTransport => currentEndpoint(network, endpoints, id);
  const opened: string[] = [];
  const options = {
    room: 'engine-free',
    signaling: ({ roomId, nodeId: id }: { roomId: string; nodeId: NodeId }) => {
      opened.push('signaling');
      return stubSignaling(roomId, id, endpoint(id));
    },
    createTransport: (client: { selfId: NodeId }) => {
      opened.push('transport');
      return endpoint(client.selfId);
    },
    storage: () => {
      opened.push('storage');
      return new InMemoryRaftStorage();
    },
    identityStore: memoryKeyValueStore(),
    visibility: manualVisibility(true),
    store: { initialState: {} as KvState, apply: kvReducer },
    raftConfig: { clock, random: seededRandom(seed), heartbeatInterval: 100, electionTimeoutMin: 300, electionTimeoutMax: 600 },
    discoveryMs: 400,
    gossipIntervalMs: 300,
  };
  return { clock, opened, options };
}

describe("raftmesh/rooms's joinRoom", () => {
  it('is all the entry exports as a value', () => {
    expect(Object.keys(roomsEntry)).toEqual(['joinRoom']);
  });

  it('refuses options without createNode before it opens anything, naming the factories to pass', async () => {
    const { opened, options } = aloneInRoom(901);
    const refusal = await joinRoom(options as never).then(
      () => 'joined',
      (error: unknown) => String(error),
    );
    expect(refusal).toMatch(/^TypeError: joinRoom from 'raftmesh\/rooms' carries no engine: pass createNode, e\.g\. workerNodeFactory\(\{ storage \}\) from 'raftmesh\/worker', or createRaftNode/);
    expect(opened).toEqual([]);
    // The other options are still checked as the root's joinRoom checks them.
    const notAFunction = await joinRoom({ ...options, createNode: 'createRaftNode' as never }).then(
      () => 'joined',
      (error: unknown) => String(error),
    );
    expect(notAFunction).toBe('TypeError: joinRoom: createNode must be a function when given');
    expect(opened).toEqual([]);
  });

  it("runs the room on the node the caller's createNode starts: it leads alone, commits a command, and leave() stops that node", async () => {
    const { clock, opened, options } = aloneInRoom(902);
    const started: RaftNode[] = [];
    const createNode = async (nodeOptions: RaftNodeOptions): Promise<RaftNode> => {
      const node = await createRaftNode(nodeOptions);
      started.push(node);
      return node;
    };
    const room = await settle(clock, joinRoom<KvState, KvCommand>({ ...options, createNode }));
    expect(opened).toEqual(['storage', 'signaling', 'transport']);
    expect(started).toHaveLength(1);
    expect(room.node).toBe(started[0]);
    expect(await clock.runUntil(() => room.node.role.value === 'leader', { timeoutMs: 5_000 })).toBe(true);
    const result = await settle(clock, room.store.dispatch({ type: 'put', key: 'claimed-by', value: room.id }));
    expect(result.state).toEqual({ 'claimed-by': room.id });
    await settle(clock, room.leave());
    expect(started[0]?.stopped.value).not.toBeNull();
  });

  it("given no storage, reads the id's stored state through the factory's readStoredState, where its node runs, and restarts on the log it finds there", async () => {
    const { clock, opened, options } = aloneInRoom(905);
    const { storage: _pageStorage, ...withoutStorage } = options;
    // The node's storage lives where the factory runs it (a worker, for workerNodeFactory): here a
    // map the page-side room never sees but through readStoredState.
    const storages = new Map<NodeId, InMemoryRaftStorage>();
    const storageOf = (id: NodeId): InMemoryRaftStorage => storages.get(id) ?? storages.set(id, new InMemoryRaftStorage()).get(id)!;
    const reads: NodeId[] = [];
    const createNode = Object.assign((nodeOptions: RaftNodeOptions) => createRaftNode({ ...nodeOptions, storage: storageOf(nodeOptions.id) }), {
      readStoredState: (id: NodeId) => (reads.push(id), readStoredNodeState(storageOf(id))),
    });
    const first = await settle(clock, joinRoom<KvState, KvCommand>({ ...withoutStorage, createNode }));
    expect(reads).toEqual([first.id]);
    expect(await clock.runUntil(() => first.node.role.value === 'leader', { timeoutMs: 5_000 })).toBe(true);
    await settle(clock, first.store.dispatch({ type: 'put', key: 'claimed-by', value: 'first' }));
    await settle(clock, first.leave());

    // The same peer again (same identity store): the reader says its id holds a log, so it
    // restarts as the member it was, on that log, instead of discovering a room as a newcomer.
    // A newcomer's discovery saves the bootstrap configuration it chose over the one saved; a
    // restart keeps the saved one as it is (it saves one only where none is: room-identity.ts). So
    // the saved record, rewritten in a form joinRoom never writes, stays as it is only on a restart
    // (a newcomer's path, same id and same log, would reach the same state either way).
    const restartOnly = JSON.stringify({ voters: [first.id] }, null, 1);
    await options.identityStore.set(bootstrapKey(options.room), restartOnly);
    const again = await settle(clock, joinRoom<KvState, KvCommand>({ ...withoutStorage, createNode }));
    expect(again.id).toBe(first.id);
    expect(reads).toEqual([first.id, first.id]);
    expect(await options.identityStore.get(bootstrapKey(options.room))).toBe(restartOnly);
    expect(await clock.runUntil(() => again.node.role.value === 'leader', { timeoutMs: 5_000 })).toBe(true);
    expect((await settle(clock, again.store.dispatch({ type: 'put', key: 'then', value: 'again' }))).state).toEqual({ 'claimed-by': 'first', then: 'again' });
    await settle(clock, again.leave());
    expect(opened).not.toContain('storage');

    // Given a storage of its own, joinRoom reads that one (it holds the database open, so a
    // reader elsewhere would wait for it), and leaves the factory's reader alone.
    const withStorage = aloneInRoom(906);
    const room = await settle(withStorage.clock, joinRoom<KvState, KvCommand>({ ...withStorage.options, createNode }));
    expect(withStorage.opened).toContain('storage');
    expect(reads).toHaveLength(2);
    await settle(withStorage.clock, room.leave());
  });

  it('a readStoredState that fails fails the join, before any node starts', async () => {
    const { clock, options } = aloneInRoom(907);
    const { storage: _pageStorage, ...withoutStorage } = options;
    let started = 0;
    const createNode = Object.assign((nodeOptions: RaftNodeOptions) => ((started += 1), createRaftNode(nodeOptions)), {
      readStoredState: () => Promise.reject(new Error('the database is held open by another tab')),
    });
    const outcome = await settle(clock, joinRoom<KvState, KvCommand>({ ...withoutStorage, createNode })).then(
      () => 'joined',
      (error: unknown) => String(error),
    );
    expect(outcome).toBe('Error: the database is held open by another tab');
    expect(started).toBe(0);
  });

  it("aborts the read's signal once the attempt is over, joined or not: what the read kept for the id's node does not wait for a node that will not come", async () => {
    // workerNodeFactory keeps the reading worker for the id's node until this signal aborts (or
    // keepReaderMs passes): after a failed join it used to sit idle for up to 30 s.
    const failing = aloneInRoom(908);
    const { storage: _failingStorage, ...failingOptions } = failing.options;
    const readSignals: AbortSignal[] = [];
    const reader = { readStoredState: (_id: NodeId, signal?: AbortSignal) => (readSignals.push(signal!), Promise.resolve({ holdsLog: false, term: 0, configurations: [] })) };
    const refusing = Object.assign(() => Promise.reject(new Error('no worker left for the node')), reader);
    const outcome = await settle(failing.clock, joinRoom<KvState, KvCommand>({ ...failingOptions, createNode: refusing })).then(
      () => 'joined',
      (error: unknown) => String(error),
    );
    expect(outcome).toBe('Error: no worker left for the node');
    expect(readSignals).toHaveLength(1);
    expect(readSignals[0]?.aborted).toBe(true);

    // Joined on a node that did not take what the read kept (this one runs on the page): the
    // read's signal aborts as the join returns, and the room's own signal is untouched.
    const joining = aloneInRoom(909);
    const { storage: _joiningStorage, ...joiningOptions } = joining.options;
    const roomSignal = new AbortController();
    const onPage = Object.assign((nodeOptions: RaftNodeOptions) => createRaftNode(nodeOptions), reader);
    const room = await settle(joining.clock, joinRoom<KvState, KvCommand>({ ...joiningOptions, createNode: onPage, signal: roomSignal.signal }));
    expect(readSignals).toHaveLength(2);
    expect(readSignals[1]?.aborted).toBe(true);
    expect(roomSignal.signal.aborted).toBe(false);
    expect(await joining.clock.runUntil(() => room.node.role.value === 'leader', { timeoutMs: 5_000 })).toBe(true);
    await settle(joining.clock, room.leave());

    // A read under way when joinRoom's own signal aborts is told at once.
    const leaving = aloneInRoom(910);
    const { storage: _leavingStorage, ...leavingOptions } = leaving.options;
    const left = new AbortController();
    let readUnderWay: AbortSignal | undefined;
    const slowReader = Object.assign(() => Promise.reject(new Error('not reached')), {
      readStoredState: (_id: NodeId, signal?: AbortSignal) => {
        readUnderWay = signal;
        return new Promise<never>((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true }));
      },
    });
    const abandoned = settle(leaving.clock, joinRoom<KvState, KvCommand>({ ...leavingOptions, createNode: slowReader, signal: left.signal })).then(
      () => 'joined',
      () => 'failed',
    );
    await leaving.clock.runUntil(() => readUnderWay !== undefined, { timeoutMs: 1_000 });
    expect(readUnderWay?.aborted).toBe(false);
    left.abort(new Error('the page is closing'));
    expect(readUnderWay?.aborted).toBe(true);
    expect(readUnderWay?.reason).toEqual(new Error('the page is closing'));
    expect(await abandoned).toBe('failed');
  });

  it("the root's joinRoom still defaults to createRaftNode on this thread, and takes a createNode it is given", async () => {
    const byDefault = aloneInRoom(903);
    const room = await settle(byDefault.clock, joinRoomWithDefaultEngine<KvState, KvCommand>(byDefault.options));
    expect(await byDefault.clock.runUntil(() => room.node.role.value === 'leader', { timeoutMs: 5_000 })).toBe(true);
    await settle(byDefault.clock, room.leave());

    const given = aloneInRoom(904);
    let calls = 0;
    const counted = await settle(
      given.clock,
      joinRoomWithDefaultEngine<KvState, KvCommand>({
        ...given.options,
        createNode: (nodeOptions) => {
          calls += 1;
          return createRaftNode(nodeOptions);
        },
      }),
    );
    expect(calls).toBe(1);
    await settle(given.clock, counted.leave());
  });
});
