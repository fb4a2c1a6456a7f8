// A fault sequence that walks a cluster into Raft's Figure 8 (a) to (e):
//   (a) the leader L is unplugged: entries proposed to it from then on land in its log alone;
//   (b) the others elect B, which lacks them, and B is unplugged in the instant it wins: its no-op
//       (and what it is asked to propose) lands at the indexes of L's entries in its own log and
//       nowhere else (its first frames are lost in the air; unlike a crash, the cut loses none of
//       its writes): rivals of a newer term. L is plugged back in at that moment;
//   (c) L, its log the most up to date, may win the next term; it replicates its older entries,
//       and with one-entry batches a follower acknowledges them long before L's no-op, so
//       counting replicas (the Figure 8 bug) commits them;
//   (d) the leader elected after B is unplugged in the instant its commit index first reaches B's
//       no-op's index (where B's rivals begin), its frames in the air lost, and B is plugged back
//       in at that moment;
//   (e) B's last log term is newer than that of every node L's term did not reach, so B can win
//       and overwrite the older entries, which the bug had committed (Leader Completeness).
// Which node wins each election is left to chance, so the sequence only makes the shape likely.
// It is harmless to a correct engine: there L commits at B's rivals' indexes only with an entry
// of its own term, on a majority, which B can no longer beat; a leader lost right after such a
// commit is a case worth running anyway. An unplugged node stays out whatever partitions and heals
// come meanwhile (B plugged back in early let L overwrite its rivals), but never longer than
// maxUnpluggedTimeouts shortest election timeouts. One sequence at a time, beside the ordinary
// faults, from a stream of its own.
//
// Why: crashes on a send made leaders commit older terms' entries by counting, but a leader that
// crashed before its first frame lost its no-op with its unsynced writes, and no log ever held a
// newer-term rival at an index some leader committed: the planted Figure 8 bug passed every seed
// (see drawAppendBatches in simulation.ts). Variants of step (d) that crashed L after a drawn
// number of frames, or at its first commit, still passed nearly every seed: L's catch-up of a long
// tail takes many frames, and its first commits are of entries B holds too; and a crash lets L's
// frames in the air arrive, its no-op among them.
import type { SimulatedCluster, SimulatedNode } from './cluster.ts';
import type { NodeId } from '../core/types.ts';

export interface LeaderCutOffs {
  /** A stream of its own, so the schedule's other draws of a seed are as before. */
  readonly random: () => number;
  readonly electionTimeoutMin: number;
  /** Step (a) done: L, unplugged, waiting for the next leader (B). */
  formerLeader: { readonly id: NodeId } | null;
  /** Step (b) done: B, unplugged, waiting for the leader after it (step (d)). */
  cutOff: CutOffLeader | null;
  /** Leaders unplugged in step (b) so far. */
  struck: number;
  /** Set at the final heal: nothing waits, and step (d) no longer strikes. */
  ended: boolean;
  /** The nodes unplugged now, each with what plugs it back in. */
  readonly held: Map<NodeId, () => void>;
}

interface CutOffLeader {
  readonly id: NodeId;
  /** The index of B's no-op: past its durable log's end as it won. */
  readonly rivalsFrom: number;
}

/** The chance, beside each fault, that a sequence begins (when none is under way and a leader leads). */
const beginProbability = 0.3;

/** The longest an unplugged node stays out if the sequence stalls (nobody elected, say). */
const maxUnpluggedTimeouts = 16;

export function createLeaderCutOffs(random: () => number, electionTimeoutMin: number): LeaderCutOffs {
  return { random, electionTimeoutMin, formerLeader: null, cutOff: null, struck: 0, ended: false, held: new Map() };
}


/** Unplugs `id` until release(id), or the bound, plugs it back in. */
function hold(cluster: SimulatedCluster, cutOffs: LeaderCutOffs, id: NodeId): void {
  const plugIn = (): void => {
    if (cutOffs.held.get(id) !== plugIn) return;
    cutOffs.held.delete(id);
    cluster.network.setUnplugged(id, false);
  };
  cutOffs.held.get(id)?.();
  cutOffs.held.set(id, plugIn);
  cluster.network.setUnplugged(id, true);
  cluster.clock.setTimeout(plugIn, maxUnpluggedTimeouts * cutOffs.electionTimeoutMin);
}

function release(cutOffs: LeaderCutOffs, id: NodeId): void {
  cutOffs.held.get(id)?.();
}

/**
 * Step (a), now and then beside a fault: unplugs the leader and waits for the next one. Drawn
 * every time, so the stream's later draws do not depend on whether a leader leads.
 */
export function maybeBeginLeaderCutOff(cluster: SimulatedCluster, cutOffs: LeaderCutOffs): void {
  if (cutOffs.random() >= beginProbability) return;
  const leader = cluster.leader()?.id;
  if (leader === undefined || cutOffs.formerLeader !== null || cutOffs.cutOff !== null || cutOffs.held.size > 0) return;
  const formerLeader = { id: leader };
  cutOffs.formerLeader = formerLeader;
  hold(cluster, cutOffs, leader);
  // Nobody elected in time: the sequence is over (the bound plugs L back in).
  cluster.clock.setTimeout(() => {
    if (cutOffs.formerLeader === formerLeader) cutOffs.formerLeader = null;
  }, maxUnpluggedTimeouts * cutOffs.electionTimeoutMin);
}

/**
 * Step (b) for `simulated`, just elected, if L waits; true when it unplugged it. The cut is made
 * by a timer of zero delay (the same virtual instant) rather than inside the engine's role
 * listener: the leader's first frames left in the step that announced the role, and every frame
 * takes a millisecond or more, so they are all still in the air and lost with the cable.
 */
export function cutOffNewLeader(cluster: SimulatedCluster, cutOffs: LeaderCutOffs, simulated: SimulatedNode): boolean {
  const formerLeader = cutOffs.formerLeader?.id;
  if (formerLeader === undefined) return false;
  cutOffs.formerLeader = null;
  release(cutOffs, formerLeader);
  // L plugged back in by the bound, then elected: the shape needs another leader.
  if (simulated.id === formerLeader) return false;
  const id = simulated.id;
  const log = simulated.durable.peekLog();
  const cutOff = { id, rivalsFrom: log.firstIndex + log.entries.length };
  cutOffs.cutOff = cutOff;
  cutOffs.struck += 1;
  cluster.clock.setTimeout(() => {
    if (cutOffs.ended) return;
    hold(cluster, cutOffs, id);
    cluster.clock.setTimeout(() => {
      if (cutOffs.cutOff === cutOff) cutOffs.cutOff = null;
    }, maxUnpluggedTimeouts * cutOffs.electionTimeoutMin);
  }, 0);
  return true;
}

/** Step (d) for `simulated`, just elected, if B waits for it; true when it armed it. */
export function unplugSuccessorOnCommit(cluster: SimulatedCluster, cutOffs: LeaderCutOffs, simulated: SimulatedNode): boolean {
  const cutOff = cutOffs.cutOff;
  const node = simulated.node;
  if (cutOff === null || node === null) return false;
  cutOffs.cutOff = null;
  // B back by the bound, then elected: its rivals are its term's entries now.
  if (simulated.id === cutOff.id) return false;
  const incarnation = simulated.incarnation;
  const term = node.term.value;
  const unsubscribe = node.commitIndex.subscribe((commitIndex) => {
    const deposed = simulated.incarnation !== incarnation || node.term.value !== term || node.role.value !== 'leader';
    if (commitIndex < cutOff.rivalsFrom && !deposed) return;
    unsubscribe();
    // After the step that announced the commit (not inside the engine), at the same instant.
    cluster.clock.setTimeout(() => {
      if (cutOffs.ended) return;
      // Deposed (or crashed) before it committed there: B just comes back.
      if (!deposed && simulated.incarnation === incarnation) hold(cluster, cutOffs, simulated.id);
      release(cutOffs, cutOff.id);
    }, 0);
  });
  return true;
}

/** The final heal: nothing waits, every node the sequence holds out is plugged back in. */
export function endLeaderCutOffs(cutOffs: LeaderCutOffs): void {
  cutOffs.formerLeader = null;
  cutOffs.cutOff = null;
  cutOffs.ended = true;
  for (const id of [...cutOffs.held.keys()]) release(cutOffs, id);
}
