import { describe, expect, it } from 'vitest';
import { parsePeerArguments } from './cli-arguments.ts';
import { renderMetrics } from './prometheus.ts';
import { createWatchable } from '../core/observable.ts';
import { nodeId } from '../core/types.ts';
import type { RaftNode } from '../index.ts';

const base = ['--room', 'board', '--signal', 'ws://127.0.0.1:8787', '--data', './peer'];

describe('raftmesh-peer arguments', () => {
  it('parses the required flags, witness mode, the HTTP port and the secret from the environment', () => {
    expect(parsePeerArguments([...base, '--witness', '--http-port', '0'], { RAFTMESH_SECRET: 's3' })).toEqual({
      room: 'board',
      signalingUrl: 'ws://127.0.0.1:8787',
      dataDirectory: './peer',
      mode: 'witness',
      secret: 's3',
      httpPort: 0,
      httpHost: '127.0.0.1',
      app: undefined,
      bindAddress: undefined,
      timing: undefined,
    });
  });

  it('takes the room\'s election timeout range and heartbeat interval together, never one alone', () => {
    expect(parsePeerArguments([...base, '--election-timeout-ms', '1000-2000', '--heartbeat-interval-ms', '100'], {}).timing).toEqual({ electionTimeoutMin: 1_000, electionTimeoutMax: 2_000, heartbeatInterval: 100 });
    expect(() => parsePeerArguments([...base, '--election-timeout-ms', '1000-2000'], {})).toThrow(/go together/);
    expect(() => parsePeerArguments([...base, '--heartbeat-interval-ms', '100'], {})).toThrow(/go together/);
    expect(() => parsePeerArguments([...base, '--election-timeout-ms', '1000', '--heartbeat-interval-ms', '100'], {})).toThrow(/MIN-MAX/);
    expect(() => parsePeerArguments([...base, '--election-timeout-ms', '1000-2000', '--heartbeat-interval-ms', '0.5'], {})).toThrow(/whole number/);
  });

  it('refuses unknown flags, missing values, bad URLs and ports with a message that names them', () => {
    expect(() => parsePeerArguments([...base, '--bogus'], {})).toThrow(/unknown argument --bogus/);
    expect(() => parsePeerArguments(['--room', '--signal', 'ws://x'], {})).toThrow(/--room needs a value/);
    expect(() => parsePeerArguments(['--room', 'r', '--data', 'd'], {})).toThrow(/--signal is required/);
    expect(() => parsePeerArguments(['--room', 'r', '--data', 'd', '--signal', 'http://x'], {})).toThrow(/ws:\/\//);
    expect(() => parsePeerArguments([...base, '--http-port', '70000'], {})).toThrow(/port number/);
    expect(() => parsePeerArguments([...base, '--learner'], {})).toThrow(/--witness/);
  });
});

describe('the /metrics text', () => {
  it('is Prometheus text with the role, indexes, event and transport counters', () => {
    const node = {
      role: createWatchable('leader'),
      term: createWatchable(7),
      commitIndex: createWatchable(42),
      compactionFloor: createWatchable(10),
      membership: createWatchable({ voters: [nodeId('a'), nodeId('b'), nodeId('c')] }),
      stopped: createWatchable<Error | null>(null),
    } as unknown as RaftNode;
    const text = renderMetrics({ node: () => node, appliedIndex: () => 41, connectedPeers: () => 2, metricCounts: new Map([['electionWon', 3]]), transportCounters: () => ({ framesSent: 9 }) });
    expect(text).toContain('# TYPE raftmesh_role gauge');
    expect(text).toContain('raftmesh_role{role="leader"} 1');
    expect(text).toContain('raftmesh_role{role="follower"} 0');
    expect(text).toContain('raftmesh_term 7');
    expect(text).toContain('raftmesh_commit_index 42');
    expect(text).toContain('raftmesh_applied_index 41');
    expect(text).toContain('raftmesh_peers_connected 2');
    expect(text).toContain('raftmesh_events_total{type="electionWon"} 3');
    expect(text).toContain('raftmesh_transport_total{counter="framesSent"} 9');
    expect(text.endsWith('\n')).toBe(true);
  });
});
