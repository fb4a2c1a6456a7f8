// Arguments of `raftmesh-peer`, parsed strictly: an unknown flag or a missing value is an error
// that names it, never silently ignored.
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
                     [--secret SECRET | env RAFTMESH_SECRET] [--http-port 9464] [--http-host 127.0.0.1] [--bind 127.0.0.1]
                     [--app MODULE]   (a module exporting storeOptions: the application's reducer)
                     [--election-timeout-ms MIN-MAX --heartbeat-interval-ms N]   (the browsers' raftConfig, if not the defaults)`;

const valued = new Set(['--room', '--signal', '--data', '--secret', '--http-port', '--http-host', '--app', '--bind', '--election-timeout-ms', '--heartbeat-interval-ms']);

/**
 * Both timing flags or neither: an election range without its heartbeat (or the reverse) would mix
 * the room's timing with the defaults. The ranges themselves are RaftConfig's to check.
 */
function parseTiming(election: string | undefined, heartbeat: string | undefined): PeerTiming | undefined {
  if (election === undefined && heartbeat === undefined) return undefined;
  if (election === undefined || heartbeat === undefined) throw new Error(`--election-timeout-ms and --heartbeat-interval-ms go together\n${usage}`);
  const range = /^(\d+)-(\d+)$/.exec(election);
  if (range === null) throw new Error(`--election-timeout-ms must be MIN-MAX in ms (1000-2000), got ${election}`);
  if (!/^\d+$/.test(heartbeat)) throw new Error(`--heartbeat-interval-ms must be a whole number of ms, got ${heartbeat}`);
  return { electionTimeoutMin: Number(range[1]), electionTimeoutMax: Number(range[2]), heartbeatInterval: Number(heartbeat) };
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
    values.set(flag, value);
    position += 1;
  }
  const required = (flag: string): string => values.get(flag) ?? (() => { throw new Error(`${flag} is required\n${usage}`); })();
  const signalingUrl = required('--signal');
  if (!/^wss?:\/\//.test(signalingUrl)) throw new Error(`--signal must be a ws:// or wss:// URL, got ${signalingUrl}`);
  const portText = values.get('--http-port');
  const httpPort = portText === undefined ? null : Number(portText);
  if (httpPort !== null && (!Number.isInteger(httpPort) || httpPort < 0 || httpPort > 65_535)) throw new Error(`--http-port must be a port number, got ${portText}`);
  return {
    room: required('--room'),
    signalingUrl,
    dataDirectory: required('--data'),
    mode: witness ? 'witness' : 'voter',
    secret: values.get('--secret') ?? environment.RAFTMESH_SECRET,
    httpPort,
    httpHost: values.get('--http-host') ?? '127.0.0.1',
    app: values.get('--app'),
    bindAddress: values.get('--bind'),
    timing: parseTiming(values.get('--election-timeout-ms'), values.get('--heartbeat-interval-ms')),
  };
}
