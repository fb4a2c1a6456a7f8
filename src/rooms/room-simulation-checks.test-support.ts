// What the room simulation checks: invariants while it runs (RoomInvariants) and convergence
// and exactly-once at the end.
import type { NodeId } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import type { KvOperation } from '../testing/linearizability.ts';
import type { RoomEvent } from './room-coordinator.ts';
import type { LinkHistory, RemovalAllowance } from './room-simulation-links.test-support.ts';
import type { KvState, SimulatedPeer } from './room-simulation-peers.test-support.ts';

/** The voter count the policy aims for with `present` peers: the largest odd count up to the target. */
export function expectedVoters(present: number, target: number): number {
  const reachable = Math.max(1, Math.min(present, target));
  return reachable % 2 === 1 ? reachable : reachable - 1;
}

export class RoomInvariants {
  changes = 0;
  /** Removals of a present member over a link cut long enough (the policy's rules 1 and 5). */
  presentRemovals = 0;
  private readonly violations: string[] = [];
  private readonly leaderOfTerm = new Map<number, NodeId>();
  private readonly changing = new Set<NodeId>();

  constructor(
    private readonly seed: number,
    private readonly targetVoters: number,
    private readonly links: LinkHistory,
    private readonly allowance: RemovalAllowance,
  ) {}

  private violate(detail: string): void {
    this.violations.push(`${detail} (seed ${this.seed})`);
  }

  watchNode(node: RaftNode): void {
    // Read after a microtask: the driver publishes role before term, so the listener itself
    // would see the previous term. Two clusters in one room would also both lead some term.
    node.role.subscribe((role) => {
      if (role === 'leader') queueMicrotask(() => this.leaderOf(node.id, node.term.value));
    });
  }

  private leaderOf(id: NodeId, term: number): void {
    const existing = this.leaderOfTerm.get(term);
    if (existing !== undefined && existing !== id) this.violate(`Election Safety: ${existing} and ${id} both led term ${term}`);
    this.leaderOfTerm.set(term, id);
    this.links.led(id, term);
  }

  /**
   * Each change starts only when none is in flight, keeps 1..target voters, and removes only
   * absent members, or a present one the remover (`peer`, running as `remover`) could not reach
   * as long as the policy waits (LinkHistory.whyRemovalUnjustified). Not one silent for 30 s: no
   * peer here stays silent that long.
   */
  roomEvent(peer: NodeId, remover: NodeId, event: RoomEvent, isPresent: (id: NodeId) => boolean): void {
    if (event.type === 'membershipChanged' || event.type === 'membershipChangeFailed') this.changing.delete(peer);
    if (event.type !== 'membershipChangeStarted') return;
    this.changes += 1;
    if (this.changing.has(peer)) this.violate(`${peer} started a membership change while another was in flight`);
    this.changing.add(peer);
    const { decision } = event;
    if ('removed' in decision && isPresent(decision.removed)) {
      const unjustified = decision.type === 'dropSilentLearner' ? 'dropped as silent for 30 s, longer than this run' : this.links.whyRemovalUnjustified(remover, decision.removed, this.allowance);
      if (unjustified === null) this.presentRemovals += 1;
      else this.violate(`${peer} removed ${decision.removed}, which is present: ${unjustified}: ${JSON.stringify(decision)}`);
    }
    const voters = decision.target.voters.length;
    if (voters < 1 || voters > this.targetVoters) this.violate(`${peer} proposed ${voters} voters (target ${this.targetVoters}): ${JSON.stringify(decision)}`);
  }

  /** Peers whose membership change has started and not ended (committed or failed). */
  changesInFlight(): readonly NodeId[] {
    return [...this.changing];
  }

  throwIfViolated(): void {
    if (this.violations.length > 0) throw new Error(`room invariant violated: ${this.violations[0]}`);
  }

  /** Acknowledged appends appear exactly once in every replica, unknown ones at most once, and replicas agree. */
  checkAppends(history: readonly KvOperation[], states: readonly KvState[]): void {
    const first = JSON.stringify(states[0]);
    if (states.some((state) => JSON.stringify(state) !== first)) this.violate('replicas ended with different states');
    for (const state of states) {
      const counts = new Map<string, number>();
      for (const value of Object.values(state)) for (const token of value.match(/<[^>]*>/g) ?? []) counts.set(token, (counts.get(token) ?? 0) + 1);
      for (const [token, count] of counts) if (count > 1) this.violate(`append ${token} applied ${count} times`);
      for (const operation of history) {
        if (operation.input.type !== 'append' || operation.output === 'unknown') continue;
        const value = state[operation.input.key] ?? '';
        // A put of the same key that may come after it in the linearization (it did not return
        // before the append was called) may have overwritten it; the linearizability check covers those.
        const overwritten = history.some((other) => other.input.type === 'put' && other.input.key === operation.input.key && other.return > operation.call);
        if (!overwritten && !value.includes(operation.input.value)) this.violate(`acknowledged append ${operation.input.value} to ${operation.input.key} was lost`);
      }
    }
    this.throwIfViolated();
  }
}

/** null when converged; otherwise what is still off. */
export function checkConverged(peers: readonly SimulatedPeer[], voters: number): string | null {
  const rooms = peers.map((peer) => peer.room);
  if (rooms.some((room) => room === null)) return `${peers.filter((peer) => peer.room === null).map((peer) => peer.id).join(', ')} not joined yet`;
  const nodes = rooms.map((room) => room!.node);
  const leaders = nodes.filter((node) => node.role.value === 'leader');
  if (leaders.length !== 1) return `${leaders.length} leaders among the present peers (${nodes.map((node) => `${node.id}: ${node.role.value} term ${node.term.value} voters ${node.membership.value.voters.join(',')} commit ${node.commitIndex.value}`).join('; ')})`;
  const config = leaders[0]!.membership.value;
  const members = new Set([...config.voters, ...(config.learners ?? [])]);
  const ids = new Set(rooms.map((room) => room!.id));
  if (members.size !== ids.size || [...ids].some((id) => !members.has(id))) return `members ${[...members].join(',')} but present ${[...ids].join(',')}`;
  if (config.voters.length !== voters) return `${config.voters.length} voters, want ${voters} (config ${JSON.stringify(config)}, leader ${leaders[0]!.id}, progress ${JSON.stringify([...(leaders[0]!.replicationProgress?.() ?? [])])}, commit ${leaders[0]!.commitIndex.value})`;
  const applied = rooms.map((room) => room!.store.appliedIndex.value);
  if (new Set(applied).size !== 1) return `applied indices differ: ${applied.join(', ')}`;
  const states = rooms.map((room) => JSON.stringify(room!.store.state.value));
  if (new Set(states).size !== 1) return 'states differ at the same applied index';
  return null;
}
