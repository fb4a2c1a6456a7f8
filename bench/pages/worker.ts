// The page side of bench/worker.ts: a 3-node cluster with its engines on this page
// (createRaftNode) or each in its own worker (createWorkerRaftNode), the same workload, so the
// difference is the cost of the worker boundary. A third placement keeps the frames off the page
// too (a network worker), as an app does when it hands its data channels to the workers.
import { createLoopbackNetwork, createRaftNode, InMemoryRaftStorage, nodeId, type NodeId, type RaftNode } from '../../src/index.ts';
import { createWorkerRaftNode } from '../../src/worker.ts';

export type Placement = 'page' | 'workers' | 'workersNetworkOffPage';

export interface WorkloadResult {
  readonly commitsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly commits: number;
}

declare global {
  interface Window {
    workerBench: { run(placement: Placement, inFlight: number, totalCommits: number): Promise<WorkloadResult> };
  }
}

const command = new Uint8Array(100).fill(7);

/**
 * Election timeouts far above the stalls of a shared 2-core machine (several threads per placement
 * compete for it), the same for every placement: the runs measure replication, not elections.
 */
const raftConfig = { electionTimeoutMin: 1_000, electionTimeoutMax: 2_000, heartbeatInterval: 100 };

async function startCluster(placement: Placement): Promise<{ nodes: RaftNode[]; close(): Promise<void> }> {
  const ids = ['n1', 'n2', 'n3'].map((name) => nodeId(name));
  if (placement === 'page') {
    const network = createLoopbackNetwork();
    const nodes = await Promise.all(ids.map((id) => createRaftNode({ id, clusterConfig: { voters: ids }, transport: network.transport(id), storage: new InMemoryRaftStorage(), raftConfig })));
    return { nodes, close: async () => void (await Promise.all(nodes.map((node) => node.close()))) };
  }
  if (placement === 'workers') {
    const network = createLoopbackNetwork();
    const nodes = await Promise.all(ids.map((id) => createWorkerRaftNode({ id, clusterConfig: { voters: ids }, transport: network.transport(id), storage: { type: 'memory' }, raftConfig })));
    return { nodes, close: async () => void (await Promise.all(nodes.map((node) => node.close()))) };
  }
  const networkWorker = new Worker(new URL('../../src/worker/network-worker.test-support.ts', import.meta.url), { type: 'module' });
  const portFor = (id: NodeId): MessagePort => {
    const channel = new MessageChannel();
    networkWorker.postMessage({ id, port: channel.port1 }, [channel.port1]);
    return channel.port2;
  };
  const nodes = await Promise.all(ids.map((id) => createWorkerRaftNode({ id, clusterConfig: { voters: ids }, transport: { type: 'port', selfId: id, port: portFor(id) }, storage: { type: 'memory' }, raftConfig })));
  return {
    nodes,
    close: async () => {
      await Promise.all(nodes.map((node) => node.close()));
      networkWorker.terminate();
    },
  };
}

async function leaderOf(nodes: readonly RaftNode[]): Promise<RaftNode> {
  for (;;) {
    const leader = nodes.find((node) => node.role.value === 'leader');
    if (leader !== undefined) return leader;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const at = (sorted: readonly number[], quantile: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * quantile))] ?? 0;

window.workerBench = {
  // Counted, not timed: with engines and loopback on the page the whole pipeline runs in
  // microtasks, which starve timers, so the run ends after a number of commits instead.
  async run(placement, inFlight, totalCommits) {
    const cluster = await startCluster(placement);
    const leader = await leaderOf(cluster.nodes);
    const warmUpCommits = Math.max(inFlight, Math.floor(totalCommits / 10));
    let proposed = 0;
    let started = 0;
    const latencies: number[] = [];
    const lane = async (): Promise<void> => {
      while (proposed < warmUpCommits + totalCommits) {
        proposed += 1;
        const measured = proposed > warmUpCommits;
        if (proposed === warmUpCommits + 1) started = performance.now();
        const sent = performance.now();
        await leader.propose(command);
        if (measured) latencies.push(performance.now() - sent);
      }
    };
    await Promise.all(Array.from({ length: inFlight }, lane));
    const elapsedSeconds = (performance.now() - started) / 1000;
    await cluster.close();
    const sorted = latencies.sort((left, right) => left - right);
    return { commitsPerSecond: sorted.length / elapsedSeconds, p50Ms: at(sorted, 0.5), p99Ms: at(sorted, 0.99), commits: sorted.length };
  },
};
