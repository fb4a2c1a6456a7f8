// The RaftNode contract's harness for createWorkerRaftNode: real time, each node's engine in its
// own worker, every node's transport a loopback transport on the page (so the frames really cross
// the worker boundary both ways). `makeWorker` decides what a worker is: a real module worker in
// Chromium, an in-process stand-in in Node.
import { nodeId, type NodeId } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { waitFor, type ContractCluster, type RaftNodeHarness } from '../driver/raft-node-contract.test-support.ts';
import { createLoopbackNetwork, type LoopbackNetwork } from '../transport/loopback.ts';
import type { WorkerRaftConfig } from './protocol.ts';
import { createWorkerRaftNode, type WorkerEndpoint } from './worker-client.ts';

/**
 * Election timeouts well above any stall a shared 2-core machine causes (Chromium, three workers
 * and other engineers' jobs), so a test sees only the elections it provokes.
 */
export const patientRaftConfig: WorkerRaftConfig = { electionTimeoutMin: 1_000, electionTimeoutMax: 2_000, heartbeatInterval: 100 };

/** A loopback network whose links to and from chosen nodes can be cut. */
export function createPartitionableNetwork(): { network: LoopbackNetwork; isolate(id: NodeId): void; heal(): void } {
  const inner = createLoopbackNetwork();
  const isolated = new Set<NodeId>();
  return {
    network: {
      transport(id) {
        const transport = inner.transport(id);
        return {
          selfId: id,
          peers: transport.peers,
          incoming: transport.incoming,
          send: (to, bytes) => (isolated.has(id) || isolated.has(to) ? undefined : transport.send(to, bytes)),
          close: () => transport.close(),
        };
      },
    },
    isolate: (id) => isolated.add(id),
    heal: () => isolated.clear(),
  };
}

function leaderOf(nodes: readonly RaftNode[]): RaftNode | null {
  let best: RaftNode | null = null;
  for (const node of nodes) {
    if (node.stopped.value !== null || node.role.value !== 'leader') continue;
    if (best === null || node.term.value > best.term.value) best = node;
  }
  return best;
}

export function createWorkerHarness(makeWorker: () => WorkerEndpoint | undefined): RaftNodeHarness {
  return {
    async cluster() {
      const ids = ['n1', 'n2', 'n3'].map((name) => nodeId(name));
      const partitionable = createPartitionableNetwork();
      const nodes = await Promise.all(
        ids.map((id) => {
          const worker = makeWorker();
          return createWorkerRaftNode({
            id,
            clusterConfig: { voters: ids },
            transport: partitionable.network.transport(id),
            storage: { type: 'memory' },
            raftConfig: patientRaftConfig,
            ...(worker === undefined ? {} : { worker }),
          });
        }),
      );
      const cluster: ContractCluster = {
        nodes,
        async waitForLeader() {
          await waitFor(() => leaderOf(nodes) !== null, 'a leader');
          return leaderOf(nodes)!;
        },
        runFor: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        runUntil: (predicate) => waitFor(predicate, 'the cluster to reach a condition'),
        settle: (promise) => promise,
        isolate: (node) => partitionable.isolate(node.id),
        heal: () => partitionable.heal(),
        close: async () => void (await Promise.all(nodes.map((node) => node.close()))),
      };
      return cluster;
    },
    async solo(id, options = {}) {
      const network = createLoopbackNetwork();
      const worker = makeWorker();
      const node = await createWorkerRaftNode({
        id,
        clusterConfig: options.clusterConfig?.(id) ?? { voters: [id] },
        transport: network.transport(id),
        storage: options.storageName === undefined ? { type: 'memory' } : { type: 'indexeddb', name: options.storageName },
        ...(options.raftConfig === undefined ? {} : { raftConfig: options.raftConfig }),
        ...(options.onMetric === undefined ? {} : { onMetric: options.onMetric }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        ...(worker === undefined ? {} : { worker }),
      });
      return { node, network };
    },
  };
}
