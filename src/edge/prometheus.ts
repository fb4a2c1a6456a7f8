// The edge peer's /metrics in the Prometheus text format: gauges read from the node when scraped,
// counters of every RaftMetric type the node emitted and of the transport's own counters.
import type { RaftNode } from '../index.ts';

export interface MetricsSource {
  readonly node: () => RaftNode;
  readonly appliedIndex: () => number;
  readonly connectedPeers: () => number;
  readonly metricCounts: ReadonlyMap<string, number>;
  readonly transportCounters: () => Readonly<Record<string, number>>;
}

const roles = ['follower', 'candidate', 'leader', 'learner'] as const;

function line(name: string, help: string, type: 'gauge' | 'counter', samples: readonly (readonly [string, number])[]): string {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples.map(([labels, value]) => `${name}${labels} ${value}`)].join('\n');
}

const label = (value: string): string => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function renderMetrics(source: MetricsSource): string {
  const node = source.node();
  const stopped = node.stopped.value !== null;
  const blocks = [
    line('raftmesh_role', 'The role this peer holds (1 for the current one).', 'gauge', roles.map((role) => [`{role="${role}"}`, !stopped && node.role.value === role ? 1 : 0])),
    line('raftmesh_stopped', '1 once the node stopped (storage failure, close).', 'gauge', [['', stopped ? 1 : 0]]),
    line('raftmesh_term', 'Current Raft term.', 'gauge', [['', node.term.value]]),
    line('raftmesh_commit_index', 'Highest log index known committed.', 'gauge', [['', node.commitIndex.value]]),
    line('raftmesh_applied_index', 'Highest log index applied by this peer.', 'gauge', [['', source.appliedIndex()]]),
    line('raftmesh_compaction_floor', 'Log index through which the log is compacted.', 'gauge', [['', node.compactionFloor.value]]),
    line('raftmesh_voters', 'Voters in the latest configuration.', 'gauge', [['', node.membership.value.voters.length]]),
    line('raftmesh_peers_connected', 'Peers reachable over WebRTC now.', 'gauge', [['', source.connectedPeers()]]),
    line('raftmesh_events_total', 'Engine metric events by type.', 'counter', [...source.metricCounts].map(([type, count]) => [`{type="${label(type)}"}`, count])),
    line('raftmesh_transport_total', 'WebRTC transport counters.', 'counter', Object.entries(source.transportCounters()).map(([name, count]) => [`{counter="${label(name)}"}`, count])),
  ];
  return `${blocks.join('\n')}\n`;
}
