// The tab's identity slot at the edges of leave() (from an outside review, 2026-12-07): an aborted
// join waiting for a slot on its way back, a node whose close() fails, leave() twice with an abort. Same harness as src/rooms/tab-slot-rejoin.test.ts: the browser tab's default identity
// store on fake-indexeddb without Web Locks (the IndexedDB-lock fallback), a lone peer on the
// simulated network, virtual clock; each id's storage in memory, kept across joins.
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NodeId } from '../core/types.ts';
import { createRaftNode } from '../driver/create-raft-node.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { deriveSeed, seededRandom } from '../testing/seeded-random.ts';
import { createSimulatedNetwork, reliableNetwork } from '../testing/simulated-network.ts';
import { settleOnVirtualClock } from '../testing/settle-on-clock.test-support.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { joinRoom, type Room } from './join-room.ts';
import { currentEndpoint, stubSignaling } from './simulated-room-endpoints.test-support.ts';
import { manualVisibility } from './visibility.ts';

interface Counter {
  readonly counter: number;
}
interface Add {
  readonly add: number;
}

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

let rooms = 0;

interface TabKnobs {
  /** The storage's close never resolves (a leave that hangs on it). */
  hangStorageClose: boolean;
  /** node.close() closes the node, then rejects (leave() rejects before it closes the storage). */
  nodeCloseRejects: boolean;
}

function createTab(seed: number) {
  const room = `s55-${Date.now()}-${(rooms += 1)}`;
  const clock = new VirtualClock(0);
  const network = createSimulatedNetwork(clock, seededRandom(deriveSeed(seed, 'network')), reliableNetwork);
  const transports = new Map<NodeId, RaftTransport>();
  const storages = new Map<NodeId, InMemoryRaftStorage>();
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
  return { clock, join, settle, knobs, openedWhileInUse };
}

/** How `promise` settles within `ms` of real time: 'resolved', 'rejected' or 'pending'. */
function outcomeWithin(promise: Promise<unknown>, ms: number): Promise<'resolved' | 'rejected' | 'pending'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), ms)));
  return Promise.race([promise.then(() => 'resolved' as const, () => 'rejected' as const), late]).finally(() => clearTimeout(timer));
}

describe('the tab slot given back at leave(), at the edges', () => {
  it('an aborted join that waits for a slot still being released rejects at once, not after ownReleaseWaitMs (10 s)', async () => {
    const tab = createTab(55_001);
    const first = await tab.settle(tab.join());
    // The previous room's leave hangs (its storage never closes): its slot is announced, never released.
    tab.knobs.hangStorageClose = true;
    void first.leave();
    const controller = new AbortController();
    const joining = tab.join(controller.signal);
    joining.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort(new DOMException('unmounted', 'AbortError'));
    // Before the fix the claim waited on the released slot with a plain timer and looked at the signal only after it.
    expect(await outcomeWithin(joining, 2_000)).toBe('rejected');
  }, 20_000);

  it('a leave() whose node.close() rejects still closes its storage before the slot goes back: the next join, on the same id, never finds it open', async () => {
    const tab = createTab(55_002);
    const first = await tab.settle(tab.join());
    tab.knobs.nodeCloseRejects = true;
    await expect(tab.settle(first.leave())).rejects.toThrow('node.close() failed');
    tab.knobs.nodeCloseRejects = false;
    const again = await tab.settle(tab.join());
    expect(again.id).toBe(first.id);
    // Before the fix the old storage was never closed (leaveRoom stopped at node.close()), yet the slot went back.
    expect(tab.openedWhileInUse).toEqual([]);
    await tab.settle(again.leave());
  });

  it('leave() twice at once, then an abort of the same room\'s signal, gives the slot back once; the next join is the same id on a closed storage', async () => {
    const tab = createTab(55_003);
    const controller = new AbortController();
    const first = await tab.settle(tab.join(controller.signal));
    const leaves = Promise.all([first.leave(), first.leave()]);
    controller.abort(new DOMException('unmounted', 'AbortError'));
    const again = tab.join();
    await tab.settle(leaves);
    const joined = await tab.settle(again);
    expect(joined.id).toBe(first.id);
    expect(tab.openedWhileInUse).toEqual([]);
    await tab.settle(joined.leave());
  });
});
