// An edge peer's process dies and stays down past the policy's unreachable window: the room
// replaces it (a voter) by a caught-up learner and elects a leader in a newer term. When it starts again on its data directory
// it must get back in — under a fresh id on empty storage, the old id's storage discarded — rather
// than refuse to start for good, which it did while it passed its id to joinRoom as fixed and one
// storage for every id (room-chaos seed 3 with an edge peer: exit 2 on every restart).
// Real room peers on the simulated network with a virtual clock; the edge peer's joinRoom options
// are edge-room-storage.ts's, with in-memory storages on its shelf.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RaftStorageError } from '../core/errors.ts';
import { nodeId, type NodeId } from '../core/types.ts';
import { currentEndpoint, stubSignaling } from '../rooms/simulated-room-endpoints.test-support.ts';
import { joinRoom, type JoinRoomOptions, type Room } from '../rooms/join-room.ts';
import type { RoomEvent } from '../rooms/room-coordinator.ts';
import { identityKey, memoryKeyValueStore, type KeyValueStore } from '../rooms/room-identity.ts';
import { kvReducer, type KvState } from '../rooms/room-simulation-peers.test-support.ts';
import { manualVisibility } from '../rooms/visibility.ts';
import { readOwner } from '../storage/file/directory-owner.ts';
import { FileRaftStorage } from '../storage/file/file-storage.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import type { KvCommand } from '../testing/kv-command.ts';
import { deriveSeed, seededRandom } from '../testing/seeded-random.ts';
import { createSimulatedNetwork, reliableNetwork } from '../testing/simulated-network.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { adoptSharedDirectory, edgeJoinOptions, fileStorageShelf, raftDirectoryOf, type ClosableRaftStorage, type StorageShelf } from './edge-room-storage.ts';

const roomName = 'edge-restart';
const unreachableAfterMs = 1_500;

/** In-memory storages that outlive a process, one per id, like `raft-<id>` directories. */
function memoryShelf(): StorageShelf & { readonly held: Map<NodeId, ClosableRaftStorage>; readonly removed: NodeId[] } {
  const held = new Map<NodeId, ClosableRaftStorage>();
  const removed: NodeId[] = [];
  return {
    held,
    removed,
    async open(id) {
      let storage = held.get(id);
      if (storage === undefined) {
        storage = Object.assign(new InMemoryRaftStorage(), { close: () => Promise.resolve() });
        held.set(id, storage);
      }
      return storage;
    },
    async remove(id) {
      held.delete(id);
      removed.push(id);
    },
  };
}

function createTestRoom(seed: number) {
  const clock = new VirtualClock(0);
  const network = createSimulatedNetwork(clock, seededRandom(deriveSeed(seed, 'network')), reliableNetwork);
  const rooms: Room<KvState, KvCommand>[] = [];
  /** Every room's events, in the order they came. */
  const events: RoomEvent[] = [];
  const join = async (name: string, identity: KeyValueStore, transports: Map<NodeId, RaftTransport>, extra: Partial<JoinRoomOptions<KvState, KvCommand>>, visit: number): Promise<Room<KvState, KvCommand>> => {
    const room = await joinRoom<KvState, KvCommand>({
      room: roomName,
      onEvent: (event) => events.push(event),
      signaling: (context) => stubSignaling(roomName, context.nodeId, currentEndpoint(network, transports, context.nodeId)),
      createTransport: (signaling) => currentEndpoint(network, transports, signaling.selfId),
      storage: () => new InMemoryRaftStorage(),
      identityStore: identity,
      visibility: manualVisibility(true),
      store: { initialState: {}, apply: kvReducer },
      policy: { unreachableAfterMs, targetVoters: 5 },
      raftConfig: { clock, random: seededRandom(deriveSeed(seed, `${name}-${visit}`)), heartbeatInterval: 100, electionTimeoutMin: 300, electionTimeoutMax: 600 },
      discoveryMs: 400,
      gossipIntervalMs: 300,
      coordinatorIntervalMs: 1_000,
      ...extra,
    });
    rooms.push(room);
    return room;
  };
  const browser = (name: string): Promise<Room<KvState, KvCommand>> => {
    const identity = memoryKeyValueStore();
    void identity.set(identityKey(roomName), name);
    return join(name, identity, new Map(), {}, 1);
  };
  return { clock, network, rooms, events, join, browser };
}

describe('an edge peer that was down past the unreachable window', () => {
  it('starts again on its data directory, under a fresh id on empty storage, and the room takes it back', async () => {
    const test = createTestRoom(1_414);
    const edgeIdentity = memoryKeyValueStore();
    await edgeIdentity.set(identityKey(roomName), 'c');
    const shelf = memoryShelf();
    const edgeTransports = new Map<NodeId, RaftTransport>();
    const startEdge = (visit: number): Promise<Room<KvState, KvCommand>> => {
      const options = edgeJoinOptions(edgeIdentity, shelf);
      return test.join('c', edgeIdentity, edgeTransports, { identityStore: options.identityStore, storage: options.storage, discardStorage: options.discardStorage }, visit);
    };
    const joining = [test.browser('a'), test.browser('b'), startEdge(1)];
    expect(await test.clock.runUntil(() => test.rooms.length === 3 && test.rooms.every((room) => room.node.membership.value.voters.length === 3), { timeoutMs: 10_000 })).toBe(true);
    const [a, b, edge] = (await Promise.all(joining)) as [Room<KvState, KvCommand>, Room<KvState, KvCommand>, Room<KvState, KvCommand>];
    expect(edge.id).toBe(nodeId('c'));
    const d = test.browser('d');
    expect(await test.clock.runUntil(() => test.rooms.length === 4 && (a.node.membership.value.learners ?? []).includes(nodeId('d')), { timeoutMs: 10_000 })).toBe(true);
    const browsers = [a, b, await d];
    const written = a.store.dispatch({ type: 'put', key: 'x', value: 'before the crash' });
    expect(await test.clock.runUntil(() => edge.store.state.value['x'] === 'before the crash', { timeoutMs: 10_000 })).toBe(true);
    await written;

    // SIGKILL: gone from the network at once; the node stops with nothing said to anyone.
    test.network.setDown(nodeId('c'), true);
    void edge.leave();
    const gone = (room: Room<KvState, KvCommand>): boolean => !room.node.membership.value.voters.includes(nodeId('c')) && !(room.node.membership.value.learners ?? []).includes(nodeId('c'));
    // Until the removal has committed (its leader says so), the others may still hold the joint
    // configuration, whose old half (a, b and c) has no quorum once its leader is cut off too: a
    // node's membership shows the new half only. Cutting the leader off before then left the two
    // others pre-voting for good (found when a change of timing moved the cut-off there).
    const removalCommitted = (): boolean => test.events.some((event) => event.type === 'membershipChanged' && 'removed' in event.decision && event.decision.removed === nodeId('c'));
    expect(await test.clock.runUntil(() => browsers.every(gone) && browsers.every((room) => room.node.membership.value.voters.length === 3) && removalCommitted(), { timeoutMs: 20_000 })).toBe(true);
    // A leader of a newer term: the one that removed it is cut off for a moment.
    const termBefore = a.node.term.value;
    const leader = browsers.find((room) => room.node.role.value === 'leader');
    expect(leader).toBeDefined();
    test.network.setDown(leader!.id, true);
    expect(await test.clock.runUntil(() => browsers.some((room) => room !== leader && room.node.role.value === 'leader' && room.node.term.value > termBefore), { timeoutMs: 20_000 })).toBe(true);
    test.network.setDown(leader!.id, false);
    expect(await test.clock.runUntil(() => browsers.every((room) => room.node.leader.value !== null && room.node.term.value > termBefore), { timeoutMs: 20_000 })).toBe(true);

    // The process starts again on the same data directory.
    let restarted: Room<KvState, KvCommand> | null = null;
    let failure: unknown = null;
    startEdge(2).then((room) => (restarted = room), (error: unknown) => (failure = error));
    const back = await test.clock.runUntil(() => failure !== null || (restarted !== null && [...browsers, restarted].every((room) => {
      const config = room.node.membership.value;
      return [...config.voters, ...(config.learners ?? [])].includes((restarted as Room<KvState, KvCommand> | null)?.id ?? nodeId('c'));
    })), { timeoutMs: 30_000 });
    expect(failure).toBeNull();
    expect(back).toBe(true);
    const room = restarted as Room<KvState, KvCommand> | null;
    expect(room?.id).not.toBe(nodeId('c'));
    expect(edgeIdentity.get(identityKey(roomName))).toBe(room?.id);
    // The removed id's storage is discarded; the fresh id's holds the room's log again.
    expect(shelf.removed).toEqual([nodeId('c')]);
    expect(await test.clock.runUntil(() => room?.store.state.value['x'] === 'before the crash', { timeoutMs: 10_000 })).toBe(true);
    const leaving = test.rooms.map((each) => each.leave());
    await test.clock.advance(500);
    await Promise.all(leaving);
  });
});

describe('an edge peer data directory', () => {
  it('keeps each id in raft-<id>, hands an old shared raft/ to the id the identity file names, and removes a given-up id', async () => {
    const data = mkdtempSync(join(tmpdir(), 'raftmesh-edge-storage-'));
    try {
      mkdirSync(join(data, 'raft'));
      writeFileSync(join(data, 'raft', 'journal'), 'old');
      // An id minted by this start (another room on this data directory) never takes it: the log
      // is an earlier id's (a review, 2026-12-07: `--room B` on A's directory took A's log).
      expect(await adoptSharedDirectory(data, { id: nodeId('b'), minted: true })).toBe('left');
      expect(existsSync(join(data, 'raft-b'))).toBe(false);
      expect(readFileSync(join(data, 'raft', 'journal'), 'utf8')).toBe('old');
      expect(await adoptSharedDirectory(data, { id: nodeId('c'), minted: false })).toBe('adopted');
      expect(existsSync(join(data, 'raft'))).toBe(false);
      expect(readFileSync(join(data, 'raft-c', 'journal'), 'utf8')).toBe('old');
      expect(await adoptSharedDirectory(data, { id: nodeId('c'), minted: false })).toBe('none'); // nothing left to adopt
      expect(readFileSync(join(data, 'raft-c', 'journal'), 'utf8')).toBe('old');

      const shelf = fileStorageShelf(data);
      const options = edgeJoinOptions(memoryKeyValueStore(), shelf);
      const fresh = await options.storage(nodeId('d'));
      await fresh.saveTermAndVotedFor(4, null);
      expect(existsSync(join(data, 'raft-d'))).toBe(true);
      await options.discardStorage(nodeId('d'));
      expect(existsSync(join(data, 'raft-d'))).toBe(false);
      await options.close();
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });

  it("records each id in its directory, an adopted raft/ included, and refuses a directory copied to another id's name", async () => {
    const data = mkdtempSync(join(tmpdir(), 'raftmesh-edge-storage-'));
    try {
      // A raft/ that FileRaftStorage wrote before ids had directories (and owners were recorded).
      const legacy = await FileRaftStorage.open(join(data, 'raft'), { fsync: false });
      await legacy.saveTermAndVotedFor(7, nodeId('c'));
      await legacy.close();
      await adoptSharedDirectory(data, { id: nodeId('c'), minted: false });
      const options = edgeJoinOptions(memoryKeyValueStore(), fileStorageShelf(data));
      const adopted = await options.storage(nodeId('c'));
      expect(await adopted.term()).toBe(7);
      expect(await readOwner(raftDirectoryOf(data, nodeId('c')))).toBe('c');
      const fresh = await options.storage(nodeId('d'));
      await fresh.saveTermAndVotedFor(1, null);
      expect(await readOwner(raftDirectoryOf(data, nodeId('d')))).toBe('d');
      await options.close();
      // raft-c copied over as raft-e's: e would take c's term, vote and log.
      cpSync(raftDirectoryOf(data, nodeId('c')), raftDirectoryOf(data, nodeId('e')), { recursive: true });
      const refused = await edgeJoinOptions(memoryKeyValueStore(), fileStorageShelf(data)).storage(nodeId('e')).then(() => null, (error: unknown) => error);
      expect(refused).toBeInstanceOf(RaftStorageError);
      expect((refused as RaftStorageError).message).toMatch(/belongs to node "c", not to node "e"/);
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });

  it('refuses (inUse) to discard an id whose directory another raftmesh-peer on the data directory runs a node on, and keeps its journal', async () => {
    const data = mkdtempSync(join(tmpdir(), 'raftmesh-edge-storage-'));
    const id = nodeId('d');
    const directory = raftDirectoryOf(data, id);
    // Another process (a second peer started on this data directory) holds raft-d open.
    const holder = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../storage/file/lock-holder.test-support.ts'), directory], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const said = await new Promise<string>((resolve) => holder.stdout.once('data', (chunk: Buffer) => resolve(String(chunk).trim())));
      expect(said).toBe('opened');
      const before = readdirSync(directory).sort();
      const options = edgeJoinOptions(memoryKeyValueStore(), fileStorageShelf(data));
      const refused: unknown = await options.discardStorage(id).then(() => null, (error: unknown) => error);
      expect(refused).toBeInstanceOf(RaftStorageError);
      expect((refused as RaftStorageError).reason).toBe('inUse');
      expect((refused as RaftStorageError).message).toContain(`discardStorage("d"): ${directory} is in use by process ${holder.pid}`);
      expect(readdirSync(directory).sort()).toEqual(before);
      expect(before).toContain('journal');
      // Once that peer has stopped, the discard goes through.
      await new Promise<void>((resolve) => {
        holder.once('exit', () => resolve());
        holder.stdin.end();
      });
      await options.discardStorage(id);
      expect(readdirSync(data)).toEqual([]);
      await options.close();
    } finally {
      holder.kill('SIGKILL');
      rmSync(data, { recursive: true, force: true });
    }
  });

  it('keeps an id with path separators inside the data directory, escaped, and removes only that', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'raftmesh-edge-storage-'));
    const data = join(parent, 'data');
    mkdirSync(data);
    try {
      const hostile = nodeId('x/../../outside\\back%2F');
      expect(raftDirectoryOf(data, hostile)).toBe(join(data, 'raft-x%2F..%2F..%2Foutside%5Cback%252F'));
      expect(raftDirectoryOf(data, nodeId('peer-k0a1.b_c~d'))).toBe(join(data, 'raft-peer-k0a1.b_c~d'));
      const options = edgeJoinOptions(memoryKeyValueStore(), fileStorageShelf(data));
      const storage = await options.storage(hostile);
      await storage.saveTermAndVotedFor(2, null);
      expect(readdirSync(parent)).toEqual(['data']);
      expect(readdirSync(data)).toEqual(['raft-x%2F..%2F..%2Foutside%5Cback%252F']);
      await options.discardStorage(hostile);
      expect(readdirSync(data)).toEqual([]);
      await options.close();
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });
});
