// A whole cluster on one virtual clock: real engines (createRaftNode), a simulated network,
// crashable storage, and the safety checker watching every node. Deterministic from one seed.
import type { RaftConfig } from '../core/config.ts';
import { nodeId, type ClientId, type LogEntry, type NodeId } from '../core/types.ts';
import { SafetyChecker } from './checkers.ts';
import { deriveSeed, seededRandom } from './seeded-random.ts';
import { createSimulatedNetwork, reliableNetwork, type NetworkConditions, type SimulatedNetwork } from './simulated-network.ts';
import type { ResumeOrder } from './pausable-process.ts';
import type { SnapshotSizeProfile } from './simulated-state.ts';
import { createSimulatedNode, crashSimulatedNode, restartSimulatedNode, startSimulatedNode, type ClusterObservers, type NodeEnvironment, type SimulatedNode } from './simulated-node.ts';
import { VirtualClock } from './virtual-clock.ts';

export type { ClusterObservers, SimulatedNode } from './simulated-node.ts';

export interface SimulatedClusterOptions {
  readonly seed: number;
  readonly size?: number;
  readonly ids?: readonly string[];
  /** Bootstrap voters (default: every node); the rest start outside the config. */
  readonly voters?: readonly string[];
  readonly raftConfig?: Omit<RaftConfig, 'clock' | 'random'>;
  /** Nodes that are witnesses (RaftConfig.witness): they vote but never lead. */
  readonly witnesses?: readonly string[];
  readonly network?: NetworkConditions;
  readonly maxWriteDelayMs?: number;
  /** Durable client identities per node (default: auto). */
  readonly identities?: ReadonlyMap<NodeId, ClientId>;
  /** Probability, per applied entry, that a node publishes a snapshot (compaction in simulation). */
  readonly snapshotProbability?: number;
  /**
   * How large those snapshots are: up to `maxBytes`, favouring multiples of `chunkBytes` and one
   * byte either side (default: a 20-byte header only; the empty state publishes 0 bytes).
   */
  readonly snapshotProfile?: SnapshotSizeProfile;
  /** Bytes per second each link carries (SimulatedNetworkOptions; default unbounded). */
  readonly linkBytesPerSecond?: number;
}

export interface SimulatedCluster {
  readonly seed: number;
  readonly clock: VirtualClock;
  readonly network: SimulatedNetwork;
  readonly checker: SafetyChecker;
  readonly ids: readonly NodeId[];
  readonly nodes: ReadonlyMap<NodeId, SimulatedNode>;
  /** Synchronous listeners (see ClusterObservers); none by default. */
  readonly observers: ClusterObservers;
  start(): Promise<void>;
  /** Power loss: unsynced writes are lost, the node is closed and cut from the network. */
  crash(id: NodeId): void;
  /** A new engine on the crashed node's durable storage; it re-applies from index 1. */
  restart(id: NodeId): Promise<void>;
  /**
   * Pauses the node's process (SIGSTOP, a long garbage collection, a frozen tab): its timers,
   * frames in and frames out wait until `resume` (pausable-process.ts). No-op for a crashed node.
   */
  pause(id: NodeId): void;
  /** Resumes a paused node, handing it what waited in the given order. */
  resume(id: NodeId, order?: ResumeOrder): void;
  isPaused(id: NodeId): boolean;
  /** Cuts every link between the groups (see SimulatedNetwork.partition). */
  partition(groups: readonly (readonly NodeId[])[]): void;
  /** Clears partitions and one-way blocks (crashed nodes stay down until restarted). */
  heal(): void;
  /**
   * Proposes on a node; resolves with the entry (acknowledged) or null if the call failed. Its
   * timeout is virtual and virtual time moves only inside settle, runFor or runUntil, so await
   * it as `cluster.settle(cluster.propose(...))`: awaited alone it never settles.
   */
  propose(id: NodeId, command: Uint8Array, options?: { timeoutMs?: number }): Promise<LogEntry | null>;
  /** Advances virtual time until the promise settles (or timeoutMs passes: then undefined). */
  settle<T>(promise: Promise<T>, timeoutMs?: number): Promise<T | undefined>;
  leader(): SimulatedNode | null;
  waitForLeader(timeoutMs: number): Promise<SimulatedNode | null>;
  runFor(ms: number): Promise<void>;
  runUntil(predicate: () => boolean, timeoutMs: number): Promise<boolean>;
  isAlive(id: NodeId): boolean;
  close(): Promise<void>;
}

/** Advances the clock until the promise settles; its value, or undefined after timeoutMs. */
async function settleOnClock<T>(runUntil: SimulatedCluster['runUntil'], promise: Promise<T>, timeoutMs: number): Promise<T | undefined> {
  let outcome: { readonly value: T } | { readonly error: unknown } | null = null;
  promise.then(
    (value) => (outcome = { value }),
    (error: unknown) => (outcome = { error }),
  );
  await runUntil(() => outcome !== null, timeoutMs);
  const settled = outcome as { readonly value: T } | { readonly error: unknown } | null;
  if (settled === null) return undefined;
  if ('error' in settled) throw settled.error;
  return settled.value;
}

/** The live node that leads the highest term, if any. */
function currentLeader(nodes: ReadonlyMap<NodeId, SimulatedNode>): SimulatedNode | null {
  let best: { simulated: SimulatedNode; term: number } | null = null;
  for (const simulated of nodes.values()) {
    const node = simulated.node;
    if (node === null || node.role.value !== 'leader') continue;
    if (best === null || node.term.value > best.term) best = { simulated, term: node.term.value };
  }
  return best?.simulated ?? null;
}

/** Proposes with a virtual-time deadline; an acknowledged entry is reported to the checker. */
async function proposeWithDeadline(clock: VirtualClock, checker: SafetyChecker, simulated: SimulatedNode | undefined, command: Uint8Array, timeoutMs: number): Promise<LogEntry | null> {
  const node = simulated?.node ?? null;
  if (node === null) return null;
  const controller = new AbortController();
  const timer = clock.setTimeout(() => controller.abort(new Error('proposal timed out')), timeoutMs);
  try {
    const entry = await node.propose(command, { signal: controller.signal });
    checker.proposalAcknowledged(entry, command);
    return entry;
  } catch {
    return null;
  } finally {
    clock.clearTimeout(timer);
  }
}

/**
 * The node names, after refusing options that would give a cluster which silently never elects:
 * no nodes, a fractional size, a name twice, or a voter or witness that is not one of the nodes
 * (a typo there used to leave a majority unreachable, and the test timed out with no reason).
 */
function clusterNames(options: SimulatedClusterOptions): readonly string[] {
  if (options.ids?.length === 0) throw new RangeError('SimulatedClusterOptions.ids must name at least one node');
  const size = options.size ?? options.ids?.length ?? 3;
  if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`SimulatedClusterOptions.size must be an integer >= 1, got ${size}`);
  if (options.ids !== undefined && options.size !== undefined && options.ids.length !== options.size) {
    throw new RangeError(`SimulatedClusterOptions: size ${options.size} and ids (${options.ids.length}) disagree; give one of them`);
  }
  const names = options.ids ?? Array.from({ length: size }, (_, position) => `n${position + 1}`);
  const duplicate = names.find((name, position) => names.indexOf(name) !== position);
  if (duplicate !== undefined) throw new RangeError(`SimulatedClusterOptions.ids names ${JSON.stringify(duplicate)} twice`);
  for (const field of ['voters', 'witnesses'] as const) {
    const listed = options[field];
    const stranger = listed?.find((name) => !names.includes(name));
    if (stranger !== undefined) throw new RangeError(`SimulatedClusterOptions.${field} names ${JSON.stringify(stranger)}, which is not one of the nodes (${names.join(', ')})`);
  }
  if (options.voters !== undefined && options.voters.length === 0) throw new RangeError('SimulatedClusterOptions.voters must name at least one node');
  return names;
}

/**
 * A cluster of real engines on one VirtualClock, a simulated network and crashable storage,
 * deterministic from `seed` (a safe integer): the same options and calls give the same run. Call
 * `start()` once; virtual time moves only inside settle, runFor, runUntil and waitForLeader.
 * Throws a RangeError for options that could never make a working cluster.
 */
export function createSimulatedCluster(options: SimulatedClusterOptions): SimulatedCluster {
  const seed = options.seed;
  const names = clusterNames(options);
  const ids = names.map((name) => nodeId(name));
  // The engine, driver, simulated storage and network chain only promises (they run in browsers
  // too), so a timer's consequences are whole once its promise continuations ran.
  const clock = new VirtualClock(0, { drain: 'promiseContinuations' });
  const network = createSimulatedNetwork(clock, seededRandom(deriveSeed(seed, 'network')), options.network ?? reliableNetwork, options.linkBytesPerSecond === undefined ? {} : { linkBytesPerSecond: options.linkBytesPerSecond });
  const checker = new SafetyChecker(seed);
  const observers: ClusterObservers = { nodeStarted: null, leaderElected: null };
  const environment: NodeEnvironment = {
    observers,
    seed,
    clock,
    checker,
    bootstrap: { voters: (options.voters ?? names).map((name) => nodeId(name)) },
    maxWriteDelayMs: options.maxWriteDelayMs ?? 2,
    raftConfig: options.raftConfig,
    identities: options.identities,
    snapshotProbability: options.snapshotProbability,
    ...(options.snapshotProfile === undefined ? {} : { snapshotProfile: options.snapshotProfile }),
    witnesses: new Set((options.witnesses ?? []).map((name) => nodeId(name))),
  };
  const nodes = new Map<NodeId, SimulatedNode>(ids.map((id) => [id, createSimulatedNode(environment, id, network.transport(id))]));
  let started = false;

  const cluster: SimulatedCluster = {
    seed,
    clock,
    network,
    checker,
    ids,
    nodes,
    observers,
    async start() {
      // A second start would run a second engine on each node's storage and transport.
      if (started) throw new Error('SimulatedCluster.start called twice (restart a crashed node with restart(id))');
      started = true;
      for (const simulated of nodes.values()) await startSimulatedNode(environment, simulated);
    },
    crash(id) {
      const simulated = nodes.get(id);
      if (simulated === undefined || simulated.node === null) return;
      network.setDown(id, true);
      crashSimulatedNode(simulated);
    },
    async restart(id) {
      const simulated = nodes.get(id);
      if (simulated === undefined || simulated.node !== null) return;
      network.setDown(id, false);
      await restartSimulatedNode(environment, simulated);
    },
    pause(id) {
      const simulated = nodes.get(id);
      if (simulated === undefined || simulated.node === null) return;
      simulated.process.pause();
    },
    resume: (id, order = 'timersFirst') => nodes.get(id)?.process.resume(order),
    isPaused: (id) => nodes.get(id)?.process.paused ?? false,
    partition: (groups) => network.partition(groups),
    heal: () => network.heal(),
    propose: (id, command, proposeOptions = {}) => proposeWithDeadline(clock, checker, nodes.get(id), command, proposeOptions.timeoutMs ?? 2_000),
    settle: (promise, timeoutMs = 10_000) => settleOnClock(cluster.runUntil, promise, timeoutMs),
    leader: () => currentLeader(nodes),
    async waitForLeader(timeoutMs) {
      await clock.runUntil(() => currentLeader(nodes) !== null, { timeoutMs });
      return currentLeader(nodes);
    },
    async runFor(ms) {
      await clock.advance(ms);
      checker.throwIfViolated();
    },
    async runUntil(predicate, timeoutMs) {
      const reached = await clock.runUntil(predicate, { timeoutMs });
      checker.throwIfViolated();
      return reached;
    },
    isAlive: (id) => (nodes.get(id)?.node ?? null) !== null,
    async close() {
      for (const simulated of nodes.values()) {
        simulated.incarnation += 1;
        const node = simulated.node;
        simulated.node = null;
        if (node !== null) void node.close();
      }
      await clock.advance(50);
    },
  };
  // Violations are recorded at the step they happen; surface them at once.
  clock.afterEvent = () => checker.throwIfViolated();
  return cluster;
}
