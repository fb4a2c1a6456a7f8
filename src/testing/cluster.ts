// A whole cluster on one virtual clock: real engines (createRaftNode), a simulated network,
// crashable storage, and the safety checker watching every node. Deterministic from one seed.
import type { RaftConfig } from '../core/config.ts';
import { nodeId, type ClientId, type ClusterConfig, type LogEntry, type NodeId } from '../core/types.ts';
import { createRaftNode, type RaftNode } from '../driver/create-raft-node.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import type { StorageBatch } from '../storage/raft-storage.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { SafetyChecker } from './checkers.ts';
import { CrashableStorage } from './crashable-storage.ts';
import { deriveSeed, seededRandom } from './seeded-random.ts';
import { createSimulatedNetwork, reliableNetwork, type NetworkConditions, type SimulatedNetwork } from './simulated-network.ts';
import { VirtualClock } from './virtual-clock.ts';

export interface SimulatedClusterOptions {
  readonly seed: number;
  readonly size?: number;
  readonly ids?: readonly string[];
  /** Bootstrap voters (default: every node); the rest start outside the config. */
  readonly voters?: readonly string[];
  readonly raftConfig?: Omit<RaftConfig, 'clock' | 'random'>;
  readonly network?: NetworkConditions;
  readonly maxWriteDelayMs?: number;
  /** Durable client identities per node (default: auto). */
  readonly identities?: ReadonlyMap<NodeId, ClientId>;
  /** Probability, per applied entry, that a node publishes a snapshot (compaction in simulation). */
  readonly snapshotProbability?: number;
}

export interface SimulatedNode {
  readonly id: NodeId;
  node: RaftNode | null;
  storage: CrashableStorage;
  readonly durable: InMemoryRaftStorage;
  readonly transport: RaftTransport;
  /** Highest index this incarnation applied (an install counts as applying through its index). */
  appliedIndex: number;
  /** Commands this incarnation applied, by index (null for internal markers). */
  readonly appliedCommands: Map<number, Uint8Array | null>;
  incarnation: number;
}

export interface SimulatedCluster {
  readonly seed: number;
  readonly clock: VirtualClock;
  readonly network: SimulatedNetwork;
  readonly checker: SafetyChecker;
  readonly ids: readonly NodeId[];
  readonly nodes: ReadonlyMap<NodeId, SimulatedNode>;
  start(): Promise<void>;
  /** Power loss: unsynced writes are lost, the node is closed and cut from the network. */
  crash(id: NodeId): void;
  /** A new engine on the crashed node's durable storage; it re-applies from index 1. */
  restart(id: NodeId): Promise<void>;
  /** Cuts every link between the groups (see SimulatedNetwork.partition). */
  partition(groups: readonly (readonly NodeId[])[]): void;
  /** Clears partitions and one-way blocks (crashed nodes stay down until restarted). */
  heal(): void;
  /** Proposes on a node; resolves with the entry (acknowledged) or null if the call failed. */
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

export function createSimulatedCluster(options: SimulatedClusterOptions): SimulatedCluster {
  const seed = options.seed;
  const names = options.ids ?? Array.from({ length: options.size ?? 3 }, (_, position) => `n${position + 1}`);
  const ids = names.map((name) => nodeId(name));
  const bootstrap: ClusterConfig = { voters: (options.voters ?? names).map((name) => nodeId(name)) };
  const clock = new VirtualClock(0);
  const network = createSimulatedNetwork(clock, seededRandom(deriveSeed(seed, 'network')), options.network ?? reliableNetwork);
  const checker = new SafetyChecker(seed);
  const nodes = new Map<NodeId, SimulatedNode>();
  const maxWriteDelayMs = options.maxWriteDelayMs ?? 2;

  const watchDurableWrites = (simulated: SimulatedNode): void => {
    // Log Matching is checked at the moment entries become durable, against every other log,
    // on both write paths (the batched one, and the plain append after a snapshot write).
    const durable = simulated.durable;
    const batched = durable.writeBatch.bind(durable);
    const append = durable.appendEntries.bind(durable);
    const termBefore = (index: number): number | undefined => {
      const log = durable.peekLog();
      return log.entries[index - log.firstIndex]?.term;
    };
    durable.writeBatch = async (batch: StorageBatch) => {
      await batched(batch);
      checker.entriesPersisted(simulated.id, batch.entries, termBefore);
    };
    durable.appendEntries = async (entries: readonly LogEntry[]) => {
      await append(entries);
      checker.entriesPersisted(simulated.id, entries, termBefore);
    };
  };

  for (const id of ids) {
    const durable = new InMemoryRaftStorage();
    const storage = new CrashableStorage(durable, clock, seededRandom(deriveSeed(seed, `disk-${id}`)), maxWriteDelayMs);
    const simulated: SimulatedNode = { id, node: null, storage, durable, transport: network.transport(id), appliedIndex: 0, appliedCommands: new Map(), incarnation: 0 };
    watchDurableWrites(simulated);
    nodes.set(id, simulated);
  }

  const consume = async (simulated: SimulatedNode, node: RaftNode, incarnation: number): Promise<void> => {
    const snapshotRandom = seededRandom(deriveSeed(seed, `snapshot-${simulated.id}-${incarnation}`));
    for await (const committed of node.committedFrom(1)) {
      if (simulated.incarnation !== incarnation) return;
      if (committed.type === 'install') {
        checker.applyOrder(simulated.id, simulated.appliedIndex, { installThrough: committed.snapshot.throughIndex });
        simulated.appliedIndex = committed.snapshot.throughIndex;
        continue;
      }
      const record =
        committed.type === 'entry'
          ? { index: committed.entry.index, term: committed.entry.term, command: committed.entry.command }
          : { index: committed.index, term: null, command: null };
      checker.applyOrder(simulated.id, simulated.appliedIndex, record);
      checker.entryApplied(simulated.id, record, node.term.value);
      simulated.appliedIndex = record.index;
      simulated.appliedCommands.set(record.index, record.command);
      if (options.snapshotProbability !== undefined && snapshotRandom() < options.snapshotProbability) {
        node.publishSnapshot({ throughIndex: record.index, state: new Uint8Array([record.index % 256]) });
      }
    }
  };

  const startNode = async (simulated: SimulatedNode): Promise<void> => {
    simulated.incarnation += 1;
    const incarnation = simulated.incarnation;
    const node = await createRaftNode({
      id: simulated.id,
      clusterConfig: bootstrap,
      transport: simulated.transport,
      storage: simulated.storage,
      raftConfig: { ...options.raftConfig, clock, random: seededRandom(deriveSeed(seed, `node-${simulated.id}-${incarnation}`)) },
      ...(options.identities?.get(simulated.id) === undefined ? {} : { identity: { type: 'durable' as const, clientId: options.identities.get(simulated.id) as ClientId } }),
    });
    simulated.node = node;
    simulated.appliedIndex = 0;
    simulated.appliedCommands.clear();
    node.role.subscribe((role) => {
      if (role !== 'leader' || simulated.incarnation !== incarnation) return;
      checker.leaderElected(simulated.id, node.term.value);
      const log = simulated.durable.peekLog();
      checker.leaderLog(simulated.id, node.term.value, log.firstIndex, log.entries);
    });
    void consume(simulated, node, incarnation);
  };

  const cluster: SimulatedCluster = {
    seed,
    clock,
    network,
    checker,
    ids,
    nodes,
    async start() {
      for (const simulated of nodes.values()) await startNode(simulated);
    },
    crash(id) {
      const simulated = nodes.get(id);
      if (simulated?.node === null || simulated === undefined) return;
      simulated.storage.crash();
      network.setDown(id, true);
      void simulated.node.close();
      simulated.node = null;
      simulated.incarnation += 1;
    },
    async restart(id) {
      const simulated = nodes.get(id);
      if (simulated === undefined || simulated.node !== null) return;
      simulated.storage = new CrashableStorage(simulated.durable, clock, seededRandom(deriveSeed(seed, `disk-${id}-${simulated.incarnation}`)), maxWriteDelayMs);
      network.setDown(id, false);
      await startNode(simulated);
    },
    partition: (groups) => network.partition(groups),
    heal: () => network.heal(),
    async propose(id, command, proposeOptions = {}) {
      const node = nodes.get(id)?.node;
      if (node === null || node === undefined) return null;
      const controller = new AbortController();
      const timer = clock.setTimeout(() => controller.abort(new Error('proposal timed out')), proposeOptions.timeoutMs ?? 2_000);
      try {
        const entry = await node.propose(command, { signal: controller.signal });
        checker.proposalAcknowledged(entry, command);
        return entry;
      } catch {
        return null;
      } finally {
        clock.clearTimeout(timer);
      }
    },
    async settle(promise, timeoutMs = 10_000) {
      let done = false;
      let value: Awaited<typeof promise> | undefined;
      // The promise's value, once it settles, is handed back unchanged.
      let failure: unknown = null;
      promise.then(
        (result) => {
          done = true;
          value = result as Awaited<typeof promise>;
        },
        (error: unknown) => {
          done = true;
          failure = error;
        },
      );
      await cluster.runUntil(() => done, timeoutMs);
      if (failure !== null) throw failure;
      return value;
    },
    leader() {
      let best: SimulatedNode | null = null;
      for (const simulated of nodes.values()) {
        const node = simulated.node;
        if (node === null || node.role.value !== 'leader') continue;
        if (best === null || node.term.value > (best.node as RaftNode).term.value) best = simulated;
      }
      return best;
    },
    async waitForLeader(timeoutMs) {
      await clock.runUntil(() => cluster.leader() !== null, { timeoutMs });
      return cluster.leader();
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
    isAlive: (id) => nodes.get(id)?.node !== null,
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
  clock.afterEvent = () => {
    // Violations are recorded at the step they happen; surface them at once.
    checker.throwIfViolated();
  };
  return cluster;
}
