// Helpers in the spirit of the MIT 6.5840 Raft lab tester: `one()` keeps proposing a command
// until `expectedServers` nodes applied it, `committedCount()` says how many applied an index.
import { nodeId, type ClusterConfig, type NodeId } from '../../core/types.ts';
import { createSimulatedCluster, type SimulatedCluster, type SimulatedClusterOptions } from '../cluster.ts';

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (value: Uint8Array | null): string | null => (value === null ? null : new TextDecoder().decode(value));

export async function startCluster(options: SimulatedClusterOptions): Promise<SimulatedCluster> {
  const cluster = createSimulatedCluster(options);
  await cluster.start();
  return cluster;
}

/** How many live nodes applied `index`, and the command they agree on (throws on disagreement). */
export function committedCount(cluster: SimulatedCluster, index: number): { count: number; command: string | null } {
  let count = 0;
  let command: string | null = null;
  for (const simulated of cluster.nodes.values()) {
    if (simulated.node === null || !simulated.appliedCommands.has(index)) continue;
    const applied = text(simulated.appliedCommands.get(index) ?? null);
    if (count > 0 && applied !== command) throw new Error(`nodes disagree at index ${index}: ${command} vs ${applied}`);
    command = applied;
    count += 1;
  }
  return { count, command };
}

/** Proposes through whoever leads until `expectedServers` applied it; returns its index. */
export async function one(cluster: SimulatedCluster, command: string, expectedServers: number, options: { retry?: boolean; timeoutMs?: number } = {}): Promise<number> {
  const deadline = cluster.clock.now() + (options.timeoutMs ?? 10_000);
  while (cluster.clock.now() < deadline) {
    const leader = cluster.leader() ?? (await cluster.waitForLeader(500));
    if (leader !== null) {
      const entry = await cluster.settle(cluster.propose(leader.id, bytes(command), { timeoutMs: 2_000 }), 2_500);
      if (entry !== null && entry !== undefined) {
        const index = entry.index;
        const reached = await cluster.runUntil(() => committedCount(cluster, index).count >= expectedServers, 2_000);
        if (reached && committedCount(cluster, index).command === command) return index;
        if (options.retry === false) throw new Error(`command ${command} did not reach ${expectedServers} servers`);
      }
    }
    await cluster.runFor(50);
  }
  throw new Error(`one(${command}) failed to reach agreement on ${expectedServers} servers`);
}

export function leaderCount(cluster: SimulatedCluster): number {
  const byTerm = new Map<number, NodeId[]>();
  for (const simulated of cluster.nodes.values()) {
    const node = simulated.node;
    if (node === null || node.role.value !== 'leader') continue;
    byTerm.set(node.term.value, [...(byTerm.get(node.term.value) ?? []), simulated.id]);
  }
  for (const [term, leaders] of byTerm) if (leaders.length > 1) throw new Error(`term ${term} has leaders ${leaders.join(', ')}`);
  return [...byTerm.values()].length;
}

/** Exactly one leader among the connected majority, found within 5 s of virtual time. */
export async function checkOneLeader(cluster: SimulatedCluster, among: readonly NodeId[] = cluster.ids): Promise<NodeId> {
  for (let attempt = 0; attempt < 10; attempt += 1) {
    await cluster.runFor(500);
    const leaders = among.filter((id) => cluster.nodes.get(id)?.node?.role.value === 'leader');
    const terms = new Map<number, NodeId[]>();
    for (const id of leaders) {
      const term = cluster.nodes.get(id)?.node?.term.value ?? 0;
      terms.set(term, [...(terms.get(term) ?? []), id]);
    }
    for (const [term, ids] of terms) if (ids.length > 1) throw new Error(`term ${term} has ${ids.length} leaders`);
    const newest = Math.max(...terms.keys());
    const winner = terms.get(newest)?.[0];
    if (winner !== undefined) return winner;
  }
  throw new Error('expected one leader, got none');
}

export function termOf(cluster: SimulatedCluster, id: NodeId): number {
  return cluster.nodes.get(id)?.node?.term.value ?? -1;
}

/** Disconnects nodes (MIT's "disconnect"): they keep running but reach no one. */
export function disconnect(cluster: SimulatedCluster, disconnected: Set<NodeId>, id: NodeId): void {
  disconnected.add(id);
  applyConnectivity(cluster, disconnected);
}

export function connect(cluster: SimulatedCluster, disconnected: Set<NodeId>, id: NodeId): void {
  disconnected.delete(id);
  applyConnectivity(cluster, disconnected);
}

function applyConnectivity(cluster: SimulatedCluster, disconnected: Set<NodeId>): void {
  const connected = cluster.ids.filter((id) => !disconnected.has(id));
  cluster.network.partition([connected, ...[...disconnected].map((id) => [id])]);
}

export const ids = (...names: string[]): NodeId[] => names.map((name) => nodeId(name));

/** Asks whoever leads for `target` until a change completes (a leader may change or step down meanwhile). */
export async function changeMembershipWithRetries(cluster: SimulatedCluster, target: ClusterConfig): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const leader = cluster.leader() ?? (await cluster.waitForLeader(2_000));
    if (leader === null) continue;
    try {
      await cluster.settle(leader.node!.changeMembership(target), 5_000);
      return;
    } catch {
      await cluster.runFor(100);
    }
  }
  throw new Error('membership change did not complete');
}
