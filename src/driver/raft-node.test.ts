// The node-level contract of createRaftNode (API.md "The node"): clusters on the deterministic
// simulator (virtual clock, seeded), single nodes on real time. The same contract runs against
// createWorkerRaftNode in Chromium (src/worker/worker-node.browser.test.ts).
import { describe, expect, it } from 'vitest';
import { dedupWindowSize } from '../core/client-session-format.ts';
import { nodeId, type NodeId } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';
import { createSimulatedCluster } from '../testing/cluster.ts';
import { createRaftNode } from './create-raft-node.ts';
import type { RaftNode } from './node-options.ts';
import { describeRaftNodeContract, type ContractCluster, type RaftNodeHarness } from './raft-node-contract.test-support.ts';
import { CorruptStorageError } from './restore.ts';

/** Generous virtual deadlines: on the simulator they cost no real time. */
const leaderTimeoutMs = 3_000;
const settleTimeoutMs = 10_000;

async function simulatedCluster(seed: number): Promise<ContractCluster> {
  const cluster = createSimulatedCluster({ seed, size: 3 });
  await cluster.start();
  const nodes = [...cluster.nodes.values()].map((simulated) => simulated.node!);
  const idOf = (node: RaftNode): NodeId => node.id;
  return {
    nodes,
    async waitForLeader() {
      const leader = await cluster.waitForLeader(leaderTimeoutMs);
      if (leader?.node == null) throw new Error(`no leader within ${leaderTimeoutMs} virtual ms`);
      return leader.node;
    },
    runFor: (ms) => cluster.runFor(ms),
    async runUntil(predicate) {
      if (!(await cluster.runUntil(predicate, settleTimeoutMs))) throw new Error(`condition not reached within ${settleTimeoutMs} virtual ms`);
    },
    async settle(promise) {
      let settled = false;
      const tracked = promise.finally(() => (settled = true));
      tracked.catch(() => {}); // handled by the caller once returned; not "unhandled" meanwhile
      await cluster.runUntil(() => settled, settleTimeoutMs);
      if (!settled) throw new Error(`promise not settled within ${settleTimeoutMs} virtual ms`);
      return tracked;
    },
    isolate: (node) => cluster.network.isolate(idOf(node)),
    heal: () => cluster.network.heal(),
    close: () => cluster.close(),
  };
}

const storages = new Map<string, InMemoryRaftStorage>();

const harness: RaftNodeHarness = {
  cluster: simulatedCluster,
  async solo(id, options = {}) {
    const network = createLoopbackNetwork();
    let storage = options.storageName === undefined ? undefined : storages.get(options.storageName);
    if (storage === undefined) {
      storage = new InMemoryRaftStorage();
      if (options.storageName !== undefined) storages.set(options.storageName, storage);
    }
    const node = await createRaftNode({
      id,
      clusterConfig: options.clusterConfig?.(id) ?? { voters: [id] },
      transport: network.transport(id),
      storage,
      ...(options.raftConfig === undefined ? {} : { raftConfig: options.raftConfig }),
      ...(options.onMetric === undefined ? {} : { onMetric: options.onMetric }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    return { node, network };
  },
};

describeRaftNodeContract('createRaftNode', harness);

describe('createRaftNode: storage', () => {
  it('refuses to start on corrupted storage', async () => {
    const storage = new InMemoryRaftStorage();
    await storage.saveTermAndVotedFor(1, null);
    await storage.appendEntries([{ index: 1, term: 5, command: new Uint8Array(0), isNoOp: true }]);
    const network = createLoopbackNetwork();
    const id = nodeId('a');
    await expect(createRaftNode({ id, clusterConfig: { voters: [id] }, transport: network.transport(id), storage })).rejects.toThrow(CorruptStorageError);
  });
});

describe('createRaftNode: an abort while it restores', () => {
  it('rejects with the signal’s reason at once, and no node starts when the storage answers later', async () => {
    const id = nodeId('solo');
    const network = createLoopbackNetwork();
    const storage = new InMemoryRaftStorage();
    let answer: () => void = () => {};
    const held = new Promise<void>((resolve) => (answer = resolve));
    // The storage takes its time to answer (a database another tab holds, say).
    const slowStorage = Object.assign(Object.create(storage) as InMemoryRaftStorage, { term: async () => (await held, storage.term()) });
    const sent: unknown[] = [];
    const transport = network.transport(id);
    const controller = new AbortController();
    const starting = createRaftNode({ id, clusterConfig: { voters: [id] }, transport: { ...transport, selfId: id, peers: transport.peers, incoming: transport.incoming, send: (to, frame) => (sent.push(frame), transport.send(to, frame)) }, storage: slowStorage, signal: controller.signal });
    const reason = new Error('the user went elsewhere');
    controller.abort(reason);
    await expect(starting).rejects.toBe(reason);
    answer();
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // a started solo node would have campaigned and written its term by now
    expect(await storage.term()).toBe(0);
    expect(sent).toEqual([]);
  });
});

describe('createRaftNode: an abort just as the restore answers', () => {
  it('never hands back a running node for an aborted signal, whichever microtask the abort lands in', async () => {
    const id = nodeId('solo');
    for (let delay = 0; delay < 12; delay += 1) {
      const storage = new InMemoryRaftStorage();
      const controller = new AbortController();
      // Each read the restore makes resolves, and `delay` microtasks later the signal aborts.
      const abortingStorage = new Proxy(storage, {
        get(target, property, receiver) {
          const value: unknown = Reflect.get(target, property, receiver);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            const result: unknown = (value as (...given: unknown[]) => unknown).apply(target, args);
            if (result instanceof Promise) {
              void result.then(async () => {
                for (let tick = 0; tick < delay; tick += 1) await Promise.resolve();
                controller.abort(new Error('late'));
              });
            }
            return result;
          };
        },
      });
      const node = await createRaftNode({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage: abortingStorage, signal: controller.signal }).catch((error: unknown) => {
        expect(error).toEqual(new Error('late'));
        return null;
      });
      // Handed back only before the abort landed: the abort then closes it.
      if (node !== null) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        expect(node.stopped.value).toBeInstanceOf(Error);
      }
    }
  });
});

describe('createRaftNode: request ids', () => {
  it('an invalid requestId rejects at once and holds no place in the window of unresolved proposals', async () => {
    const cluster = createSimulatedCluster({ seed: 71, size: 1 });
    await cluster.start();
    const leader = (await cluster.waitForLeader(leaderTimeoutMs))!.node!;
    const invalid = Array.from({ length: dedupWindowSize + 1 }, () => leader.propose(new Uint8Array([1]), { requestId: 0 }));
    const outcomes = await cluster.settle(Promise.allSettled(invalid), settleTimeoutMs);
    expect(outcomes?.every((outcome) => outcome.status === 'rejected' && outcome.reason instanceof RangeError)).toBe(true);
    const valid = await cluster.settle(leader.propose(new Uint8Array([2])), settleTimeoutMs);
    expect(valid?.command).toEqual(new Uint8Array([2]));
    await cluster.close();
  });

  it('an invalid requestId behind a full window rejects without stopping the node', async () => {
    const cluster = createSimulatedCluster({ seed: 72, size: 3 });
    await cluster.start();
    const leader = (await cluster.waitForLeader(leaderTimeoutMs))!.node!;
    cluster.network.isolate(leader.id); // nothing commits: the window fills and stays full
    const pending = Array.from({ length: dedupWindowSize }, () => leader.propose(new Uint8Array([1])));
    for (const proposal of pending) proposal.catch(() => {}); // they fail when leadership is lost
    await expect(cluster.settle(leader.propose(new Uint8Array([2]), { requestId: -1 }), settleTimeoutMs)).rejects.toThrow(RangeError);
    cluster.network.heal();
    await cluster.runFor(1_000);
    expect(leader.stopped.value).toBeNull();
    await cluster.close();
  });
});

describe('createRaftNode: trace', () => {
  it('a listener subscribed before anything happens sees the very first events (the election timer firing)', async () => {
    const cluster = createSimulatedCluster({ seed: 41, size: 3 });
    await cluster.start();
    const seen = new Map<NodeId, string[]>();
    for (const simulated of cluster.nodes.values()) {
      const events: string[] = [];
      seen.set(simulated.id, events);
      simulated.node!.trace.subscribe((event) => events.push(event.type));
    }
    const leader = await cluster.waitForLeader(leaderTimeoutMs);
    // Nothing reached the winner before its timer fired: its first events are that timeout and
    // the PreVote it started (before the fix they were recorded only from the next step on).
    expect(seen.get(leader!.id)?.slice(0, 2)).toEqual(['timeout', 'preVoteStarted']);
    await cluster.close();
  });
});
