// One randomized fault schedule against a cluster: while clients propose continuously, the
// network drops, delays, duplicates, reorders and partitions (both ways and one way), nodes
// crash (losing unsynced writes) and restart, nodes pause (their timers and frames wait, as in a
// stopped process or a frozen tab) and resume, nodes compact their logs, and now and then a
// fault sequence unplugs leaders to walk the cluster into Raft's Figure 8 (leader-cut-off.ts).
// Then everything heals and a leader must commit within 5 seconds of virtual time. Safety
// checkers watch it all.
import { nodeId, type NodeId } from '../core/types.ts';
import { createSimulatedCluster, type SimulatedCluster } from './cluster.ts';
import { watchCommittedRivals } from './committed-rivals.ts';
import { createLeaderCutOffs, cutOffNewLeader, endLeaderCutOffs, maybeBeginLeaderCutOff, unplugSuccessorOnCommit } from './leader-cut-off.ts';
import { deriveSeed, seededRandom } from './seeded-random.ts';
import { reliableNetwork } from './simulated-network.ts';
import { drawSnapshotConditions, snapshotRaftConfig } from './snapshot-conditions.ts';

export interface SimulationOptions {
  readonly seed: number;
  readonly nodes: number;
  /** Virtual time under faults before the heal. */
  readonly durationMs?: number;
  /** Probability per applied entry that a node publishes a snapshot. */
  readonly snapshotProbability?: number;
  /** Longest virtual delay of a storage write (default: drawn per seed, 1..24 ms). */
  readonly maxWriteDelayMs?: number;
  /** Called with the cluster before it starts: attach tracing to investigate a seed. */
  readonly observe?: (cluster: SimulatedCluster) => void;
  /**
   * Membership changes sometimes remove the non-voters outside the cluster entirely (a later change
   * takes them back under the same id, with their old logs). Drawn from a stream of its own, so
   * the fault schedule of a seed is the same with and without it.
   */
  readonly removals?: boolean;
  /**
   * Largest snapshot a node publishes, overriding the seed's choice (which spans 20 bytes to 20
   * chunks; the empty state publishes 0 bytes). 20: header-only snapshots, as before they grew.
   */
  readonly maxSnapshotBytes?: number;
  /**
   * How many nodes run as witnesses (RaftConfig.witness: they vote and acknowledge but never
   * campaign or lead), chosen per seed from a stream of their own. Fewer than a quorum of the
   * nodes, and membership changes keep them fewer than a quorum of the voters (witnessesAllowed).
   * Default 0.
   */
  readonly witnesses?: number;
  /**
   * Most single crashes (4 in 5) strike inside the victim's next snapshot write sequence instead
   * of at once: just before the snapshot's write, or right after the snapshot or its discard
   * lands (CrashableStorage.armSnapshotCrash), drawn from a stream of their own;
   * nodes publish snapshots five times as often (unless snapshotProbability says otherwise).
   * A crash between two writes of one install is where a wrong write order loses data (seed
   * 60,060's bug). Default false, which leaves every other seed's schedule as it was.
   */
  readonly crashesInSnapshotWrites?: boolean;
  /**
   * AppendEntries of one to three entries (drawAppendBatches): commands padded to 300–700 bytes,
   * batches of at most 1 KiB, snapshots of at most 16 KiB. Several times the frames of a seed.
   */
  readonly smallBatches?: boolean;
}

export interface SimulationResult {
  readonly seed: number;
  readonly nodes: number;
  /** Proposals whose promise resolved (acknowledged to the client). */
  readonly acknowledged: number;
  /** The highest index committed and applied anywhere (no-ops and config entries included). */
  readonly committed: number;
  /** Elections won (distinct terms that had a leader). */
  readonly elections: number;
  readonly faults: number;
  readonly crashes: number;
  /** Processes paused (their timers and frames held) and resumed later. */
  readonly pauses: number;
  readonly finalTerm: number;
  readonly healedCommitMs: number;
  /** Snapshots installed (streamed, or restored at a restart) and their bytes in all. */
  readonly snapshotsInstalled: number;
  readonly snapshotBytesInstalled: number;
  /** The nodes that ran as witnesses (none unless SimulationOptions.witnesses). */
  readonly witnesses: readonly NodeId[];
  /** Crashes that struck inside a snapshot write sequence (only with SimulationOptions.crashesInSnapshotWrites). */
  readonly crashesInSnapshotWrites?: number;
  /** Crashes that struck between two frames a node sent (armed crash faults; see armSendCrash). */
  readonly crashesOnSend: number;
  /** New leaders cut off from the network as they won (leader-cut-off.ts). */
  readonly leadersCutOff: number;
  /**
   * Indexes a leader committed while another node held a different entry of a newer term there:
   * the shape of Raft's Figure 8 (e), where committing an older term's entry by counting would
   * lose it (committed-rivals.ts).
   */
  readonly committedRivals: number;
}

/** Virtual time under faults per seed by default (the CLI and the test suite use it too). */
export const defaultSimulationDurationMs = 5_000;

/** How long after the final heal a leader must have committed a fresh proposal. */
export const livenessDeadlineMs = 5_000;

export class LivenessFailure extends Error {
  constructor(seed: number, detail: string) {
    super(`liveness failed (seed ${seed}): ${detail}`);
    this.name = 'LivenessFailure';
  }
}

type Fault = 'partition' | 'isolate' | 'oneWay' | 'crash' | 'outage' | 'restart' | 'heal' | 'lossy' | 'calm' | 'membership' | 'transfer';
// Crashes and restarts weigh more: losing unsynced writes is where durability bugs show. An
// outage crashes a majority in the same instant, so a write acknowledged before it was durable
// is lost on a quorum at once (one crash at a time almost never loses a quorum's copy).
const faults: readonly Fault[] = ['partition', 'isolate', 'oneWay', 'crash', 'crash', 'outage', 'outage', 'restart', 'restart', 'restart', 'heal', 'lossy', 'calm', 'membership', 'transfer'];

/** Half the time a fault aims at the current leader: Figure 8 needs leaders to fail mid-replication. */
function victim(cluster: SimulatedCluster, random: () => number, candidates: readonly NodeId[]): NodeId {
  const leader = cluster.leader()?.id;
  if (leader !== undefined && candidates.includes(leader) && random() < 0.5) return leader;
  return pick(random, candidates);
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

/**
 * Now and then, beside a fault, a node's process pauses: from 20 ms to six shortest election
 * timeouts, the leader half the time, resuming with its due timers before or after the frames
 * that arrived. Drawn from a stream of its own, so a seed's fault schedule is the same as before
 * pauses existed.
 */
function maybePause(cluster: SimulatedCluster, pauseRandom: () => number, electionTimeoutMin: number): boolean {
  if (pauseRandom() >= 0.3) return false;
  const live = cluster.ids.filter((id) => cluster.isAlive(id) && !cluster.isPaused(id));
  if (live.length === 0) return false;
  const id = victim(cluster, pauseRandom, live);
  const pausedMs = 20 + pauseRandom() * 6 * electionTimeoutMin;
  const order = pauseRandom() < 0.5 ? 'timersFirst' : 'framesFirst';
  cluster.pause(id);
  cluster.clock.setTimeout(() => cluster.resume(id, order), pausedMs);
  return true;
}

/**
 * Whether `witnesses` among `voters` voters leave the configuration able to elect a leader
 * holding every committed entry: fewer witnesses than a quorum, so every quorum that commits an
 * entry holds a voter that may lead with it. With as many witnesses as a quorum, entries can
 * commit on witnesses alone; a witness never leads and compacts to an empty state (an edge
 * peer's witness store), so once it compacts them only the absent members that hold them can
 * bring them back. Two tabs and a witness (one of three) is the configuration witnesses are for.
 */
/** "1 witness", "2 witnesses": how reports and test names count them. */
export function witnessCount(witnesses: number): string {
  return `${witnesses} witness${witnesses === 1 ? '' : 'es'}`;
}

export function witnessesAllowed(witnesses: number, voters: number): boolean {
  return witnesses < Math.floor(voters / 2) + 1;
}

/**
 * Which nodes run as witnesses: `count` of the cluster's default names (n1..nN), drawn from a
 * stream of their own so a seed's fault schedule is the same with and without them.
 */
function drawWitnesses(seed: number, nodes: number, count: number): ReadonlySet<NodeId> {
  const random = seededRandom(deriveSeed(seed, 'witness'));
  const names = Array.from({ length: nodes }, (_, position) => nodeId(`n${position + 1}`));
  for (let position = names.length - 1; position > 0; position -= 1) {
    const other = Math.floor(random() * (position + 1));
    [names[position], names[other]] = [names[other] as NodeId, names[position] as NodeId];
  }
  return new Set(names.slice(0, count));
}

/** Crashed nodes and the virtual time each reboots at (a crash is usually followed by a reboot). */
type Crashed = Map<NodeId, number>;

function crashNode(cluster: SimulatedCluster, random: () => number, crashed: Crashed, id: NodeId): void {
  cluster.crash(id);
  // Half the reboots are quick (a process restart inside one election), so a node that forgot
  // its vote would get the chance to vote twice in a term.
  const downtimeMs = random() < 0.5 ? 5 + random() * 55 : 60 + random() * 600;
  crashed.set(id, cluster.clock.now() + downtimeMs);
}

/** Sets the victim to crash inside its next snapshot write sequence (SimulationOptions.crashesInSnapshotWrites). */
function armSnapshotCrash(cluster: SimulatedCluster, random: () => number, crashed: Crashed, id: NodeId, struck: () => void): void {
  const simulated = cluster.nodes.get(id);
  if (simulated === undefined) return;
  // 0: after the hard state and any cut landed, before the snapshot; 1, 2: after the snapshot, its
  // discard. (No sequence here has entries after the discard: a third write would be the next,
  // unrelated batch.)
  const writesToLand = Math.floor(random() * 3);
  simulated.storage.armSnapshotCrash(writesToLand, () => {
    if (crashed.has(id) || !cluster.isAlive(id)) return false;
    crashNode(cluster, random, crashed, id);
    struck();
    return true;
  });
}

/**
 * Crashes that strike as the victim sends: a process dies between two send() calls, so the
 * frames of one burst reach some peers and not others. Half the single crashes (but those armed
 * inside snapshot writes) are of this kind; half of those strike the node that wins the next
 * election, early in its term.
 *
 * Why: Figure 8 (an older term's entry on a majority, not yet committed) needs a new leader to
 * die after a follower acknowledged the older entries and before its own term's no-op reached a
 * majority. Crashes struck only between the workload's steps, and a leader sends the frame that
 * follows the acknowledgement in the same instant, so with the Figure 8 bug planted (a leader
 * committing an older term's entry by counting replicas) 1,700 seeds passed; see drawAppendBatches
 * for what these crashes changed. Drawn from a stream of its own, so the schedule's other draws are
 * as before.
 */
interface SendCrashes {
  readonly random: () => number;
  /** Frames the next leader gets out before it dies, while a "next leader" crash waits for one. */
  nextLeaderFrames: number | null;
  struck: number;
}

/** Crash faults that strike on a send instead of at once. */
const sendCrashShare = 0.5;

function drawFramesBeforeCrash(sendCrashes: SendCrashes, nodes: number): number {
  // A third die before their first frame: a new leader that dies so held a no-op (and maybe
  // proposals) of its term that no other log has, a rival entry of Figure 8, though the crash
  // mostly loses it before it is durable (the Figure 8 sequence unplugs such a leader instead,
  // leader-cut-off.ts). The others within
  // three rounds of frames to every peer: a new leader's probes, the catch-up batch after a
  // rejection, and what follows its acknowledgement.
  if (sendCrashes.random() < 1 / 3) return 0;
  return Math.floor(sendCrashes.random() * 3 * Math.max(1, nodes));
}

function armSendCrash(cluster: SimulatedCluster, sendCrashes: SendCrashes, crashed: Crashed, id: NodeId, framesFirst: number): void {
  cluster.network.armCrashOnSend(id, framesFirst, () => {
    // Carried out once the sender's send() has returned: crashing the engine inside it is not
    // what a real crash looks like to the code around it (the network already drops its frames).
    cluster.clock.setTimeout(() => {
      if (crashed.has(id) || !cluster.isAlive(id)) return;
      crashNode(cluster, sendCrashes.random, crashed, id);
      sendCrashes.struck += 1;
    }, 0);
  });
}

async function rebootDue(cluster: SimulatedCluster, crashed: Crashed): Promise<void> {
  for (const [id, rebootAt] of [...crashed]) {
    if (rebootAt > cluster.clock.now()) continue;
    crashed.delete(id);
    await cluster.restart(id);
  }
}

/** The crashes inside snapshot writes of one run: the stream that draws them, and how many struck. */
interface SnapshotCrashes {
  readonly random: () => number;
  /** Crash faults armed instead of struck at once: counted as crashes only if they strike. */
  armed: number;
  struck: number;
}

async function injectFault(cluster: SimulatedCluster, random: () => number, crashed: Crashed, removalRandom: (() => number) | null, witnesses: ReadonlySet<NodeId>, snapshotCrashes: SnapshotCrashes | null, sendCrashes: SendCrashes): Promise<Fault> {
  const fault = pick(random, faults);
  const ids = cluster.ids;
  switch (fault) {
    case 'partition': {
      const shuffled = [...ids].sort(() => random() - 0.5);
      const split = 1 + Math.floor(random() * (ids.length - 1));
      cluster.network.partition([shuffled.slice(0, split), shuffled.slice(split)]);
      break;
    }
    case 'isolate':
      cluster.network.isolate(victim(cluster, random, ids));
      break;
    case 'oneWay': {
      const from = pick(random, ids);
      const to = pick(random, ids.filter((id) => id !== from));
      cluster.network.blockOneWay(from, to);
      break;
    }
    case 'crash': {
      // Any number may be down at once (even all): only durable state survives a crash.
      const alive = ids.filter((id) => !crashed.has(id));
      if (alive.length === 0) break;
      const chosen = victim(cluster, random, alive);
      if (snapshotCrashes !== null && snapshotCrashes.random() < 0.8) {
        snapshotCrashes.armed += 1;
        armSnapshotCrash(cluster, snapshotCrashes.random, crashed, chosen, () => (snapshotCrashes.struck += 1));
      } else if (sendCrashes.random() < sendCrashShare) {
        if (sendCrashes.random() < 0.5) armSendCrash(cluster, sendCrashes, crashed, chosen, drawFramesBeforeCrash(sendCrashes, ids.length));
        else sendCrashes.nextLeaderFrames = drawFramesBeforeCrash(sendCrashes, ids.length);
      } else crashNode(cluster, random, crashed, chosen);
      break;
    }
    case 'outage': {
      const alive = ids.filter((id) => !crashed.has(id));
      const count = Math.min(alive.length, Math.floor(ids.length / 2) + 1 + Math.floor(random() * 2));
      const chosen = [...alive].sort(() => random() - 0.5).slice(0, count);
      for (const id of chosen) crashNode(cluster, random, crashed, id);
      break;
    }
    case 'restart': {
      if (crashed.size > 0) {
        const back = pick(random, [...crashed.keys()]);
        crashed.delete(back);
        await cluster.restart(back);
      }
      break;
    }
    case 'heal':
      cluster.network.heal();
      break;
    case 'lossy':
      cluster.network.conditions = { minDelayMs: 1, maxDelayMs: 5 + random() * 40, dropProbability: random() * 0.2, duplicateProbability: random() * 0.1 };
      break;
    case 'calm':
      cluster.network.conditions = { ...reliableNetwork };
      break;
    case 'membership': {
      // A random voter set of at least 3 (or all, when smaller), the others learners.
      const leader = cluster.leader()?.node;
      if (leader === null || leader === undefined) break;
      const shuffled = [...ids].sort(() => random() - 0.5);
      const size = Math.min(ids.length, 3 + Math.floor(random() * (ids.length - 2)));
      let voters = shuffled.slice(0, size);
      let learners = shuffled.slice(size);
      if (removalRandom !== null) {
        // A node taken back comes in as a learner first (README "Using membership changes"): its
        // stale configuration may not know the leader that takes it back.
        const config = leader.membership.value;
        const members = new Set([...config.voters, ...(config.learners ?? [])]);
        learners = [...learners, ...voters.filter((id) => !members.has(id))];
        voters = voters.filter((id) => members.has(id));
        if (voters.length === 0) break;
      }
      // As many witnesses as a quorum could commit entries no voter that may lead holds, and a
      // witness keeps no state to rebuild them from once compacted: such a configuration stalls
      // by design until a member holding them returns, and is refused (see witnessesAllowed).
      if (!witnessesAllowed(voters.filter((id) => witnesses.has(id)).length, voters.length)) break;
      const removeTheRest = removalRandom !== null && removalRandom() < 0.4;
      void leader.changeMembership(learners.length === 0 || removeTheRest ? { voters } : { voters, learners }).catch(() => undefined);
      break;
    }
    case 'transfer': {
      const leader = cluster.leader()?.node;
      if (leader === null || leader === undefined) break;
      void leader.transferLeadership(pick(random, leader.membership.value.voters)).catch(() => undefined);
      break;
    }
  }
  return fault;
}

/** A linearizable read from a node; checked against every write acknowledged before it began. */
function startRead(cluster: SimulatedCluster, id: NodeId): void {
  const node = cluster.nodes.get(id)?.node;
  if (node === null || node === undefined) return;
  const before = cluster.checker.highestAcknowledged;
  const controller = new AbortController();
  const timer = cluster.clock.setTimeout(() => controller.abort(new Error('read timed out')), 1_000);
  node.readIndex({ signal: controller.signal }).then(
    (readIndex) => {
      cluster.clock.clearTimeout(timer);
      cluster.checker.readCompleted(id, readIndex, before);
    },
    () => cluster.clock.clearTimeout(timer),
  );
}

/**
 * One seed of the fault workload (crashes, partitions, pauses, membership changes, then a heal)
 * on `nodes` real engines. Resolves with counts; rejects with a SafetyViolation or
 * LivenessFailure that names the seed (replayCommand(seed, nodes) replays it).
 */
export async function runSimulation(options: SimulationOptions): Promise<SimulationResult> {
  const { seed, nodes } = options;
  const durationMs = options.durationMs ?? defaultSimulationDurationMs;
  // Zero nodes used to end in a misleading LivenessFailure, a fraction or NaN to run anyway.
  if (!Number.isSafeInteger(nodes) || nodes < 1) throw new RangeError(`SimulationOptions.nodes must be an integer >= 1, got ${nodes}`);
  const witnessCount = options.witnesses ?? 0;
  if (!Number.isSafeInteger(witnessCount) || witnessCount < 0 || !witnessesAllowed(witnessCount, nodes)) throw new RangeError(`SimulationOptions.witnesses must be an integer from 0 to ${Math.floor(nodes / 2)} (fewer than a quorum of ${nodes}), got ${witnessCount}`);
  if (!(durationMs >= 0) || !Number.isFinite(durationMs)) throw new RangeError(`SimulationOptions.durationMs must be a finite number >= 0, got ${durationMs}`);
  const random = seededRandom(deriveSeed(seed, 'schedule'));
  const removalRandom = options.removals === true ? seededRandom(deriveSeed(seed, 'removal')) : null;
  const snapshotCrashes: SnapshotCrashes | null = options.crashesInSnapshotWrites === true ? { random: seededRandom(deriveSeed(seed, 'snapshot-crash')), armed: 0, struck: 0 } : null;
  const pauseRandom = seededRandom(deriveSeed(seed, 'pause'));
  const sendCrashes: SendCrashes = { random: seededRandom(deriveSeed(seed, 'send-crash')), nextLeaderFrames: null, struck: 0 };
  const witnesses = drawWitnesses(seed, nodes, options.witnesses ?? 0);
  // Disks differ per seed: slow ones widen the window in which a write is acknowledged but lost.
  const maxWriteDelayMs = options.maxWriteDelayMs ?? 1 + Math.floor(random() * 24);
  // Election timing differs per seed too: tight timeouts against slow links split votes often.
  const electionTimeoutMin = 40 + Math.floor(random() * 111);
  const leaderCutOffs = createLeaderCutOffs(seededRandom(deriveSeed(seed, 'leader-cut-off')), electionTimeoutMin);
  // Snapshots of realistic sizes, streamed at a seed-chosen pace over links of a seed-chosen speed.
  const snapshots = drawSnapshotConditions(seed);
  const batches = options.smallBatches === true ? drawAppendBatches(seed) : ordinaryBatches;
  // Snapshot chunks are no larger than a batch: with 1 KiB batches, states of up to 16 KiB, or a
  // seed's streams take most of its run time (hundreds of chunks each).
  const smallBatchSnapshotBytes = batches.maxAppendBytes === null ? Number.POSITIVE_INFINITY : 16 * 1024;
  const snapshotMaxBytes = Math.min(options.maxSnapshotBytes ?? snapshots.profile.maxBytes, smallBatchSnapshotBytes);
  const snapshotProfile = snapshotMaxBytes === snapshots.profile.maxBytes ? snapshots.profile : { ...snapshots.profile, maxBytes: snapshotMaxBytes };
  const raftConfig = { snapshotTrailingEntries: 5, electionTimeoutMin, electionTimeoutMax: electionTimeoutMin * 2, heartbeatInterval: Math.max(5, Math.floor(electionTimeoutMin / 4)), ...snapshotRaftConfig(snapshots), ...(batches.maxAppendBytes === null ? {} : { maxAppendBytes: batches.maxAppendBytes }) };
  // Crashes armed inside snapshot writes need snapshots to strike in: five times as many then.
  const snapshotProbability = options.snapshotProbability ?? (snapshotCrashes === null ? 0.01 : 0.05);
  const cluster = createSimulatedCluster({ seed, size: nodes, maxWriteDelayMs, snapshotProbability, snapshotProfile, linkBytesPerSecond: snapshots.linkBytesPerSecond, raftConfig, witnesses: [...witnesses] });
  const crashed: Crashed = new Map();
  let faultCount = 0;
  let crashCount = 0;
  let pauseCount = 0;
  let proposalNumber = 0;
  options.observe?.(cluster);
  const committedRivals = watchCommittedRivals(cluster);
  cluster.observers.leaderElected = (simulated) => {
    // The Figure 8 sequence (leader-cut-off.ts) takes the leaders it waits for: a crash armed for
    // the next leader waits for a later one (a crash would lose the cut-off leader's rivals).
    if (cutOffNewLeader(cluster, leaderCutOffs, simulated) || unplugSuccessorOnCommit(cluster, leaderCutOffs, simulated)) return;
    if (sendCrashes.nextLeaderFrames === null) return;
    armSendCrash(cluster, sendCrashes, crashed, simulated.id, sendCrashes.nextLeaderFrames);
    sendCrashes.nextLeaderFrames = null;
  };
  try {
    await cluster.start();
    let nextFaultAt = 200 + random() * 300;
    while (cluster.clock.now() < durationMs) {
      // Clients: a few proposals every few milliseconds, to random live nodes, never awaited here.
      const proposer = pick(random, cluster.ids);
      if (cluster.isAlive(proposer)) void cluster.propose(proposer, workloadCommand(`p${seed}-${proposalNumber++}`, batches.commandBytes), { timeoutMs: 1_000 });
      if (random() < 0.2) startRead(cluster, pick(random, cluster.ids));
      await cluster.runFor(2 + Math.floor(random() * 10));
      await rebootDue(cluster, crashed);
      if (cluster.clock.now() >= nextFaultAt) {
        const fault = await injectFault(cluster, random, crashed, removalRandom, witnesses, snapshotCrashes, sendCrashes);
        if (maybePause(cluster, pauseRandom, electionTimeoutMin)) pauseCount += 1;
        maybeBeginLeaderCutOff(cluster, leaderCutOffs);
        faultCount += 1;
        if (fault === 'crash' || fault === 'outage') crashCount += 1;
        nextFaultAt = cluster.clock.now() + 20 + random() * 250;
      }
    }
    // Crashes armed on a send and not yet struck would strike after the heal; unplugged nodes
    // would stay out.
    sendCrashes.nextLeaderFrames = null;
    endLeaderCutOffs(leaderCutOffs);
    cluster.network.disarmCrashesOnSend();
    const healed = await healAndCheckLiveness(cluster, crashed, { seed, nodes, faults: faultCount, crashes: crashCount, pauses: pauseCount, witnesses: [...witnesses] });
    const result = { ...healed, crashesOnSend: sendCrashes.struck, leadersCutOff: leaderCutOffs.struck, committedRivals: committedRivals.count };
    // Only in runs that arm them, so the results (and digests) of every other run stay as they were.
    return snapshotCrashes === null ? result : { ...result, crashes: result.crashes - snapshotCrashes.armed + snapshotCrashes.struck, crashesInSnapshotWrites: snapshotCrashes.struck };
  } finally {
    await cluster.close();
  }
}

async function healAndCheckLiveness(cluster: SimulatedCluster, crashed: Crashed, stats: { seed: number; nodes: number; faults: number; crashes: number; pauses: number; witnesses: readonly NodeId[] }): Promise<Omit<SimulationResult, 'crashesOnSend' | 'leadersCutOff' | 'committedRivals'>> {
  cluster.network.heal();
  cluster.network.conditions = { ...reliableNetwork };
  // A crash armed inside a snapshot write and not yet struck would strike after the heal.
  for (const simulated of cluster.nodes.values()) simulated.storage.disarm();
  for (const id of cluster.ids) cluster.resume(id);
  for (const id of crashed.keys()) await cluster.restart(id);
  const healedAt = cluster.clock.now();
  const leader = await cluster.waitForLeader(livenessDeadlineMs);
  if (leader === null) throw new LivenessFailure(stats.seed, `no leader ${livenessDeadlineMs} ms after the heal`);
  let committed = null;
  while (committed === null && cluster.clock.now() - healedAt < livenessDeadlineMs) {
    const current = cluster.leader() ?? leader;
    committed = await cluster.settle(cluster.propose(current.id, new TextEncoder().encode('after-heal'), { timeoutMs: 1_000 }), livenessDeadlineMs);
    // A proposal can fail at once (a node removed from the cluster says so without waiting): let
    // time pass before the next try, or the loop would spin with the virtual clock standing still.
    if (committed === null) await cluster.runFor(10);
  }
  const healedCommitMs = cluster.clock.now() - healedAt;
  if (committed === null || committed === undefined || healedCommitMs > livenessDeadlineMs) {
    throw new LivenessFailure(stats.seed, `no commit within ${livenessDeadlineMs} ms after the heal`);
  }
  // Let every node catch up, then check that every member did and that nothing acknowledged was
  // lost. A member stuck behind used to pass unseen: a voter that missed the promotion of the
  // learner that then led refused that leader's frames for good (5-node seeds 510096, 510115).
  // A node the configuration no longer holds (--removals) is not expected to follow.
  const target = committed.index;
  const membership = (cluster.leader() ?? leader).node?.membership.value;
  if (membership === undefined) throw new LivenessFailure(stats.seed, 'no leader to say who the members are after the post-heal commit');
  const members = [...cluster.nodes.values()].filter((simulated) => membership.voters.includes(simulated.id) || (membership.learners ?? []).includes(simulated.id));
  await cluster.runUntil(() => members.every((simulated) => simulated.appliedIndex >= target), catchUpWindowMs);
  const behind = members.filter((simulated) => simulated.appliedIndex < target);
  if (behind.length > 0) {
    const described = behind.map((simulated) => `${simulated.id} at ${simulated.appliedIndex} (${simulated.node?.role.value ?? 'down'}, term ${simulated.node?.term.value ?? '?'}, following ${simulated.node?.leader.value ?? 'nobody'})`);
    throw new LivenessFailure(stats.seed, `members still behind ${target} ${catchUpWindowMs} ms after it committed: ${described.join('; ')}`);
  }
  cluster.checker.checkAcknowledgedApplied();
  cluster.checker.throwIfViolated();
  const checker = cluster.checker;
  const installed = checker.snapshotsInstalled;
  return { ...stats, acknowledged: checker.acknowledgedCount, committed: checker.highestApplied, elections: checker.electionsWon, finalTerm: cluster.leader()?.node?.term.value ?? 0, healedCommitMs, snapshotsInstalled: installed.count, snapshotBytesInstalled: installed.bytes };
}

/** How long every member gets to apply the commit made after the heal (snapshots included). */
const catchUpWindowMs = 5_000;

/**
 * How a seed's AppendEntries are cut. With the default batch (1 MiB) and commands of a dozen bytes,
 * every batch or probe carried a new leader's no-op along with the older terms' entries before it,
 * so no follower ever acknowledged an older term's entry without the no-op, and the state of Raft's
 * Figure 8 (an older term's entry on a majority, not yet committed) was out of reach: an outside
 * review planted the Figure 8 bug (a leader committing an older term's entry by counting its
 * replicas) and 1,100 seeds passed (2026-12-07, third session). With `smallBatches`
 * (`--small-batches`) batches hold at most 1 KiB (the smallest maxAppendBytes allowed) and
 * commands are padded: half the seeds to 300–700 bytes, half to 800–840, too large for a no-op to
 * share their frame (below about 790 bytes the no-op rode along with the last older entry, and
 * the first 600 seeds of this mode could not pass it). That found a driver bug at once (every
 * non-empty proposal refused at that setting). Such a seed runs about ten times as long, so it is
 * a mode of its own, not a share of every campaign. With the crashes on a send as well
 * (SendCrashes), the planted bug now commits older terms' entries by counting in most seeds (918
 * such commits in 20 seeds on 5 nodes), but 320 more seeds still passed it (2026-12-07, fourth
 * session): at none of those commits did any node hold a different entry of a newer term at that
 * index, the rival a later leader needs to overwrite it. The missing link was a leader whose own
 * term's entries stay on a minority and that can still win later: the Figure 8 fault sequence
 * (leader-cut-off.ts) builds it, and with it the planted bug fails 50 of 200 3-node and 28 of 200
 * 5-node seeds of this mode (Leader Completeness; 2026-12-07, fifth session), but only 4 of 200
 * and 0 of 200 with ordinary batches, where the catch-up that carries an older entry mostly
 * carries the no-op too. src/core keeps a Figure 8 step test, simulation-figure8.test.ts seeds
 * that reach the shape. Drawn from a stream of its own, so the other draws of a seed are as before.
 */
interface AppendBatches {
  readonly commandBytes: number;
  readonly maxAppendBytes: number | null;
}

const ordinaryBatches: AppendBatches = { commandBytes: 0, maxAppendBytes: null };

function drawAppendBatches(seed: number): AppendBatches {
  const random = seededRandom(deriveSeed(seed, 'append-batches'));
  // Half the seeds send commands too large for a no-op to share their frame: a 1 KiB frame holds
  // one command of up to about 790 bytes and the no-op after it, so a new leader's catch-up batch
  // carried its no-op along with the last older entry, and no follower ever acknowledged the older
  // entries alone (the state Figure 8 starts from).
  const commandBytes = random() < 0.5 ? 800 + Math.floor(random() * 41) : 300 + Math.floor(random() * 401);
  return { commandBytes, maxAppendBytes: 1024 };
}

/** `text` as a command, padded with spaces to `bytes` when it is shorter (the checkers compare whole commands). */
function workloadCommand(text: string, bytes: number): Uint8Array {
  const encoded = new TextEncoder().encode(text);
  if (encoded.length >= bytes) return encoded;
  const padded = new Uint8Array(bytes).fill(0x20);
  padded.set(encoded);
  return padded;
}

/** The command that replays one seed, printed with every failure. */
export function replayCommand(seed: number, nodes: number, removals = false, witnesses = 0, crashesInSnapshotWrites = false): string {
  return `npm run sim -- --seed ${seed} --nodes ${nodes}${removals ? ' --removals' : ''}${witnesses > 0 ? ` --witnesses ${witnesses}` : ''}${crashesInSnapshotWrites ? ' --crash-in-snapshot-writes' : ''}`;
}
