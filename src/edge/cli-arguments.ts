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
}

export const usage = `usage: raftmesh-peer --room ROOM --signal ws://HOST:PORT --data DIR [--witness]
                     [--secret SECRET | env RAFTMESH_SECRET] [--http-port 9464] [--http-host 127.0.0.1] [--bind 127.0.0.1]
                     [--app MODULE]   (a module exporting storeOptions: the application's reducer)`;

const valued = new Set(['--room', '--signal', '--data', '--secret', '--http-port', '--http-host', '--app', '--bind']);

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
  };
}
