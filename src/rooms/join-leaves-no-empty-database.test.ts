// A join that opened an id's storage on the page (`storage: (id) => IndexedDbRaftStorage.open(…)`)
// to read it, and went no further (aborted, failed), left an empty IndexedDB database behind: an
// IndexedDB open creates a database that is not there. The storage deletes one its open created,
// and nothing wrote, as joinRoom closes it (close-storage.ts, closeStorageLeavingNothing); a
// database that held a node's data before the join is left alone. On fake-indexeddb.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import type { NodeId } from '../core/types.ts';
import { IndexedDbRaftStorage } from '../storage/indexeddb-storage.ts';
import { databaseName } from '../storage/indexeddb/schema.ts';
import type { KvCommand } from '../testing/kv-command.ts';
import { deriveSeed, seededRandom } from '../testing/seeded-random.ts';
import { createSimulatedNetwork, reliableNetwork } from '../testing/simulated-network.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { joinRoom, type JoinRoomOptions, type Room } from './join-room.ts';
import { memoryKeyValueStore } from './room-identity.ts';
import { kvReducer, type KvState } from './room-simulation-peers.test-support.ts';
import { currentEndpoint, stubSignaling } from './simulated-room-endpoints.test-support.ts';
import { manualVisibility } from './visibility.ts';

/** Advances the virtual clock until the promise settles; its outcome in words. */
async function outcomeOf(clock: VirtualClock, promise: Promise<unknown>): Promise<string> {
  let done = false;
  const outcome = promise.then(
    () => 'joined',
    (error: unknown) => String(error),
  );
  void outcome.then(() => (done = true));
  await clock.runUntil(() => done, { timeoutMs: 10_000 });
  return outcome;
}

const databaseNames = async (): Promise<string[]> => (await indexedDB.databases()).map((database) => database.name ?? '');

/** One peer alone in a room on a simulated network, its storage in IndexedDB under `prefix:<id>`. */
function aloneInRoom(seed: number, prefix: string) {
  const clock = new VirtualClock(0);
  const network = createSimulatedNetwork(clock, seededRandom(deriveSeed(seed, 'network')), reliableNetwork);
  const endpoints = new Map<NodeId, RaftTransport>();
  const endpoint = (id: NodeId): RaftTransport => currentEndpoint(network, endpoints, id);
  const opened: string[] = [];
  const identityStore = memoryKeyValueStore();
  const options = (): JoinRoomOptions<KvState, KvCommand> => ({
    room: 'no-empty-database',
    signaling: ({ roomId, nodeId: id }) => stubSignaling(roomId, id, endpoint(id)),
    createTransport: (client) => endpoint(client.selfId),
    storage: async (id) => {
      const storage = await IndexedDbRaftStorage.open(`${prefix}:${id}`);
      opened.push(databaseName(`${prefix}:${id}`));
      return storage;
    },
    identityStore,
    visibility: manualVisibility(true),
    store: { initialState: {}, apply: kvReducer },
    raftConfig: { clock, random: seededRandom(seed), heartbeatInterval: 100, electionTimeoutMin: 300, electionTimeoutMax: 600 },
    discoveryMs: 400,
    gossipIntervalMs: 300,
  });
  return { clock, opened, options };
}

describe('a join that opened its storage on the page and went no further', () => {
  it('leaves no database behind when its node cannot start', async () => {
    const peer = aloneInRoom(1, `refused-${Math.random()}`);
    const outcome = await outcomeOf(peer.clock, joinRoom({ ...peer.options(), createNode: () => Promise.reject(new Error('no node today')) }));
    expect(outcome).toBe('Error: no node today');
    expect(peer.opened).toHaveLength(1);
    expect(await databaseNames()).not.toContain(peer.opened[0]);
  });

  it('leaves no database behind when it is aborted while it waits for the room', async () => {
    const peer = aloneInRoom(2, `aborted-${Math.random()}`);
    const controller = new AbortController();
    const joining = joinRoom({ ...peer.options(), signal: controller.signal });
    let done = false;
    const outcome = joining.then(
      () => 'joined',
      (error: unknown) => String(error),
    );
    void outcome.then(() => (done = true));
    await peer.clock.runUntil(() => peer.opened.length === 1, { timeoutMs: 1_000 });
    expect(await databaseNames()).toContain(peer.opened[0]); // opened (and so created) to be read
    controller.abort(new Error('the user went elsewhere'));
    await peer.clock.runUntil(() => done, { timeoutMs: 10_000 });
    expect(await outcome).toBe('Error: the user went elsewhere');
    expect(await databaseNames()).not.toContain(peer.opened[0]);
  });

  it('keeps a database that held the id’s node before the join', async () => {
    const peer = aloneInRoom(3, `kept-${Math.random()}`);
    let room: Room<KvState, KvCommand> | null = null;
    const first = joinRoom(peer.options()).then((joined) => (room = joined));
    expect(await outcomeOf(peer.clock, first)).toBe('joined');
    expect(await peer.clock.runUntil(() => room?.node.role.value === 'leader', { timeoutMs: 5_000 })).toBe(true);
    expect(await outcomeOf(peer.clock, room!.leave())).toBe('joined');
    const again = await outcomeOf(peer.clock, joinRoom({ ...peer.options(), createNode: () => Promise.reject(new Error('no node today')) }));
    expect(again).toBe('Error: no node today');
    expect(peer.opened).toEqual([peer.opened[0], peer.opened[0]]);
    expect(await databaseNames()).toContain(peer.opened[0]);
    const storage = await IndexedDbRaftStorage.open(peer.opened[0]!.replace(/^raftmesh:/, ''));
    expect(await storage.term()).toBeGreaterThan(0);
    storage.close();
  });

  it('keeps a database its open created when something was written to it before the join failed', async () => {
    const peer = aloneInRoom(4, `written-${Math.random()}`);
    const writing = joinRoom({
      ...peer.options(),
      createNode: async (options) => {
        await options.storage.saveTermAndVotedFor(2, null);
        throw new Error('failed after a write');
      },
    });
    expect(await outcomeOf(peer.clock, writing)).toBe('Error: failed after a write');
    expect(await databaseNames()).toContain(peer.opened[0]);
  });
});
