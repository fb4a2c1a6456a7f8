// Arguments of `raftmesh-peer`, parsed strictly: an unknown flag, a missing or empty value, a flag
// given twice or a number that is not plain decimal digits is an error that names it, never
// silently ignored or read some other way (`0x10`, `1e3` and `` are not ports; an empty `--data`
// would be the working directory, an empty `--http-host` every interface, an empty secret an open room).
import { isWebSocketUrl } from './edge-imports.ts';

export interface PeerArguments {
  readonly room: string;
  readonly signalingUrl: string;
  readonly dataDirectory: string;
  readonly mode: 'voter' | 'witness';
  readonly secret: string | undefined;
  readonly httpPort: number | null;
  readonly httpHost: string;
  readonly app: string | undefined;
  readonly bindAddress: string | undefined;
  /** The room's timings, when they are not the engine's defaults: every member should run the same. */
  readonly timing: PeerTiming | undefined;
}

/** Election timeout range and heartbeat interval, in ms (RaftConfig validates them together). */
export interface PeerTiming {
  readonly electionTimeoutMin: number;
  readonly electionTimeoutMax: number;
  readonly heartbeatInterval: number;
}

export const usage = `usage: raftmesh-peer --room ROOM --signal ws://HOST:PORT --data DIR [--witness]
                     [--secret SECRET | env RAFTMESH_SECRET] [--http-port PORT [--http-host 127.0.0.1]] [--bind 127.0.0.1]
                     [--app MODULE]   (a module exporting storeOptions: the application's reducer)
                     [--election-timeout-ms MIN-MAX --heartbeat-interval-ms N]   (the browsers' raftConfig, if not the defaults)`;

/** `--help` or `-h` anywhere: the usage on stdout and exit 0, as raftmesh-signal does, whatever else is given. */
export function asksForHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

const valued = new Set(['--room', '--signal', '--data', '--secret', '--http-port', '--http-host', '--app', '--bind', '--election-timeout-ms', '--heartbeat-interval-ms']);

/**
 * Both timing flags or neither: an election range without its heartbeat (or the reverse) would mix
 * the room's timing with the defaults. The ranges themselves are RaftConfig's to check.
 */
function parseTiming(election: string | undefined, heartbeat: string | undefined): PeerTiming | undefined {
  if (election === undefined && heartbeat === undefined) return undefined;
  if (election === undefined || heartbeat === undefined) throw new Error(`--election-timeout-ms and --heartbeat-interval-ms go together\n${usage}`);
  const range = /^(\d{1,9})-(\d{1,9})$/.exec(election);
  if (range === null) throw new Error(`--election-timeout-ms must be MIN-MAX in ms (1000-2000), got ${JSON.stringify(election)}`);
  if (!/^\d{1,9}$/.test(heartbeat)) throw new Error(`--heartbeat-interval-ms must be a whole number of ms, got ${JSON.stringify(heartbeat)}`);
  const timing = { electionTimeoutMin: Number(range[1]), electionTimeoutMax: Number(range[2]), heartbeatInterval: Number(heartbeat) };
  if (timing.electionTimeoutMin >= timing.electionTimeoutMax) throw new Error(`--election-timeout-ms must be MIN-MAX with MIN below MAX, got ${election}`);
  if (timing.heartbeatInterval < 1 || timing.heartbeatInterval >= timing.electionTimeoutMin) throw new Error(`--heartbeat-interval-ms must be at least 1 and below the election timeout's MIN (${timing.electionTimeoutMin}), got ${heartbeat}`);
  return timing;
}

export function parsePeerArguments(argv: readonly string[], environment: Readonly<Record<string, string | undefined>>): PeerArguments {
  const values = new Map<string, string>();
  let witness = false;
  for (let position = 0; position < argv.length; position += 1) {
    const flag = argv[position] as string;
    if (flag === '--witness') {
      witness = true;
      continue;
    }
    if (flag === '--learner') throw new Error('--learner is not offered: the room policy promotes caught-up learners to keep enough voters; use --witness for a member that never leads');
    if (!valued.has(flag)) throw new Error(`unknown argument ${flag}\n${usage}`);
    const value = argv[position + 1];
    if (value === undefined || value.startsWith('--')) throw new Error(`${flag} needs a value\n${usage}`);
    if (value.trim().length === 0) throw new Error(`${flag} needs a value, got an empty one`);
    if (values.has(flag)) throw new Error(`${flag} is given twice (${values.get(flag)} and ${value}): give it once`);
    values.set(flag, value);
    position += 1;
  }
  const required = (flag: string): string => values.get(flag) ?? (() => { throw new Error(`${flag} is required\n${usage}`); })();
  const signalingUrl = required('--signal');
  if (!isWebSocketUrl(signalingUrl)) throw new Error(`--signal must be a ws:// or wss:// URL with a host, got ${signalingUrl}`);
  const portText = values.get('--http-port');
  const httpPort = portText === undefined ? null : Number(portText);
  if (portText !== undefined && (!/^\d{1,5}$/.test(portText) || (httpPort ?? 0) > 65_535)) throw new Error(`--http-port must be a port number from 0 to 65535 in decimal digits, got ${JSON.stringify(portText)}`);
  // Without --http-port no HTTP server starts, so a host alone would be ignored without a word.
  if (portText === undefined && values.has('--http-host')) throw new Error('--http-host needs --http-port (without a port no HTTP server starts)');
  const secret = values.get('--secret') ?? environment.RAFTMESH_SECRET;
  // Set but empty (an unset shell variable expanded, say): joining the room without a secret is not what was meant.
  if (secret !== undefined && secret.length === 0) throw new Error('RAFTMESH_SECRET is set but empty: set the room secret, or unset the variable for a room without one');
  return {
    room: required('--room'),
    signalingUrl,
    dataDirectory: required('--data'),
    mode: witness ? 'witness' : 'voter',
    secret,
    httpPort,
    httpHost: values.get('--http-host') ?? '127.0.0.1',
    app: values.get('--app'),
    bindAddress: values.get('--bind'),
    timing: parseTiming(values.get('--election-timeout-ms'), values.get('--heartbeat-interval-ms')),
  };
}

