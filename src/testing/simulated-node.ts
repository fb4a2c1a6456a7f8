// One node of a simulated cluster across its incarnations: durable storage that outlives
// crashes, the engine of the current incarnation, and what that incarnation applied. Every write
// and every applied entry is reported to the safety checker as it happens, and every frame it
// sends is checked against what its disk holds (durable-watch.ts). With
// snapshotProbability set, the node runs a small application (simulated-state.ts) whose
// snapshots are real-sized, and reports every snapshot it publishes or installs and its state at
// every index.
import type { RaftConfig } from '../core/config.ts';
import type { ClientId, ClusterConfig, Committed, NodeId } from '../core/types.ts';
import { createRaftNode, type RaftNode } from '../driver/create-raft-node.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { entryMetadata, type SafetyChecker } from './checkers.ts';
import { CrashableStorage } from './crashable-storage.ts';
import { checkAcknowledgements, watchDurableWrites } from './durable-watch.ts';
import { createPausableProcess, type PausableProcess } from './pausable-process.ts';
import { deriveSeed, seededRandom } from './seeded-random.ts';
import { advanceDigest, decodeSimulatedSnapshot, encodeSimulatedSnapshot, tinySnapshotProfile, type SnapshotSizeProfile } from './simulated-state.ts';
import type { VirtualClock } from './virtual-clock.ts';

export interface SimulatedNode {
  readonly id: NodeId;
  node: RaftNode | null;
  storage: CrashableStorage;
  readonly durable: InMemoryRaftStorage;
  /** The process the incarnations run in: its clock and transport, which a pause holds. */
  readonly process: PausableProcess;
  readonly transport: RaftTransport;
  /** Highest index this incarnation applied (an install counts as applying through its index). */
  appliedIndex: number;
  /** Commands this incarnation applied, by index (null for internal markers). */
  readonly appliedCommands: Map<number, Uint8Array | null>;
  /**
   * This incarnation's application state (simulated-state.ts): a digest of what it applied or
   * installed. Kept when the simulated nodes publish the snapshots (snapshotProbability set).
   */
  stateDigest: number;
  incarnation: number;
}

/**
 * Synchronous observers of a cluster (the simulation digest): a listener must neither await nor
 * queue work, since the run's order of events depends on microtask timing.
 */
export interface ClusterObservers {
  /** A new incarnation's engine exists; subscribe to it here to see all it does. */
  nodeStarted: ((simulated: SimulatedNode, node: RaftNode) => void) | null;
  /** An incarnation became leader (after the checker heard of it). */
  leaderElected: ((simulated: SimulatedNode, term: number) => void) | null;
}

/** What every node of one cluster shares. */
export interface NodeEnvironment {
  readonly observers: ClusterObservers;
  readonly seed: number;
  readonly clock: VirtualClock;
  readonly checker: SafetyChecker;
  readonly bootstrap: ClusterConfig;
  readonly maxWriteDelayMs: number;
  readonly raftConfig: Omit<RaftConfig, 'clock' | 'random'> | undefined;
  readonly identities: ReadonlyMap<NodeId, ClientId> | undefined;
  readonly snapshotProbability: number | undefined;
  readonly witnesses?: ReadonlySet<NodeId>;
  /** How large published snapshots are (default: header-only, 20 bytes). */
  readonly snapshotProfile?: SnapshotSizeProfile;
}

export function createSimulatedNode(environment: NodeEnvironment, id: NodeId, transport: RaftTransport): SimulatedNode {
  const durable = new InMemoryRaftStorage();
  const process = createPausableProcess(environment.clock, transport);
  const storage = newDisk(environment, id, durable, 0, process);
  const view = watchDurableWrites(environment.checker, id, durable);
  const checkedTransport = checkAcknowledgements(environment.checker, id, view, process.transport);
  const simulated: SimulatedNode = { id, node: null, storage, durable, process, transport: checkedTransport, appliedIndex: 0, appliedCommands: new Map(), stateDigest: 0, incarnation: 0 };
  return simulated;
}

function newDisk(environment: NodeEnvironment, id: NodeId, durable: InMemoryRaftStorage, incarnation: number, process: PausableProcess): CrashableStorage {
  // The first disk keeps the label it always had, so existing seeds replay unchanged.
  const label = incarnation === 0 ? `disk-${id}` : `disk-${id}-${incarnation}`;
  // The process's clock: a write that completes while the node is paused is seen when it resumes.
  return new CrashableStorage(durable, process.clock, seededRandom(deriveSeed(environment.seed, label)), environment.maxWriteDelayMs);
}

/** Starts a new incarnation on the node's durable storage and follows it from index 1. */
export async function startSimulatedNode(environment: NodeEnvironment, simulated: SimulatedNode): Promise<void> {
  simulated.incarnation += 1;
  const incarnation = simulated.incarnation;
  const clientId = environment.identities?.get(simulated.id);
  const node = await createRaftNode({
    id: simulated.id,
    clusterConfig: environment.bootstrap,
    transport: simulated.transport,
    storage: simulated.storage,
    raftConfig: { ...environment.raftConfig, ...(environment.witnesses?.has(simulated.id) ? { witness: true } : {}), clock: simulated.process.clock, random: seededRandom(deriveSeed(environment.seed, `node-${simulated.id}-${incarnation}`)) },
    ...(clientId === undefined ? {} : { identity: { type: 'durable' as const, clientId } }),
  });
  simulated.node = node;
  environment.observers.nodeStarted?.(simulated, node);
  simulated.appliedIndex = 0;
  simulated.appliedCommands.clear();
  simulated.stateDigest = 0;
  const checker = environment.checker;
  node.role.subscribe((role) => {
    if (role !== 'leader' || simulated.incarnation !== incarnation) return;
    if (environment.witnesses?.has(simulated.id) === true) checker.witnessLed(simulated.id, node.term.value);
    checker.leaderElected(simulated.id, node.term.value);
    const log = simulated.durable.peekLog();
    checker.leaderLog(simulated.id, node.term.value, log.firstIndex, log.entries);
    environment.observers.leaderElected?.(simulated, node.term.value);
  });
  void followCommitted(environment, simulated, node, incarnation);
}

/** Power loss: writes not yet on the durable store vanish and the engine stops. */
export function crashSimulatedNode(simulated: SimulatedNode): void {
  const node = simulated.node;
  if (node === null) return;
  simulated.storage.crash();
  simulated.process.discard();
  void node.close();
  simulated.node = null;
  simulated.incarnation += 1;
}

/** A fresh disk wrapper on the same durable store, then a new incarnation. */
export async function restartSimulatedNode(environment: NodeEnvironment, simulated: SimulatedNode): Promise<void> {
  if (simulated.node !== null) return;
  simulated.storage = newDisk(environment, simulated.id, simulated.durable, simulated.incarnation, simulated.process);
  await startSimulatedNode(environment, simulated);
}

const emptyStatePublishProbability = 0.25;

async function followCommitted(environment: NodeEnvironment, simulated: SimulatedNode, node: RaftNode, incarnation: number): Promise<void> {
  const snapshotRandom = seededRandom(deriveSeed(environment.seed, `snapshot-${simulated.id}-${incarnation}`));
  for await (const committed of node.committedFrom(1)) {
    if (simulated.incarnation !== incarnation) return;
    const appliedThrough = applyOne(environment, simulated, node, committed);
    const probability = environment.snapshotProbability;
    // The empty state (0 bytes) is rare, so a node in it publishes more eagerly: an empty
    // snapshot streams as one empty chunk, a path of its own.
    const chance = probability === undefined ? 0 : simulated.stateDigest === 0 ? Math.max(probability, emptyStatePublishProbability) : probability;
    if (appliedThrough !== null && probability !== undefined && snapshotRandom() < chance) {
      const state = encodeSimulatedSnapshot(environment.snapshotProfile ?? tinySnapshotProfile, appliedThrough, simulated.stateDigest);
      environment.checker.snapshotPublished(appliedThrough, state);
      node.publishSnapshot({ throughIndex: appliedThrough, state });
    }
  }
}

/**
 * Records one committed item; returns the index it applied (null for an install). The simulated
 * application state is checked only when this node publishes the snapshots (snapshotProbability
 * set): a test that publishes its own installs states the digest knows nothing of.
 */
function applyOne(environment: NodeEnvironment, simulated: SimulatedNode, node: RaftNode, committed: Committed): number | null {
  const checker = environment.checker;
  const tracksState = environment.snapshotProbability !== undefined;
  if (committed.type === 'install') {
    const { throughIndex, state } = committed.snapshot;
    checker.applyOrder(simulated.id, simulated.appliedIndex, { installThrough: throughIndex });
    simulated.appliedIndex = throughIndex;
    if (tracksState) installState(checker, environment.snapshotProfile ?? tinySnapshotProfile, simulated, throughIndex, state);
    return null;
  }
  const record =
    committed.type === 'entry'
      ? { index: committed.entry.index, term: committed.entry.term, command: committed.entry.command, metadata: entryMetadata(committed.entry) }
      : { index: committed.index, term: null, command: null };
  checker.applyOrder(simulated.id, simulated.appliedIndex, record);
  checker.entryApplied(simulated.id, record, node.term.value);
  if (committed.type === 'internal') {
    // Committed names only the index: what was applied is the entry the node's log holds there
    // (its term, and which no-op or configuration it is), so State Machine Safety compares those.
    const log = simulated.durable.peekLog();
    const entry = log.entries[committed.index - log.firstIndex];
    if (entry !== undefined) checker.internalEntryApplied(simulated.id, committed.index, entry.term, entryMetadata(entry));
  }
  if (tracksState) {
    simulated.stateDigest = advanceDigest(simulated.stateDigest, record);
    checker.stateReached(simulated.id, record.index, String(simulated.stateDigest));
  }
  simulated.appliedIndex = record.index;
  simulated.appliedCommands.set(record.index, record.command);
  return record.index;
}

/**
 * An installed snapshot must be one a node published there, and the state resumes from the digest
 * inside it: had the bytes been wrong, every state this node reached from here on would disagree
 * with the others'.
 */
function installState(checker: SafetyChecker, profile: SnapshotSizeProfile, simulated: SimulatedNode, throughIndex: number, state: Uint8Array): void {
  checker.snapshotInstalled(simulated.id, throughIndex, state);
  const digest = decodeSimulatedSnapshot(profile, throughIndex, state);
  simulated.stateDigest = typeof digest === 'number' ? digest : -1;
  checker.stateReached(simulated.id, throughIndex, typeof digest === 'number' ? String(digest) : `undecodable (${digest})`);
}
