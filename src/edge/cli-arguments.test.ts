import { describe, expect, it } from 'vitest';
import { asksForHelp, parsePeerArguments } from './cli-arguments.ts';
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

describe('raftmesh-peer --help', () => {
  it('is asked for by --help or -h anywhere, and by nothing else', () => {
    expect(asksForHelp(['--help'])).toBe(true);
    expect(asksForHelp(['--room', 'r', '-h'])).toBe(true);
    expect(asksForHelp(['--room', 'help'])).toBe(false);
    expect(asksForHelp([])).toBe(false);
    // Without the check, --help is an unknown argument (an error, exit 2).
    expect(() => parsePeerArguments(['--help'], {})).toThrow(/unknown argument --help/);
  });
});

describe('raftmesh-peer arguments, strictly', () => {
  const refusals: Array<[string, string[], Record<string, string>, RegExp]> = [
    ['a hexadecimal port', ['--http-port', '0x10'], {}, /--http-port must be a port number/],
    ['an exponent port', ['--http-port', '1e3'], {}, /--http-port must be a port number/],
    ['a negative port', ['--http-port', '-1'], {}, /--http-port must be a port number/],
    ['a port with spaces', ['--http-port', ' 80'], {}, /--http-port must be a port number/],
    ['a fractional port', ['--http-port', '80.5'], {}, /--http-port must be a port number/],
    ['an empty port', ['--http-port', ''], {}, /--http-port needs a value, got an empty one/],
    ['an empty room', ['--room', ''], {}, /--room needs a value, got an empty one/],
    ['an empty data directory', ['--data', ' '], {}, /--data needs a value, got an empty one/],
    ['an empty HTTP host', ['--http-host', ''], {}, /--http-host needs a value/],
    ['an HTTP host without a port', ['--http-host', '0.0.0.0'], {}, /--http-host needs --http-port \(without a port no HTTP server starts\)/],
    ['an empty bind address', ['--bind', ''], {}, /--bind needs a value/],
    ['an empty secret', ['--secret', ''], {}, /--secret needs a value/],
    ['an empty RAFTMESH_SECRET', [], { RAFTMESH_SECRET: '' }, /RAFTMESH_SECRET is set but empty/],
    ['a repeated flag', ['--room', 'other'], {}, /--room is given twice \(board and other\)/],
    ['a repeated --data', ['--data', 'other'], {}, /--data is given twice/],
    ['a flag=value form', ['--http-port=9464'], {}, /unknown argument --http-port=9464/],
    ['a positional argument', ['extra'], {}, /unknown argument extra/],
    ['a value missing at the end', ['--app'], {}, /--app needs a value/],
    ['a MIN above MAX', ['--election-timeout-ms', '2000-1000', '--heartbeat-interval-ms', '100'], {}, /MIN below MAX/],
    ['a MIN equal to MAX', ['--election-timeout-ms', '1000-1000', '--heartbeat-interval-ms', '100'], {}, /MIN below MAX/],
    ['a hexadecimal range', ['--election-timeout-ms', '0x10-0x20', '--heartbeat-interval-ms', '1'], {}, /MIN-MAX/],
    ['an exponent range', ['--election-timeout-ms', '1e3-2e3', '--heartbeat-interval-ms', '100'], {}, /MIN-MAX/],
    ['a half range', ['--election-timeout-ms', '1000-', '--heartbeat-interval-ms', '100'], {}, /MIN-MAX/],
    ['three bounds', ['--election-timeout-ms', '1-2-3', '--heartbeat-interval-ms', '1'], {}, /MIN-MAX/],
    ['a range beyond any timeout', ['--election-timeout-ms', '99999999999999999999-99999999999999999999', '--heartbeat-interval-ms', '100'], {}, /MIN-MAX/],
    ['a zero heartbeat', ['--election-timeout-ms', '1000-2000', '--heartbeat-interval-ms', '0'], {}, /at least 1 and below/],
    ['a heartbeat not below MIN', ['--election-timeout-ms', '1000-2000', '--heartbeat-interval-ms', '1000'], {}, /at least 1 and below/],
    ['an exponent heartbeat', ['--election-timeout-ms', '1000-2000', '--heartbeat-interval-ms', '1e2'], {}, /whole number/],
    ['a signaling URL without a host', ['--signal', 'ws://'], {}, /--signal must be a ws:\/\/ or wss:\/\/ URL with a host/],
    ['a signaling URL with a bad port', ['--signal', 'ws://127.0.0.1:99999'], {}, /--signal must be/],
  ];
  for (const [what, extra, environment, error] of refusals) {
    it(`refuses ${what}`, () => {
      const args = extra.includes('--signal') ? [...base.filter((_, position) => position !== 2 && position !== 3), ...extra] : [...base, ...extra];
      expect(() => parsePeerArguments(args, environment)).toThrow(error);
    });
  }

  it('takes the secret flag over RAFTMESH_SECRET, and accepts the largest port and plain decimal timings', () => {
    expect(parsePeerArguments([...base, '--secret', 'flag'], { RAFTMESH_SECRET: 'environment' }).secret).toBe('flag');
    expect(parsePeerArguments([...base, '--http-port', '65535'], {}).httpPort).toBe(65_535);
    expect(parsePeerArguments([...base, '--election-timeout-ms', '0150-300', '--heartbeat-interval-ms', '50'], {}).timing).toEqual({ electionTimeoutMin: 150, electionTimeoutMax: 300, heartbeatInterval: 50 });
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
