// Counts how often a run reaches the shape of Raft's Figure 8 (e): a leader commits an entry while
// another node's durable log holds a different entry of a newer term at that index. In a correct
// engine that is harmless (the rival's holder can no longer win an election), but it is the state
// in which a leader that commits an older term's entry by counting its replicas (the Figure 8 bug)
// loses the entry: the rival's holder wins and overwrites it. A simulator that never reaches it
// cannot catch that bug, and planted, the bug passed thousands of seeds that never did; the count
// (SimulationResult.committedRivals) lets a test insist that the shape stays reachable.
import type { SimulatedCluster, SimulatedNode } from './cluster.ts';
import type { LogEntry } from '../core/types.ts';

export interface CommittedRivals {
  /** Indexes committed while some node held a different entry of a newer term there. */
  readonly count: number;
}

function entryAt(simulated: SimulatedNode, index: number): LogEntry | undefined {
  const log = simulated.durable.peekLog();
  return log.entries[index - log.firstIndex];
}

/**
 * Watches every leader's commit index from here on (chaining any nodeStarted observer already
 * set). Each index is judged once, when a leader first commits it, against every node's durable
 * log; a synchronous listener, so attaching it changes nothing in the run.
 */
export function watchCommittedRivals(cluster: SimulatedCluster): CommittedRivals {
  const rivals = { count: 0 };
  let judgedThrough = 0;
  const judge = (leader: SimulatedNode, commitIndex: number): void => {
    for (let index = judgedThrough + 1; index <= commitIndex; index += 1) {
      const committed = entryAt(leader, index);
      // Compacted away on the leader (or below its snapshot): nothing to compare against.
      if (committed === undefined) continue;
      const rivalHeld = [...cluster.nodes.values()].some((other) => other !== leader && (entryAt(other, index)?.term ?? 0) > committed.term);
      if (rivalHeld) rivals.count += 1;
    }
    judgedThrough = Math.max(judgedThrough, commitIndex);
  };
  const earlier = cluster.observers.nodeStarted;
  cluster.observers.nodeStarted = (simulated, node) => {
    earlier?.(simulated, node);
    const incarnation = simulated.incarnation;
    node.commitIndex.subscribe((commitIndex) => {
      if (simulated.incarnation !== incarnation || node.role.value !== 'leader' || commitIndex <= judgedThrough) return;
      judge(simulated, commitIndex);
    });
  };
  return rivals;
}
