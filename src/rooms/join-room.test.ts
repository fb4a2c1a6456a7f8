// joinRoom scenarios on the simulated network (virtual clock, seeded): discovery and growth to
// three voters, reload keeps identity, a hidden leader hands off, the witness keeps a two-tab
// room alive, the room channel's hellos are well-formed and bounded, and the channel keeps the
// underlying transport's frame bounds; leave() closes the storage joinRoom opened.
import { roomMembershipPolicy } from './join-room-options.ts';
import { silenceFloorMs } from './wedge-verdict.ts';
import { describe, expect, it } from 'vitest';
import type { NodeId } from '../core/types.ts';
import { nodeId } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import type { RaftStorage } from '../storage/raft-storage.ts';
import type { KvCommand } from '../testing/kv-command.ts';
import { deriveSeed, seededRandom } from '../testing/seeded-random.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';
import { createSimulatedNetwork, reliableNetwork } from '../testing/simulated-network.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { createRoomChannel, decodeHello, encodeHello, roomFrameTag } from './room-channel.ts';
import type { RoomEvent } from './room-coordinator.ts';
import { joinRoom } from './join-room.ts';
import { bootstrapKey, identityKey, memoryKeyValueStore, type KeyValueStore } from './room-identity.ts';
import { collectingRejections } from './unhandled-rejections.test-support.ts';
import { arrive, createSimulatedPeer, depart, kvReducer, type KvState, type PeerEnvironment, type RoomTimings, type SimulatedPeer } from './room-simulation-peers.test-support.ts';
import { currentEndpoint, stubSignaling } from './simulated-room-endpoints.test-support.ts';
import { manualVisibility } from './visibility.ts';
import { createWatchable } from '../core/observable.ts';
import { SignalingRefusedError, type SignalingClient } from '../signaling/signaling-client.ts';

const timings: RoomTimings = { unreachableAfterMs: 1_500, discoveryMs: 400, gossipIntervalMs: 300, coordinatorIntervalMs: 100, targetVoters: 5 };

/** Advances the virtual clock until the promise settles (at most timeoutMs). */
async function settle<T>(clock: VirtualClock, promise: Promise<T>, timeoutMs = 5_000): Promise<T> {
  let done = false;
  promise.then(() => (done = true), () => (done = true));
  await clock.runUntil(() => done, { timeoutMs });
  return promise;
}

function room(seed: number, options: { witness?: string } = {}) {
  const clock = new VirtualClock(0);
  const network = createSimulatedNetwork(clock, seededRandom(deriveSeed(seed, 'network')), reliableNetwork);
  const events: { peer: NodeId; event: RoomEvent }[] = [];
  const environment: PeerEnvironment = {
    seed,
    clock,
    network,
    timings,
    onEvent: (peer, event) => events.push({ peer, event }),
    onJoined: () => {},
    ...(options.witness === undefined ? {} : { witness: nodeId(options.witness) }),
  };
  const peers = new Map<string, SimulatedPeer>();
  const peer = (name: string): SimulatedPeer => {
    let existing = peers.get(name);
    if (existing === undefined) {
      existing = createSimulatedPeer(environment, name);
      peers.set(name, existing);
    }
    return existing;
  };
  const leader = (): SimulatedPeer | undefined => [...peers.values()].find((candidate) => candidate.room?.node.role.value === 'leader');
  const config = () => leader()?.room?.node.membership.value;
  return { clock, environment, events, peer, leader, config, close: async () => {
    for (const each of peers.values()) depart(environment, each);
    await clock.advance(100);
  } };
}

describe('joinRoom', () => {
  it("an application onEvent that throws never stops the room: it still grows to three voters and hands nothing to the caller", async () => {
    let thrown = 0;
    const raised = await collectingRejections(async () => {
      const test = room(807);
      const throwing: PeerEnvironment = {
        ...test.environment,
        onEvent: () => {
          thrown += 1;
          throw new Error('the application listener broke');
        },
      };
      for (const name of ['a', 'b', 'c']) arrive(throwing, test.peer(name));
      // Before the fix the leader's first membershipChangeStarted threw inside its policy tick:
      // the change never started, the tick never re-armed, and the room stayed at one voter.
      expect(await test.clock.runUntil(() => test.config()?.voters.length === 3, { timeoutMs: 8_000 })).toBe(true);
      for (const name of ['a', 'b', 'c']) depart(throwing, test.peer(name));
      await test.clock.advance(100);
    });
    expect(thrown).toBeGreaterThan(0);
    expect(raised).toHaveLength(thrown);
  });

  it('the first peer bootstraps alone; newcomers join as learners and become voters in odd counts', async () => {
    const test = room(801);
    arrive(test.environment, test.peer('a'));
    await test.clock.advance(1_500);
    expect(test.config()).toEqual({ voters: ['a'] });
    arrive(test.environment, test.peer('b'));
    await test.clock.advance(2_000);
    expect(test.config()).toEqual({ voters: ['a'], learners: ['b'] });
    arrive(test.environment, test.peer('c'));
    await test.clock.runUntil(() => test.config()?.voters.length === 3, { timeoutMs: 5_000 });
    expect([...test.config()!.voters].sort()).toEqual(['a', 'b', 'c']);
    const c = test.peer('c').room!.store;
    const written = c.dispatch({ type: 'put', key: 'k', value: 'v' });
    expect((await settle(test.clock, written)).state).toEqual({ k: 'v' });
    await test.close();
  });

  it('a reloaded peer comes back with its id and log, not as a stranger', async () => {
    const test = room(802);
    for (const name of ['a', 'b', 'c']) arrive(test.environment, test.peer(name));
    await test.clock.runUntil(() => test.config()?.voters.length === 3, { timeoutMs: 8_000 });
    const b = test.peer('b');
    const dispatched = b.room!.store.dispatch({ type: 'append', key: 'k', value: '<1>' });
    await settle(test.clock, dispatched);
    expect(await b.identity.get(identityKey('sim'))).toBe('b');
    expect(await b.identity.get(bootstrapKey('sim'))).not.toBeNull();
    depart(test.environment, b);
    await test.clock.advance(300);
    arrive(test.environment, b);
    await test.clock.runUntil(() => b.room !== null && b.room.store.state.value['k'] === '<1>', { timeoutMs: 3_000 });
    expect(b.room!.id).toBe('b');
    expect(b.storages.size).toBe(1);
    // Back before unreachableAfterMs: still one of the three voters, nothing changed.
    expect([...test.config()!.voters].sort()).toEqual(['a', 'b', 'c']);
    await test.close();
  });

  it('a leader whose page becomes hidden hands leadership to a visible voter', async () => {
    const test = room(803);
    for (const name of ['a', 'b', 'c']) arrive(test.environment, test.peer(name));
    await test.clock.runUntil(() => test.config()?.voters.length === 3, { timeoutMs: 8_000 });
    const hidden = test.leader()!;
    const other = [...['a', 'b', 'c']].map(test.peer).find((candidate) => candidate !== hidden)!;
    other.visibility.visible.set(false);
    await test.clock.advance(1_000);
    hidden.visibility.visible.set(false);
    await test.clock.runUntil(() => test.leader() !== undefined && test.leader() !== hidden, { timeoutMs: 2_000 });
    const next = test.leader()!;
    expect(next).not.toBe(hidden);
    expect(next.visibility.visible.value).toBe(true);
    expect(test.events.some(({ event }) => event.type === 'leadershipHandoffStarted' && event.target === next.id)).toBe(true);
    await test.close();
  });

  it('with a witness, two tabs make three voters and either tab may close', async () => {
    const test = room(804, { witness: 'w' });
    for (const name of ['a', 'w', 'b']) {
      arrive(test.environment, test.peer(name));
      await test.clock.advance(600);
    }
    await test.clock.runUntil(() => test.config()?.voters.length === 3, { timeoutMs: 8_000 });
    const tab = test.leader()!.id === 'w' ? test.peer('a') : test.leader()!;
    depart(test.environment, tab);
    const survivor = tab.id === 'a' ? test.peer('b') : test.peer('a');
    await test.clock.advance(1_000);
    const written = survivor.room!.store.dispatch({ type: 'put', key: 'k', value: 'still writable' });
    await settle(test.clock, written);
    // The closed tab is removed once gone for unreachableAfterMs; the witness stays a voter.
    await test.clock.runUntil(() => test.config() !== undefined && !test.config()!.voters.includes(tab.id), { timeoutMs: 5_000 });
    expect(test.config()!.voters).toContain('w');
    await test.close();
  });
});

describe('room hellos', () => {
  it('round-trip, and anything else is refused without throwing', () => {
    const hello = { type: 'hello', visible: false, member: true, voters: [nodeId('a'), nodeId('b')], term: 3, leader: nodeId('a') } as const;
    expect(decodeHello(encodeHello(hello))).toEqual(hello);
    expect(decodeHello(new Uint8Array([1, 2, 3]))).toBeNull();
    const garbage = [
      '{',
      '[]',
      JSON.stringify({ ...hello, term: -1 }),
      JSON.stringify({ ...hello, voters: [] }),
      JSON.stringify({ ...hello, voters: Array.from({ length: 65 }, (_, position) => `n${position}`) }),
      JSON.stringify({ ...hello, leader: 7 }),
      JSON.stringify({ ...hello, type: 'other' }),
      JSON.stringify({ ...hello, member: 'yes' }),
    ];
    for (const text of garbage) expect(decodeHello(new Uint8Array([roomFrameTag, ...new TextEncoder().encode(text)]))).toBeNull();
    expect(decodeHello(new Uint8Array(20_000).fill(roomFrameTag))).toBeNull();
  });

  it('carry startingAnyway only when true; a hello without it, or with a field this version does not know, still decodes', () => {
    const hello = { type: 'hello', visible: true, member: false, voters: null, term: 0, leader: null } as const;
    const choosing = { ...hello, startingAnyway: true } as const;
    expect(decodeHello(encodeHello(choosing))).toEqual(choosing);
    expect(new TextDecoder().decode(encodeHello(hello).subarray(1))).not.toContain('startingAnyway');
    const encode = (value: unknown): Uint8Array => new Uint8Array([roomFrameTag, ...new TextEncoder().encode(JSON.stringify(value))]);
    expect(decodeHello(encode({ ...hello, startingAnyway: false }))).toEqual(hello);
    expect(decodeHello(encode({ ...hello, somethingNewer: 1 }))).toEqual(hello);
    expect(decodeHello(encode({ ...hello, startingAnyway: 'yes' }))).toBeNull();
  });

  it('carry deferringTo only while deferring, naming a well-formed id', () => {
    const hello = { type: 'hello', visible: true, member: false, voters: null, term: 0, leader: null } as const;
    const deferring = { ...hello, deferringTo: nodeId('b') };
    expect(decodeHello(encodeHello(deferring))).toEqual(deferring);
    expect(new TextDecoder().decode(encodeHello(hello).subarray(1))).not.toContain('deferring');
    const encode = (value: unknown): Uint8Array => new Uint8Array([roomFrameTag, ...new TextEncoder().encode(JSON.stringify(value))]);
    for (const bad of [true, 1, '', 'x'.repeat(10_000), null]) expect(decodeHello(encode({ ...hello, deferringTo: bad }))).toBeNull();
  });
});

describe('room channel', () => {
  it("hands the node the underlying transport's maxPayloadBytes and orderedFrameBytes, or neither", () => {
    const network = createLoopbackNetwork();
    const bounded = createRoomChannel({ ...network.transport(nodeId('a')), maxPayloadBytes: 65_536, orderedFrameBytes: 16_383 });
    expect(bounded.transport.maxPayloadBytes).toBe(65_536);
    expect(bounded.transport.orderedFrameBytes).toBe(16_383);
    const unbounded = createRoomChannel(network.transport(nodeId('b')));
    expect('maxPayloadBytes' in unbounded.transport).toBe(false);
    expect('orderedFrameBytes' in unbounded.transport).toBe(false);
    bounded.close();
    unbounded.close();
  });
});

describe('joinRoom options', () => {
  it('are all checked before anything is opened: an invalid store or interval opens no storage and no signaling', async () => {
    const opened: string[] = [];
    const base = {
      room: 'checked',
      identityStore: memoryKeyValueStore(),
      signaling: () => {
        opened.push('signaling');
        throw new Error('signaling must not be created');
      },
      createTransport: () => {
        opened.push('transport');
        throw new Error('transport must not be created');
      },
      storage: () => {
        opened.push('storage');
        throw new Error('storage must not be opened');
      },
      store: { initialState: {}, apply: (state: object) => state },
    };
    const invalid = [
      { ...base, store: { initialState: {} } as never },
      { ...base, store: { ...base.store, snapshotEvery: 0 } },
      { ...base, coordinatorIntervalMs: 0 },
      { ...base, changeTimeoutMs: -1 },
      { ...base, discoveryMs: 1.5 },
      { ...base, offlineBootstrapAfterMs: -1 },
      { ...base, room: '' },
      { ...base, secret: '' },
      { ...base, policy: { targetVoters: 0 } },
      { ...base, policy: { silentAfterMs: 10_000 } }, // below the 14.4 s a wedged learner may take at the defaults
      { ...base, store: undefined as never },
      { ...base, signaling: undefined as never },
      { ...base, createTransport: undefined as never },
      { ...base, storage: 'not a function' as never },
      { ...base, raftConfig: { heartbeatIntervalMs: 50 } as never },
    ];
    for (const options of invalid) {
      const outcome = await joinRoom(options).then(
        () => 'joined',
        (error: unknown) => (error instanceof RangeError || error instanceof TypeError ? 'refused' : `other: ${String(error)}`),
      );
      expect(outcome).toBe('refused');
    }
    expect(opened).toEqual([]);
  });

  it('hold policy.silentAfterMs above the time a wedged learner may take to be told to rejoin, naming it; the default rises with slow timings', () => {
    const base = { room: 'named', signaling: () => ({}) as never, createTransport: () => ({}) as never, store: { initialState: {}, apply: (state: object) => state } };
    // (10 + 4) election timeouts of 300 ms and three gossip intervals of 1 s, twice.
    expect(silenceFloorMs(300, 10, 1_000)).toBe(14_400);
    expect(roomMembershipPolicy(base).settings.silentAfterMs).toBe(30_000);
    expect(roomMembershipPolicy({ ...base, policy: { silentAfterMs: 14_400 } }).settings.silentAfterMs).toBe(14_400);
    expect(() => roomMembershipPolicy({ ...base, policy: { silentAfterMs: 14_399 } })).toThrow(/silentAfterMs = 14399 ms is shorter than .*14400 ms/);
    // Election timeouts of up to 2 s and gossip every 5 s: 2 * (14 * 2,000 + 15,000) = 86 s.
    expect(roomMembershipPolicy({ ...base, raftConfig: { electionTimeoutMin: 1_000, electionTimeoutMax: 2_000 }, gossipIntervalMs: 5_000 }).settings.silentAfterMs).toBe(86_000);
  });

  it('name what is missing, instead of failing deep inside on undefined', async () => {
    const refusal = (options: unknown): Promise<string> => joinRoom(options as never).then(() => 'joined', (error: unknown) => String(error));
    const base = { room: 'named', signaling: () => ({}) as never, createTransport: () => ({}) as never, store: { initialState: {}, apply: (state: object) => state } };
    expect(await refusal({ ...base, store: undefined })).toMatch(/^TypeError: joinRoom: store must be the replicated store's options, \{ initialState, apply/);
    expect(await refusal({ ...base, signaling: undefined })).toMatch(/^TypeError: joinRoom: signaling must be a signaling client, or a function/);
    expect(await refusal({ ...base, createTransport: undefined })).toMatch(/^TypeError: joinRoom: createTransport must be a function/);
    expect(await refusal(undefined)).toMatch(/^TypeError: joinRoom: pass the room options/);
  });

  it('refuse an option they do not know, naming the one it looks like, where a misspelt one was ignored and its default taken', async () => {
    const refusal = (options: unknown): Promise<string> => joinRoom(options as never).then(() => 'joined', (error: unknown) => String(error));
    const base = { room: 'named', signaling: () => ({}) as never, createTransport: () => ({}) as never, store: { initialState: {}, apply: (state: object) => state } };
    expect(await refusal({ ...base, discoverMs: 1_500 })).toMatch(/^TypeError: joinRoom: unknown option "discoverMs" \(did you mean discoveryMs\?\); the options are room, secret, /);
    expect(await refusal({ ...base, colour: 'blue' })).toMatch(/^TypeError: joinRoom: unknown option "colour"; the options are /);
  });
});

/** In-memory storage with a `close`, as IndexedDbRaftStorage has: records each call and whether the node had stopped by then. */
class ClosableStorage extends InMemoryRaftStorage {
  readonly closes: { nodeStopped: boolean }[] = [];
  node: RaftNode | null = null;

  close(): void {
    this.closes.push({ nodeStopped: this.node !== null && this.node.stopped.value !== null });
  }
}

describe('joinRoom when signaling fails', () => {
  it('a signaling client refused for good (a wrong room secret) fails the join with its reason: no cluster of one, and the storage closed', async () => {
    const storage = new ClosableStorage();
    let refuse: (reason: Error) => void = () => {};
    const { clock, joining } = startJoining(831, storage, { signaling: notReadyUntil(new Promise((resolve) => (refuse = resolve))) });
    const outcome = joining.then(() => 'joined', (error: unknown) => error);
    await clock.advance(3_000);
    const refusal = new SignalingRefusedError('admission-refused', 'the room secret does not match');
    refuse(refusal);
    await clock.advance(500);
    // Before the fix the peer bootstrapped a cluster of its own after a 5 s grace and took writes.
    expect(await outcome).toBe(refusal);
    expect(await storage.term()).toBe(0);
    expect(storage.closes).toHaveLength(1);
  });

  it('a member restarted from its storage starts without signaling, and a later refusal is reported as signalingStopped', async () => {
    const storage = new ClosableStorage();
    const identityStore = memoryKeyValueStore();
    const clock = new VirtualClock(0);
    const first = startJoining(833, storage, { identityStore, clock });
    const room = await settle(clock, first.joining, 10_000);
    await settle(clock, room.store.dispatch({ type: 'put', key: 'k', value: 'v' }), 10_000);
    await settle(clock, room.leave(), 10_000);
    const events: RoomEvent[] = [];
    let refuse: (reason: Error) => void = () => {};
    const again = startJoining(833, storage, { identityStore, clock, onEvent: (event) => events.push(event), signaling: notReadyUntil(new Promise((resolve) => (refuse = resolve))) });
    const restarted = await settle(clock, again.joining, 10_000);
    expect(restarted.id).toBe(room.id);
    expect(events.filter((event) => event.type === 'signalingStopped')).toEqual([]);
    refuse(new SignalingRefusedError('admission-refused', 'the room secret does not match'));
    await clock.advance(10);
    expect(events.filter((event) => event.type === 'signalingStopped')).toEqual([{ type: 'signalingStopped', reason: 'SignalingRefusedError: admission-refused: the room secret does not match', at: clock.now() - 10 }]);
    // A leave closes the client itself: that is no stop to report.
    await settle(clock, restarted.leave(), 10_000);
    expect(events.filter((event) => event.type === 'signalingStopped')).toHaveLength(1);
  });

  it('a server that never answers keeps a newcomer waiting, not leading a cluster of its own', async () => {
    const storage = new ClosableStorage();
    const { clock, joining } = startJoining(832, storage, { signaling: notReadyUntil(new Promise(() => {})) });
    let settled = false;
    joining.then(() => (settled = true), () => (settled = true));
    await clock.advance(60_000);
    expect(settled).toBe(false);
    expect(await storage.term()).toBe(0);
  });
});

interface JoiningOptions {
  readonly signal?: AbortSignal | undefined;
  readonly wrapTransport?: (transport: RaftTransport) => RaftTransport;
  /** Changes the stub signaling client the peer gets (default: ready, never stopping). */
  readonly signaling?: (client: SignalingClient) => SignalingClient;
  readonly identityStore?: KeyValueStore;
  readonly onEvent?: (event: RoomEvent) => void;
  readonly clock?: VirtualClock;
}

/** A newcomer's joinRoom, alone on the simulated network, on the storage given (not yet settled). */
function startJoining(seed: number, storage: RaftStorage, options: JoiningOptions = {}) {
  const clock = options.clock ?? new VirtualClock(0);
  const network = createSimulatedNetwork(clock, seededRandom(deriveSeed(seed, 'network')), reliableNetwork);
  const endpoints = new Map<NodeId, RaftTransport>();
  const endpoint = (id: NodeId): RaftTransport => currentEndpoint(network, endpoints, id);
  const wrapTransport = options.wrapTransport ?? ((transport: RaftTransport) => transport);
  const signaling = options.signaling ?? ((client: SignalingClient) => client);
  const joining = joinRoom<KvState, KvCommand>({
    room: 'alone',
    signaling: ({ roomId, nodeId: id }) => signaling(stubSignaling(roomId, id, endpoint(id))),
    createTransport: (client) => wrapTransport(endpoint(client.selfId)),
    storage: () => storage,
    identityStore: options.identityStore ?? memoryKeyValueStore(),
    visibility: manualVisibility(true),
    store: { initialState: {}, apply: kvReducer },
    raftConfig: { clock, random: seededRandom(seed), heartbeatInterval: 100, electionTimeoutMin: 300, electionTimeoutMax: 600 },
    discoveryMs: 400,
    gossipIntervalMs: 300,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
  });
  return { clock, joining };
}

/** A signaling client that is never ready and stops as `stop` says. */
const notReadyUntil = (stop: Promise<Error | null>) => (client: SignalingClient): SignalingClient => ({ ...client, ready: createWatchable(false), closed: stop });

/** One peer alone in a room on the simulated network, on the storage given, once it leads. */
async function joinAlone(seed: number, storage: RaftStorage, signal?: AbortSignal, wrapTransport?: (transport: RaftTransport) => RaftTransport) {
  const { clock, joining } = startJoining(seed, storage, { signal, ...(wrapTransport === undefined ? {} : { wrapTransport }) });
  const joined = await settle(clock, joining);
  expect(await clock.runUntil(() => joined.node.role.value === 'leader', { timeoutMs: 5_000 })).toBe(true);
  return { clock, room: joined };
}

describe('room.leave()', () => {
  it('closes the storage joinRoom opened, once and after the node stopped; a second leave() closes nothing more', async () => {
    const storage = new ClosableStorage();
    const { clock, room } = await joinAlone(821, storage);
    storage.node = room.node;
    expect(storage.closes).toEqual([]);
    await settle(clock, room.leave());
    // Before the fix leave() closed the node only: an IndexedDB connection stayed open, and
    // IndexedDbRaftStorage.destroy(name) right after waited on it.
    expect(storage.closes).toEqual([{ nodeStopped: true }]);
    await settle(clock, room.leave());
    await clock.advance(1_000);
    expect(storage.closes).toEqual([{ nodeStopped: true }]);
  });

  it('closes it too when the signal given to joinRoom aborts', async () => {
    const storage = new ClosableStorage();
    const controller = new AbortController();
    const { clock, room } = await joinAlone(822, storage, controller.signal);
    storage.node = room.node;
    controller.abort(new Error('the page went away'));
    expect(await clock.runUntil(() => storage.closes.length > 0, { timeoutMs: 1_000 })).toBe(true);
    await settle(clock, room.leave());
    expect(storage.closes).toEqual([{ nodeStopped: true }]);
  });

  it('closes the transport createTransport made, when it has a close method (the WebRTC transport closes its connections)', async () => {
    const closed: NodeId[] = [];
    const { clock, room } = await joinAlone(824, new InMemoryRaftStorage(), undefined, (transport) => ({
      selfId: transport.selfId,
      peers: transport.peers,
      incoming: transport.incoming,
      send: (to, bytes) => transport.send(to, bytes),
      close: () => void closed.push(transport.selfId),
    }));
    expect(closed).toEqual([]);
    await settle(clock, room.leave());
    // Before the fix leave() closed the signaling client but not the transport: a page that left
    // stayed connected to every peer, which went on seeing it as reachable.
    expect(closed).toEqual([room.id]);
  });

  it('leaves a storage without a close method (in-memory) as before: the node stops and leave() resolves', async () => {
    const { clock, room } = await joinAlone(823, new InMemoryRaftStorage());
    await settle(clock, room.leave());
    expect(room.node.stopped.value).not.toBeNull();
  });
});
