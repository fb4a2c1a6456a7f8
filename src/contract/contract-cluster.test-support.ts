// A cluster built only from the public entries, as code outside the project builds one:
// createRaftNode over InMemoryRaftStorage, a partitionable in-process network that implements
// RaftTransport with the exported observables, and one VirtualClock for every node.
import {
  createEmitter,
  createRaftNode,
  createWatchable,
  InMemoryRaftStorage,
  nodeId,
  seededRandom,
  type ClientIdentity,
  VirtualClock,
  type NodeId,
  type RaftConfig,
  type RaftEnvelope,
  type RaftMetric,
  type RaftNode,
  type RaftStorage,
  type RaftTraceEvent,
  type RaftTransport,
  type WritableWatchable,
} from '../index.ts';

export interface PartitionableNetwork {
  transport(id: NodeId): RaftTransport;
  /** Every frame handed to send (delivered or not), with the time `now` gave when it was sent. */
  readonly sent: Array<{ readonly from: NodeId; readonly to: NodeId; readonly at: number }>;
  /** Cuts every link to and from the node. */
  isolate(id: NodeId): void;
  /** Cuts the one-way link from `from` to `to`. */
  block(from: NodeId, to: NodeId): void;
  heal(): void;
  /** Forgets the node's endpoint, so a restarted node can take its id again. */
  remove(id: NodeId): void;
}

export function createPartitionableNetwork(now: () => number = () => 0): PartitionableNetwork {
  const sent: Array<{ readonly from: NodeId; readonly to: NodeId; readonly at: number }> = [];
  const endpoints = new Map<NodeId, { emit(envelope: RaftEnvelope): void; peers: WritableWatchable<ReadonlySet<NodeId>> }>();
  const cut = new Set<string>();
  const link = (from: NodeId, to: NodeId): string => `${from}\u0000${to}`;
  const refresh = (): void => {
    for (const [id, endpoint] of endpoints) endpoint.peers.set(new Set([...endpoints.keys()].filter((other) => other !== id && !cut.has(link(id, other)))));
  };
  return {
    sent,
    transport(id) {
      const incoming = createEmitter<RaftEnvelope>();
      const peers = createWatchable<ReadonlySet<NodeId>>(new Set(), (left, right) => left.size === right.size && [...left].every((peer) => right.has(peer)));
      endpoints.set(id, { emit: (envelope) => incoming.emit(envelope), peers });
      refresh();
      return {
        selfId: id,
        peers,
        incoming,
        send(to, bytes) {
          sent.push({ from: id, to, at: now() });
          const target = endpoints.get(to);
          if (target === undefined || cut.has(link(id, to))) return;
          const copy = bytes.slice();
          queueMicrotask(() => {
            if (endpoints.get(to) === target && !cut.has(link(id, to))) target.emit({ from: id, bytes: copy });
          });
        },
      };
    },
    isolate(id) {
      for (const other of endpoints.keys()) {
        if (other === id) continue;
        cut.add(link(id, other));
        cut.add(link(other, id));
      }
      refresh();
    },
    block(from, to) {
      cut.add(link(from, to));
      refresh();
    },
    heal() {
      cut.clear();
      refresh();
    },
    remove(id) {
      endpoints.delete(id);
      refresh();
    },
  };
}

export interface ContractCluster {
  readonly clock: VirtualClock;
  readonly network: PartitionableNetwork;
  readonly nodes: Map<string, RaftNode>;
  readonly metrics: Array<RaftMetric & { readonly reporter: string }>;
  readonly trace: RaftTraceEvent[];
  /** Starts (or restarts, on the same storage) a node; the identity defaults to auto. */
  start(name: string, identity?: ClientIdentity): Promise<RaftNode>;
  /** The storage a node started on, kept across restarts. */
  storage(name: string): RaftStorage;
  node(name: string): RaftNode;
  leader(): RaftNode | null;
  waitForLeader(): Promise<RaftNode>;
  /** Advances virtual time until the promise settles; throws if it does not within timeoutMs. */
  settle<T>(promise: Promise<T>, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

export interface ContractClusterOptions {
  readonly names?: readonly string[];
  readonly voters?: readonly string[];
  readonly learners?: readonly string[];
  readonly seed?: number;
  readonly raftConfig?: Omit<RaftConfig, 'clock' | 'random'>;
  /** Nodes started with RaftConfig.witness (the others as raftConfig says). */
  readonly witnesses?: readonly string[];
}

export async function startContractCluster(options: ContractClusterOptions = {}): Promise<ContractCluster> {
  const names = options.names ?? ['a', 'b', 'c'];
  const voters = (options.voters ?? names).map((name) => nodeId(name));
  const learners = (options.learners ?? []).map((name) => nodeId(name));
  const seed = options.seed ?? 1;
  const clock = new VirtualClock(0, { drain: 'promiseContinuations' });
  const network = createPartitionableNetwork(() => clock.now());
  const storages = new Map<string, RaftStorage>();
  const nodes = new Map<string, RaftNode>();
  const metrics: Array<RaftMetric & { readonly reporter: string }> = [];
  const trace: RaftTraceEvent[] = [];
  const start = async (name: string, identity?: ClientIdentity): Promise<RaftNode> => {
    const id = nodeId(name);
    let storage = storages.get(name);
    if (storage === undefined) {
      storage = new InMemoryRaftStorage();
      storages.set(name, storage);
    }
    const node = await createRaftNode({
      id,
      clusterConfig: learners.length === 0 ? { voters } : { voters, learners },
      transport: network.transport(id),
      storage,
      raftConfig: { ...options.raftConfig, ...(options.witnesses?.includes(name) === true ? { witness: true } : {}), clock, random: seededRandom(seed * 1_000 + name.charCodeAt(0)) },
      onMetric: (metric) => metrics.push({ ...metric, reporter: name }),
      ...(identity === undefined ? {} : { identity }),
    });
    node.trace.subscribe((event) => trace.push(event));
    nodes.set(name, node);
    return node;
  };
  for (const name of names) await start(name);
  const leader = (): RaftNode | null => {
    let best: RaftNode | null = null;
    for (const node of nodes.values()) {
      if (node.role.value === 'leader' && (best === null || node.term.value > best.term.value)) best = node;
    }
    return best;
  };
  const settle = async <T>(promise: Promise<T>, timeoutMs = 20_000): Promise<T> => {
    let outcome: { value: T } | { error: unknown } | null = null;
    promise.then(
      (value) => (outcome = { value }),
      (error: unknown) => (outcome = { error }),
    );
    await clock.runUntil(() => outcome !== null, timeoutMs);
    const settled = outcome as { value: T } | { error: unknown } | null;
    if (settled === null) throw new Error(`not settled within ${timeoutMs} ms of virtual time`);
    if ('error' in settled) throw settled.error;
    return settled.value;
  };
  return {
    clock,
    network,
    nodes,
    metrics,
    trace,
    start,
    storage(name) {
      const storage = storages.get(name);
      if (storage === undefined) throw new Error(`no storage for ${name}`);
      return storage;
    },
    node(name) {
      const node = nodes.get(name);
      if (node === undefined) throw new Error(`no node ${name}`);
      return node;
    },
    leader,
    async waitForLeader() {
      await clock.runUntil(() => leader() !== null, 20_000);
      const found = leader();
      if (found === null) throw new Error('no leader elected');
      return found;
    },
    settle,
    async close() {
      for (const node of nodes.values()) await node.close();
    },
  };
}

/** Closes the node and starts it again on its own storage, under `identity` (default auto). */
export async function restartNode(cluster: ContractCluster, name: string, identity?: ClientIdentity): Promise<RaftNode> {
  await cluster.node(name).close();
  cluster.network.remove(nodeId(name));
  return cluster.start(name, identity);
}

/** The call's outcome, without settling the clock: 'pending', { value } or { error }. */
export function track<T>(promise: Promise<T>): { readonly outcome: 'pending' | { value: T } | { error: unknown } } {
  const state: { outcome: 'pending' | { value: T } | { error: unknown } } = { outcome: 'pending' };
  promise.then(
    (value) => (state.outcome = { value }),
    (error: unknown) => (state.outcome = { error }),
  );
  return state;
}
