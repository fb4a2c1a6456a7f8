// An id a peer gives up for good (removed while away, wedged, or its storage lost) leaves its
// storage behind: joinRoom closes that storage and hands the id to `discardStorage` once, after the
// fresh id is saved. A storage opened for a join that does not go through is closed. Rooms run on
// the simulated network with a virtual clock; storage is in memory, wrapped to record when it is
// closed.
import { describe, expect, it } from 'vitest';
import { RaftStorageError } from '../core/errors.ts';
import type { RaftMetric } from '../core/events.ts';
import { nodeId, type NodeId } from '../core/types.ts';
import { createRaftNode } from '../driver/create-raft-node.ts';
import type { RaftNode } from '../driver/node-options.ts';
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
import { reportWedge } from './wedge-report.test-support.ts';

const roomName = 'discard';

/** In-memory storage that records its close, the way IndexedDbRaftStorage has one. */
class RecordingStorage extends InMemoryRaftStorage {
  closed = false;

  constructor(
    private readonly id: NodeId,
    private readonly journal: string[],
  ) {
    super();
  }

  close(): void {
    this.closed = true;
    this.journal.push(`closed ${this.id}`);
  }
}

interface TestPeer {
  readonly name: NodeId;
  readonly identity: KeyValueStore;
  readonly storages: Map<NodeId, RecordingStorage>;
  readonly transports: Map<NodeId, RaftTransport>;
  room: Room<KvState, KvCommand> | null;
  controller: AbortController | null;
  visits: number;
}

/** `withoutStorage`: joinRoom opens no storage of its own (a worker factory's reads are asked instead). */
type ExtraOptions = Partial<Pick<JoinRoomOptions<KvState, KvCommand>, 'discardStorage' | 'nodeId' | 'createNode' | 'storage' | 'identityStore'>> & { readonly withoutStorage?: boolean };

function createTestRoom(seed: number) {
  const clock = new VirtualClock(0);
  const network: SimulatedNetwork = createSimulatedNetwork(clock, seededRandom(deriveSeed(seed, 'network')), reliableNetwork);
  /** What happened, in order: storages closed and ids discarded (with the identity saved then). */
  const journal: string[] = [];
  const events: RoomEvent[] = [];
  const peers: TestPeer[] = [];

  const peer = (name: string): TestPeer => {
    const identity = memoryKeyValueStore();
    void identity.set(identityKey(roomName), name);
    const created: TestPeer = { name: nodeId(name), identity, storages: new Map(), transports: new Map(), room: null, controller: null, visits: 0 };
    peers.push(created);
    return created;
  };

  const endpoint = (owner: TestPeer, id: NodeId): RaftTransport => currentEndpoint(network, owner.transports, id);
  /** The ids whose transport joinRoom closed, in order (a WebRTC transport closes its connections then). */
  const transportsClosed: NodeId[] = [];
  /** What createTransport hands joinRoom: the id's endpoint, with a `close` as the WebRTC transport has. */
  const closableEndpoint = (owner: TestPeer, id: NodeId): RaftTransport => {
    const transport = endpoint(owner, id);
    return { selfId: transport.selfId, peers: transport.peers, incoming: transport.incoming, send: (to, bytes) => transport.send(to, bytes), close: () => void transportsClosed.push(id) };
  };

  const storageFor = (owner: TestPeer, id: NodeId): RecordingStorage => {
    const storage = owner.storages.get(id) ?? new RecordingStorage(id, journal);
    // Opened again after a leave() closed it, as IndexedDbRaftStorage.open makes a fresh connection:
    // `closed` says whether the copy this visit opened was closed.
    storage.closed = false;
    owner.storages.set(id, storage);
    return storage;
  };

  const visit = (owner: TestPeer, { withoutStorage = false, ...extra }: ExtraOptions = {}): Promise<Room<KvState, KvCommand>> => {
    owner.visits += 1;
    const controller = new AbortController();
    owner.controller = controller;
    const joining = joinRoom<KvState, KvCommand>({
      room: roomName,
      signaling: (context) => stubSignaling(roomName, context.nodeId, endpoint(owner, context.nodeId)),
      createTransport: (signaling) => closableEndpoint(owner, signaling.selfId),
      ...(withoutStorage ? {} : { storage: (id: NodeId) => storageFor(owner, id) }),
      identityStore: owner.identity,
      visibility: manualVisibility(true),
      store: { initialState: {}, apply: kvReducer },
      policy: { unreachableAfterMs: 1_500, targetVoters: 5 },
      raftConfig: { clock, random: seededRandom(deriveSeed(seed, `${owner.name}-${owner.visits}`)), heartbeatInterval: 100, electionTimeoutMin: 300, electionTimeoutMax: 600 },
      discoveryMs: 400,
      gossipIntervalMs: 300,
      coordinatorIntervalMs: 100,
      onEvent: (event) => events.push(event),
      signal: controller.signal,
      ...extra,
    });
    joining.then(
      (room) => (owner.room = room),
      () => undefined,
    );
    return joining;
  };

  /** Closes the tab: gone from the network at once, its node closed, its storage kept. */
  const depart = (owner: TestPeer): void => {
    for (const id of owner.transports.keys()) network.setDown(id, true);
    owner.controller?.abort(new Error('left the room'));
    void owner.room?.leave();
    owner.room = null;
  };

  const settle = <T>(promise: Promise<T>, timeoutMs = 8_000): Promise<PromiseSettledResult<T>> => settleOnVirtualClock(clock, promise, timeoutMs);

  const leader = (): TestPeer | undefined => peers.find((each) => each.room?.node.role.value === 'leader');

  const close = async (): Promise<void> => {
    for (const each of peers) depart(each);
    await clock.advance(100);
  };

  return { clock, journal, transportsClosed, events, peer, visit, depart, settle, leader, close };
}

/** Peers a, b and c joined, until all three are voters and the configuration is committed. */
async function threeVoters(seed: number) {
  const test = createTestRoom(seed);
  const peers = ['a', 'b', 'c'].map(test.peer);
  for (const each of peers) void test.visit(each);
  // Committed, and known to every peer: the leader's own view changes when the change is appended.
  const grown = await test.clock.runUntil(() => peers.every((each) => each.room?.node.membership.value.voters.length === 3 && each.room.node.commitIndex.value === test.leader()?.room?.node.commitIndex.value), { timeoutMs: 8_000 });
  expect(grown).toBe(true);
  return { test, peers };
}

/**
 * Three voters; the leader's tab closes (the others elect a leader in a newer term) and stays
 * away until the policy has removed it. Returns the room and the peer that was removed.
 */
async function removeTheLeaderWhileAway(seed: number) {
  const { test } = await threeVoters(seed);
  const away = test.leader()!;
  test.depart(away);
  const removed = await test.clock.runUntil(() => {
    const voters = test.leader()?.room?.node.membership.value.voters;
    return voters !== undefined && !voters.includes(away.name);
  }, { timeoutMs: 8_000 });
  expect(removed).toBe(true);
  return { test, away };
}

describe('joinRoom discards the storage of an id it gives up', () => {
  it('a peer removed while away comes back under a fresh id, and the old id is discarded once, after its storage closed and the fresh id was saved', async () => {
    const { test, away } = await removeTheLeaderWhileAway(1_201);
    const discarded: NodeId[] = [];
    const back = await test.settle(
      test.visit(away, {
        discardStorage: async (id) => {
          discarded.push(id);
          test.journal.push(`discard ${id} while the saved id is ${String(await away.identity.get(identityKey(roomName)))}`);
        },
      }),
    );
    expect(back.status).toBe('fulfilled');
    const freshId = away.room!.id;
    expect(freshId).not.toBe(away.name);
    expect(discarded).toEqual([away.name]);
    expect(away.storages.get(away.name)!.closed).toBe(true);
    // The first close is the departure's leave(); the second, the visit that gave the id up.
    expect(test.journal).toEqual([`closed ${away.name}`, `closed ${away.name}`, `discard ${away.name} while the saved id is ${freshId}`]);
    await test.clock.advance(100);
    expect(test.events.filter((event) => event.type === 'storageDiscarded')).toEqual([{ type: 'storageDiscarded', id: away.name, failure: null, at: expect.any(Number) }]);
    await test.close();
  });

  it('the transport opened for an id given up is closed: its connections would keep the id reachable, and the policy never drops a reachable member', async () => {
    const { test, away } = await removeTheLeaderWhileAway(1_207);
    // The departure's leave() closed the first visit's transport.
    expect(test.transportsClosed).toEqual([away.name]);
    const back = await test.settle(test.visit(away, { discardStorage: () => undefined }));
    expect(back.status).toBe('fulfilled');
    const freshId = away.room!.id;
    expect(freshId).not.toBe(away.name);
    // Before the fix joinRoom closed only the signaling client and its own listeners: the WebRTC
    // transport of the id given up kept its connections, so the room's pages saw that id as
    // reachable for as long as this page lived (found by npm run chaos:rooms, seed 202).
    expect(test.transportsClosed).toEqual([away.name, away.name]);
    await test.close();
    expect(test.transportsClosed).toEqual([away.name, away.name, ...test.transportsClosed.slice(2)]);
    expect(test.transportsClosed).toContain(freshId);
  });

  it('a discardStorage that throws or rejects does not fail the join: the storageDiscarded event carries the failure', async () => {
    for (const [seed, discardStorage] of [
      [1_202, async () => Promise.reject(new Error('the disk is on fire'))],
      [1_203, () => { throw new Error('the disk is on fire'); }],
    ] as const) {
      const { test, away } = await removeTheLeaderWhileAway(seed);
      const back = await test.settle(test.visit(away, { discardStorage }));
      expect(back.status).toBe('fulfilled');
      expect(away.room!.id).not.toBe(away.name);
      await test.clock.advance(100);
      expect(test.events.filter((event) => event.type === 'storageDiscarded')).toEqual([
        { type: 'storageDiscarded', id: away.name, failure: 'Error: the disk is on fire', at: expect.any(Number) },
      ]);
      await test.close();
    }
  });

  it('a join under a fixed id that cannot be used again fails, with the storage it opened closed and nothing discarded', async () => {
    const { test, away } = await removeTheLeaderWhileAway(1_204);
    const discarded: NodeId[] = [];
    const back = await test.settle(test.visit(away, { nodeId: away.name, discardStorage: (id) => void discarded.push(id) }));
    expect(back.status).toBe('rejected');
    // Before the fix joinAs returned null and left this storage (an IndexedDB connection) open.
    expect(away.storages.get(away.name)!.closed).toBe(true);
    expect(discarded).toEqual([]);
    expect(await away.identity.get(identityKey(roomName))).toBe(away.name);
    await test.close();
  });

  it('a wedged peer that rejoins under a fresh id discards the wedged id, after its node and storage closed', async () => {
    // The wedge is reported by hand, its sender refused until the rejoin (as in join-room-wedge.test.ts): only the rejoin path matters.
    const test = createTestRoom(1_205);
    const solo = test.peer('a');
    let reportMetric: ((metric: RaftMetric) => void) | undefined;
    const nodes: RaftNode[] = [];
    const discarded: NodeId[] = [];
    const joined = await test.settle(
      test.visit(solo, {
        createNode: async (nodeOptions) => {
          reportMetric = nodeOptions.onMetric;
          const node = await createRaftNode(nodeOptions);
          nodes.push(node);
          return node;
        },
        discardStorage: async (id) => {
          discarded.push(id);
          const nodeStopped = nodes[0]?.stopped.value !== null;
          test.journal.push(`discard ${id} while the saved id is ${String(await solo.identity.get(identityKey(roomName)))}, node stopped: ${String(nodeStopped)}`);
        },
      }),
    );
    expect(joined.status).toBe('fulfilled');
    const room = solo.room!;
    await test.clock.runUntil(() => room.node.role.value === 'leader', { timeoutMs: 5_000 });
    const firstId = room.id;
    const refusing = reportWedge(test.clock, reportMetric!, { type: 'wedgeSuspected', from: firstId, localTerm: 1, remoteTerm: 1, voters: [firstId], gate: 'senderNotVoter' });
    const rejoined = await test.clock.runUntil(() => test.events.some((event) => event.type === 'rejoined' || event.type === 'rejoinFailed'), { timeoutMs: 10_000 });
    expect(rejoined).toBe(true);
    refusing.stop();
    expect(room.id).not.toBe(firstId);
    expect(discarded).toEqual([firstId]);
    expect(test.journal).toEqual([`closed ${firstId}`, `discard ${firstId} while the saved id is ${room.id}, node stopped: true`]);
    // The wedged id's transport is closed with it; the fresh id's is in use.
    expect(test.transportsClosed).toEqual([firstId]);
    await test.clock.advance(100);
    expect(test.events.filter((event) => event.type === 'storageDiscarded')).toEqual([{ type: 'storageDiscarded', id: firstId, failure: null, at: expect.any(Number) }]);
    await test.close();
  });

  it('leave() during a rejoin stops it: when leave resolves every storage it opened is closed, and nothing opens or rejoins later', async () => {
    const test = createTestRoom(1_206);
    const solo = test.peer('a');
    let reportMetric: ((metric: RaftMetric) => void) | undefined;
    const joined = await test.settle(
      test.visit(solo, {
        createNode: async (nodeOptions) => {
          reportMetric = nodeOptions.onMetric;
          return createRaftNode(nodeOptions);
        },
        discardStorage: () => undefined,
      }),
    );
    expect(joined.status).toBe('fulfilled');
    const room = solo.room!;
    await test.clock.runUntil(() => room.node.role.value === 'leader', { timeoutMs: 5_000 });
    const firstId = room.id;
    const refusing = reportWedge(test.clock, reportMetric!, { type: 'wedgeSuspected', from: firstId, localTerm: 1, remoteTerm: 1, voters: [firstId], gate: 'senderNotVoter' });
    // The rejoin has opened the fresh id's storage and is discovering the room (400 ms here).
    const discovering = await test.clock.runUntil(() => solo.storages.size === 2, { timeoutMs: 5_000 });
    expect(discovering).toBe(true);
    refusing.stop();
    const left = await test.settle(room.leave(), 2_000);
    expect(left.status).toBe('fulfilled');
    expect([...solo.storages.values()].map((storage) => storage.closed)).toEqual([true, true]);
    // Each once: the rejoin's own leave() of the wedged id and room.leave() do not both close it.
    expect([...test.journal].sort()).toEqual([...solo.storages.keys()].map((id) => `closed ${id}`).sort());
    await test.clock.advance(5_000);
    expect(solo.storages.size).toBe(2);
    expect(test.events.filter((event) => event.type === 'rejoined' || event.type === 'rejoinFailed')).toEqual([]);
    expect(room.id).toBe(firstId);
    await test.close();
  });
});

/** What IndexedDbRaftStorage.open throws for a database Chromium deleted as corrupt (indexeddb-storage.ts). */
const browserDeleted = (id: NodeId): RaftStorageError =>
  new RaftStorageError(`IndexedDbRaftStorage open: the browser deleted the database "raftmesh:${id}" as corrupt and made an empty one in its place: this node's log, term and vote are gone`, { reason: 'dataLost' });

/** Three voters that committed `written`; then one of them (not the leader) closes its tab. */
async function roomWithOneAway(seed: number) {
  const { test, peers } = await threeVoters(seed);
  const written = await test.settle(test.leader()!.room!.store.dispatch({ type: 'put', key: 'before', value: 'the loss' }));
  expect(written.status).toBe('fulfilled');
  const away = peers.find((each) => each !== test.leader())!;
  const stayed = peers.filter((each) => each !== away);
  await test.clock.runUntil(() => away.room?.store.state.value.before === 'the loss', { timeoutMs: 2_000 });
  test.depart(away);
  return { test, away, stayed };
}

describe('joinRoom when the storage of its id was lost (RaftStorageError reason dataLost)', () => {
  it('gives the id up: storageLost, a fresh id on empty storage that the room admits with everything committed, the old id discarded and replaced', async () => {
    const { test, away, stayed } = await roomWithOneAway(1_301);
    const discarded: NodeId[] = [];
    const opened: NodeId[] = [];
    const back = await test.settle(
      test.visit(away, {
        storage: (id) => {
          opened.push(id);
          return id === away.name ? Promise.reject(browserDeleted(id)) : new InMemoryRaftStorage();
        },
        discardStorage: (id) => void discarded.push(id),
      }),
    );
    expect(back.status).toBe('fulfilled');
    const freshId = away.room!.id;
    expect(freshId).not.toBe(away.name);
    expect(opened).toEqual([away.name, freshId]);
    expect(await away.identity.get(identityKey(roomName))).toBe(freshId);
    expect(discarded).toEqual([away.name]);
    await test.clock.advance(100);
    const lost = test.events.filter((event) => event.type === 'storageLost');
    expect(lost).toEqual([{ type: 'storageLost', id: away.name, reason: expect.stringMatching(/deleted the database "raftmesh:\w+" as corrupt/), at: expect.any(Number) }]);
    expect(test.events.filter((event) => event.type === 'storageDiscarded')).toEqual([{ type: 'storageDiscarded', id: away.name, failure: null, at: expect.any(Number) }]);
    // The room replaces the lost id with the fresh one, and the fresh node catches up from the others.
    const replaced = await test.clock.runUntil(() => {
      const voters = test.leader()?.room?.node.membership.value.voters ?? [];
      return voters.includes(freshId) && !voters.includes(away.name) && voters.length === 3;
    }, { timeoutMs: 20_000 });
    expect(replaced).toBe(true);
    const caughtUp = await test.clock.runUntil(() => away.room?.store.state.value.before === 'the loss', { timeoutMs: 5_000 });
    expect(caughtUp).toBe(true);
    const after = await test.settle(away.room!.store.dispatch({ type: 'put', key: 'after', value: 'the loss' }));
    expect(after.status).toBe('fulfilled');
    const everywhere = await test.clock.runUntil(() => stayed.every((each) => each.room?.store.state.value.after === 'the loss'), { timeoutMs: 5_000 });
    expect(everywhere).toBe(true);
    await test.close();
  });

  it('the same when the node factory reads the stored state where the node runs (a worker) and the refusal comes from there, as an error of another copy of the library', async () => {
    const { test, away } = await roomWithOneAway(1_302);
    // A worker's error is rebuilt on the page; another bundle's class is not ours: told by name and reason.
    const fromElsewhere = Object.assign(new Error(browserDeleted(away.name).message), { name: 'RaftStorageError', reason: 'dataLost' });
    const read: NodeId[] = [];
    const createNode = Object.assign((options: Parameters<typeof createRaftNode>[0]) => createRaftNode(options), {
      readStoredState: (id: NodeId) => {
        read.push(id);
        return id === away.name ? Promise.reject(fromElsewhere) : Promise.resolve({ holdsLog: false, term: 0, configurations: [] });
      },
    });
    const discarded: NodeId[] = [];
    // No `storage` of joinRoom's own: the factory's read is the one asked.
    const back = await test.settle(test.visit(away, { withoutStorage: true, createNode, discardStorage: (id) => void discarded.push(id) }));
    expect(back.status).toBe('fulfilled');
    expect(away.room!.id).not.toBe(away.name);
    expect(read).toEqual([away.name, away.room!.id]);
    expect(discarded).toEqual([away.name]);
    expect(test.events.filter((event) => event.type === 'storageLost').map((event) => event.type === 'storageLost' && event.id)).toEqual([away.name]);
    await test.close();
  });

  it('the same when the refusal comes only as the node starts (a factory that opens its storage there)', async () => {
    const { test, stayed } = await roomWithOneAway(1_305);
    // A newcomer: nothing lists its id, so discovery lets it in, and its factory meets the loss.
    const newcomer = test.peer('d');
    const started: NodeId[] = [];
    const createNode = (options: Parameters<typeof createRaftNode>[0]) => {
      started.push(options.id);
      return options.id === newcomer.name ? Promise.reject(browserDeleted(options.id)) : createRaftNode(options);
    };
    const discarded: NodeId[] = [];
    const back = await test.settle(test.visit(newcomer, { withoutStorage: true, createNode, discardStorage: (id) => void discarded.push(id) }));
    expect(back.status).toBe('fulfilled');
    const freshId = newcomer.room!.id;
    expect(started).toEqual([newcomer.name, freshId]);
    expect(discarded).toEqual([newcomer.name]);
    expect(test.events.filter((event) => event.type === 'storageLost').map((event) => event.type === 'storageLost' && event.id)).toEqual([newcomer.name]);
    // The fresh id is taken in and catches up.
    const caughtUp = await test.clock.runUntil(() => newcomer.room?.store.state.value.before === 'the loss', { timeoutMs: 10_000 });
    expect(caughtUp).toBe(true);
    expect(stayed.every((each) => each.room !== null)).toBe(true);
    await test.close();
  });

  it('under a fixed id the join fails with the storage\'s own error, after a storageLost event, and nothing is discarded', async () => {
    const { test, away } = await roomWithOneAway(1_303);
    const discarded: NodeId[] = [];
    const back = await test.settle(test.visit(away, { nodeId: away.name, storage: (id) => Promise.reject(browserDeleted(id)), discardStorage: (id) => void discarded.push(id) }));
    expect(back.status).toBe('rejected');
    const reason = (back as PromiseRejectedResult).reason as RaftStorageError;
    expect(reason).toBeInstanceOf(RaftStorageError);
    expect(reason.reason).toBe('dataLost');
    expect(test.events.filter((event) => event.type === 'storageLost').map((event) => event.type === 'storageLost' && event.id)).toEqual([away.name]);
    expect(discarded).toEqual([]);
    expect(await away.identity.get(identityKey(roomName))).toBe(away.name);
    await test.close();
  });

  it('any other storage failure (a corrupt record, which may be restored) fails the join and keeps the id', async () => {
    const { test, away } = await roomWithOneAway(1_304);
    const discarded: NodeId[] = [];
    const corrupt = new RaftStorageError('IndexedDbRaftStorage reading the log segment at index 7: a stored record could not be decoded', { reason: 'corruptRecord' });
    const back = await test.settle(test.visit(away, { storage: () => Promise.reject(corrupt), discardStorage: (id) => void discarded.push(id) }));
    expect(back.status).toBe('rejected');
    expect((back as PromiseRejectedResult).reason).toBe(corrupt);
    expect(test.events.filter((event) => event.type === 'storageLost')).toEqual([]);
    expect(discarded).toEqual([]);
    expect(await away.identity.get(identityKey(roomName))).toBe(away.name);
    await test.close();
  });
});

describe('joinRoom when the identity store lost the saved id with the rest of the origin\'s IndexedDB', () => {
  it('goes on under a fresh id, with a storageLost event naming the lost id and that id discarded', async () => {
    // What the browser's durable identity store (durable-identity-store.ts) reports after Chromium
    // deleted every IndexedDB database of the origin: no saved id, and lostValue naming it.
    const { test, away } = await roomWithOneAway(1_305);
    const empty = memoryKeyValueStore();
    const identityStore = { ...empty, lostValue: (key: string) => (key === identityKey(roomName) ? away.name : null) };
    const discarded: NodeId[] = [];
    const back = await test.settle(test.visit(away, { identityStore, discardStorage: (id) => void discarded.push(id) }));
    expect(back.status).toBe('fulfilled');
    const freshId = away.room!.id;
    expect(freshId).not.toBe(away.name);
    expect(await identityStore.get(identityKey(roomName))).toBe(freshId);
    expect(test.events.filter((event) => event.type === 'storageLost')).toEqual([{ type: 'storageLost', id: away.name, reason: expect.stringContaining("the tab's identity and its node's log, term and vote are gone"), at: expect.any(Number) }]);
    expect(discarded).toEqual([away.name]);
    // The room takes the fresh id in with everything committed before.
    const caughtUp = await test.clock.runUntil(() => away.room?.store.state.value.before === 'the loss', { timeoutMs: 8_000 });
    expect(caughtUp).toBe(true);
    await test.close();
  });

  it('says nothing when the store lost nothing, or names a value no node id can be', async () => {
    for (const [seed, lostValue] of [
      [1_306, () => null],
      [1_307, () => 'x'.repeat(100_000)],
    ] as const) {
      const { test, away } = await roomWithOneAway(seed);
      const identityStore = { ...away.identity, lostValue };
      const back = await test.settle(test.visit(away, { identityStore, discardStorage: () => undefined }));
      expect(back.status).toBe('fulfilled');
      expect(away.room!.id).toBe(away.name);
      expect(test.events.filter((event) => event.type === 'storageLost' || event.type === 'storageDiscarded')).toEqual([]);
      await test.close();
    }
  });
});

