// startEdgePeer (the `raftmesh/node` entry) refusing a data directory it cannot run on, before it
// joins anything: a path that is a file, an identity file that is garbage, of the wrong shape or
// unreadable, and Raft data whose identity file is gone. Each would otherwise mint a fresh node id
// — a second member beside the one the data belongs to. In-process and fast; the process test
// (peer-cli-process.test.ts) shows one of them as raftmesh-peer's exit 2.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mintNodeIdentity } from '../index.ts';
import { startEdgePeer, type EdgePeerOptions } from '../node.ts';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});
const freshDirectory = (): string => {
  const directory = mkdtempSync(join(tmpdir(), 'raftmesh-edge-start-'));
  directories.push(directory);
  return directory;
};

/** Options that never reach the network: every case here is refused before joining. */
const optionsFor = (dataDirectory: string): EdgePeerOptions<unknown, unknown> => ({
  room: 'r',
  signalingUrl: 'ws://127.0.0.1:9',
  dataDirectory,
  webrtc: { RTCPeerConnection: class {} } as EdgePeerOptions<unknown, unknown>['webrtc'],
});

async function refusal(dataDirectory: string, extra: Partial<EdgePeerOptions<unknown, unknown>> = {}): Promise<string> {
  try {
    const peer = await startEdgePeer({ ...optionsFor(dataDirectory), ...extra });
    await peer.close();
    return 'started';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

describe('startEdgePeer on a data directory it cannot use', () => {
  it('refuses an identity file that is not a JSON object of non-empty strings, and leaves it as it was', async () => {
    for (const text of ['{ not json', '', '[]', 'null', '"peer-1"', '7', '{"raftmesh:room:r:node-id": 5}', '{"raftmesh:room:r:node-id": ""}', '{"raftmesh:room:r:node-id": null}']) {
      const data = freshDirectory();
      writeFileSync(join(data, 'identity.json'), text);
      expect(await refusal(data), JSON.stringify(text)).toMatch(/^cannot read the peer identity file .*identity\.json: .*restore it/);
      expect(readFileSync(join(data, 'identity.json'), 'utf8')).toBe(text);
      expect(existsSync(join(data, 'raft-'))).toBe(false);
    }
  });

  it('refuses an identity file whose id no node may have (over 256 characters), naming the file, and leaves it as it was', async () => {
    const data = freshDirectory();
    const text = JSON.stringify({ 'raftmesh:room:r:node-id': 'x'.repeat(300) });
    writeFileSync(join(data, 'identity.json'), text);
    expect(await refusal(data)).toMatch(/^the peer identity file .*identity\.json holds a node id for room r that no node may have \(NodeId must be at most 256 characters, got 300\); restore it/);
    expect(readFileSync(join(data, 'identity.json'), 'utf8')).toBe(text);
  });

  it('refuses an identity file it cannot read (a directory in its place)', async () => {
    const data = freshDirectory();
    mkdirSync(join(data, 'identity.json'));
    expect(await refusal(data)).toMatch(/^cannot read the peer identity file .*EISDIR/);
  });

  it('refuses Raft data without its identity file (raft-<id>, or an old raft/), instead of joining as a stranger', async () => {
    for (const leftover of ['raft-peer-00000000000000aa', 'raft']) {
      const data = freshDirectory();
      mkdirSync(join(data, leftover));
      expect(await refusal(data)).toMatch(new RegExp(`identity\\.json is missing, but .* holds Raft data \\(${leftover}\\)`));
      expect(existsSync(join(data, 'identity.json'))).toBe(false);
      expect(existsSync(join(data, leftover))).toBe(true);
    }
  });

  it('refuses an identity file whose claimed id lost its claim (a partial restore), keeping the data a full restore would revive', async () => {
    const data = freshDirectory();
    const id = mintNodeIdentity().id;
    writeFileSync(join(data, 'identity.json'), JSON.stringify({ 'raftmesh:room:r:node-id': id }));
    mkdirSync(join(data, `raft-${id}`));
    expect(await refusal(data)).toMatch(new RegExp(`identity\\.json holds node id ${id} for room r without the claim that proves it to a signaling server: restore the file from a backup`));
    expect(existsSync(join(data, `raft-${id}`))).toBe(true);
    expect(JSON.parse(readFileSync(join(data, 'identity.json'), 'utf8'))).toEqual({ 'raftmesh:room:r:node-id': id });
  });

  it('refuses a data directory path that is a file, or below one', async () => {
    const file = join(freshDirectory(), 'a-file');
    writeFileSync(file, 'x');
    expect(await refusal(file)).toMatch(/^cannot use .*a-file as the data directory/);
    expect(await refusal(join(file, 'below'))).toMatch(/^cannot use .*below as the data directory/);
  });

  it('refuses a data directory under /proc at once (Node 20\'s recursive mkdir never returns there)', async () => {
    expect(await refusal('/proc/raftmesh-no-such-place/data')).toMatch(/^cannot use \/proc\/raftmesh-no-such-place\/data as the data directory: ENOENT/);
  });

  it('refuses a bad timing at once, before opening its storage — even a witness, which waits for its room as long as it takes', async () => {
    const data = freshDirectory();
    const message = await refusal(data, { mode: 'witness', timing: { electionTimeoutMin: 2_000, electionTimeoutMax: 1_000, heartbeatInterval: 100 } });
    expect(message).toMatch(/electionTimeoutMax/);
    expect(readdirSync(data).filter((name) => name.startsWith('raft'))).toEqual([]);
  });

  it('refuses settings no room could run on before it touches the data directory: room, secret, signaling URL, bind address, HTTP port and host, WebRTC', async () => {
    const cases: Array<[Partial<EdgePeerOptions<unknown, unknown>>, RegExp]> = [
      [{ room: '' }, /room id must be 1 \.\. 128 characters/],
      [{ room: 'r'.repeat(200) }, /room id must be 1 \.\. 128 characters/],
      [{ room: 'tab\there' }, /without control characters/],
      [{ secret: '' }, /room secret must be a non-empty string/],
      [{ signalingUrl: 'http://x' }, /signalingUrl must be a ws:\/\/ or wss:\/\/ URL/],
      [{ bindAddress: 'not-an-ip' }, /bindAddress must be an IPv4 or IPv6 address/],
      [{ bindAddress: '999.1.1.1' }, /bindAddress must be an IPv4 or IPv6 address/],
      [{ httpPort: 70_000 }, /httpPort must be an integer in 0 \.\. 65535/],
      [{ webrtc: undefined as never }, /webrtc must be a WebRTC implementation, e\.g\. `webrtc: await import\("node-datachannel\/polyfill"\)`/],
      [{ httpHost: '0.0.0.0', httpPort: null }, /httpHost needs httpPort/],
    ];
    for (const [extra, expected] of cases) {
      const data = join(freshDirectory(), 'peer');
      expect(await refusal(data, extra)).toMatch(expected);
      expect(existsSync(data)).toBe(false); // not even created
    }
  });
});

describe('startEdgePeer and its HTTP host', () => {
  it('refuses an empty or blank httpHost, which listen() reads as every interface, before it touches the data directory', async () => {
    // The port is taken on loopback first: listening on every interface then fails (EADDRINUSE)
    // instead of binding, so this test serves nothing beyond loopback, whatever the code.
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()));
    const port = (taken.address() as { port: number }).port;
    try {
      for (const httpHost of ['', ' ', '\t']) {
        const data = join(freshDirectory(), 'peer');
        const lines: string[] = [];
        const stop = new AbortController();
        const log = (line: string): void => {
          lines.push(line);
          if (line.startsWith('health and metrics on')) stop.abort(new Error('stopped by the test once HTTP was up'));
        };
        expect(await refusal(data, { httpPort: port, httpHost, log, signal: stop.signal }), JSON.stringify(httpHost)).toMatch(/^startEdgePeer: httpHost must name an address or host, got ".*" \(an empty one would serve every interface/);
        expect(lines).toEqual([]);
        expect(existsSync(data)).toBe(false); // not even created
      }
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });
});

describe('startEdgePeer and a data directory another peer holds', () => {
  it('refuses a second peer on the same data directory, even for another room, and releases the directory when the first stops', async () => {
    const data = freshDirectory();
    const stopFirst = new AbortController();
    // Its signaling server is unreachable, so it waits for its room until told to stop.
    const first = startEdgePeer({ ...optionsFor(data), room: 'room-a', signal: stopFirst.signal }).then(
      () => 'started',
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    // It takes the lock, then writes its identity: both, before the second peer tries (reading
    // identity.json after the lock alone raced the first peer's write on a busy machine).
    const holding = (): boolean => existsSync(join(data, 'lock')) && existsSync(join(data, 'identity.json'));
    for (const deadline = Date.now() + 10_000; !holding() && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(holding()).toBe(true);
    expect(await refusal(data, { room: 'room-b' })).toMatch(/^cannot use (.*) as the data directory: \1 (is already open in this process|is in use by process)/);
    const identity = readFileSync(join(data, 'identity.json'), 'utf8');
    expect(Object.keys(JSON.parse(identity) as object).some((key) => key.includes('room-b'))).toBe(false);
    stopFirst.abort(new Error('stopped by the test'));
    expect(await first).not.toBe('started');
    expect(existsSync(join(data, 'lock'))).toBe(false);
    expect(readdirSync(data).filter((name) => name.startsWith('raft-'))).toEqual(readdirSync(data).filter((name) => name.startsWith('raft-') && !existsSync(join(data, name, 'lock'))));
  });
});
