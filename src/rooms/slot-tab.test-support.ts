// One browser tab for the slot tests (tab-slot-rejoin.test.ts, tab-slot-leave-edges.test.ts):
// joins of one room with the default identity store (a slot of tab-identity.ts; the test files
// load fake-indexeddb without Web Locks: the IndexedDB-lock fallback), a lone peer on the simulated
// network, virtual clock, each id's storage in memory and kept across joins as an IndexedDB
// database would be. `useFakeLocalStorage()` in the file gives the identity store its legacy values.
import { afterEach, beforeEach } from 'vitest';
import type { NodeId } from '../core/types.ts';
import { createRaftNode } from '../driver/create-raft-node.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { deriveSeed, seededRandom } from '../testing/seeded-random.ts';
import { settleOnVirtualClock } from '../testing/settle-on-clock.test-support.ts';
import { createSimulatedNetwork, reliableNetwork } from '../testing/simulated-network.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { joinRoom, type Room } from './join-room.ts';
import { currentEndpoint, stubSignaling } from './simulated-room-endpoints.test-support.ts';
import { manualVisibility } from './visibility.ts';

export interface Counter {
  readonly counter: number;
}
export interface Add {
  readonly add: number;
}

/** A localStorage of the test's own for each test, removed after it. */
export function useFakeLocalStorage(): void {
  const values = new Map<string, string>();
  const fakeLocalStorage = {
    getItem: (key: string) => values.get(key) ?? null,
    setItem: (key: string, value: string) => void values.set(key, value),
    removeItem: (key: string) => void values.delete(key),
  };
  beforeEach(() => {
    values.clear();
    (globalThis as { localStorage?: unknown }).localStorage = fakeLocalStorage;
  });
  afterEach(() => {
    delete (globalThis as { localStorage?: unknown }).localStorage;
  });
}

export interface TabKnobs {
  /** The storage's close never resolves (a leave that hangs on it). */
  hangStorageClose: boolean;
  /** node.close() closes the node, then rejects (leave() rejects before it closes the storage). */
  nodeCloseRejects: boolean;
}

let rooms = 0;

export function createSlotTab(seed: number) {
  const room = `slots-${Date.now()}-${(rooms += 1)}`;
  const clock = new VirtualClock(0);
  const network = createSimulatedNetwork(clock, seededRandom(deriveSeed(seed, 'network')), reliableNetwork);
  const transports = new Map<NodeId, RaftTransport>();
  const storages = new Map<NodeId, InMemoryRaftStorage>();
  /** Ids whose storage was asked for while another join's node on it was still open. */
  const openedWhileInUse: NodeId[] = [];
  const inUse = new Set<NodeId>();
  const knobs: TabKnobs = { hangStorageClose: false, nodeCloseRejects: false };
  let joins = 0;
  const join = (signal?: AbortSignal): Promise<Room<Counter, Add>> => {
    joins += 1;
    return joinRoom<Counter, Add>({
      room,
      signaling: (context) => stubSignaling(room, context.nodeId, currentEndpoint(network, transports, context.nodeId)),
      createTransport: (signaling) => currentEndpoint(network, transports, signaling.selfId),
      storage: (id) => {
        if (inUse.has(id)) openedWhileInUse.push(id);
        inUse.add(id);
        const storage = storages.get(id) ?? new InMemoryRaftStorage();
        storages.set(id, storage);
        return Object.assign(storage, {
          close: (): Promise<void> => (knobs.hangStorageClose ? new Promise<void>(() => undefined) : Promise.resolve(void inUse.delete(id))),
        });
      },
      createNode: async (options): Promise<RaftNode> => {
        const node = await createRaftNode(options);
        const close = node.close.bind(node);
        return Object.assign(node, {
          close: async (): Promise<void> => {
            await close();
            if (knobs.nodeCloseRejects) throw new Error('node.close() failed');
          },
        });
      },
      visibility: manualVisibility(true),
      store: { initialState: { counter: 0 }, apply: (state, command) => ({ counter: state.counter + command.add }) },
      raftConfig: { clock, random: seededRandom(deriveSeed(seed, `join-${joins}`)), heartbeatInterval: 100, electionTimeoutMin: 300, electionTimeoutMax: 600 },
      discoveryMs: 400,
      gossipIntervalMs: 300,
      coordinatorIntervalMs: 100,
      ...(signal === undefined ? {} : { signal }),
    });
  };
  const settle = async <T>(promise: Promise<T>): Promise<T> => {
    const outcome = await settleOnVirtualClock(clock, promise, 10_000);
    if (outcome.status === 'rejected') throw outcome.reason;
    return outcome.value;
  };
  const bump = async (joined: Room<Counter, Add>): Promise<number> => {
    await settle(joined.store.dispatch({ add: 1 }));
    return (await settle(joined.store.read())).counter;
  };
  return { clock, join, settle, bump, knobs, openedWhileInUse };
}
