// The optional always-on Node member: `raftmesh-peer` (src/edge/run-peer.ts, run from the sources
// through tsx by edge-peer-process.ts) in the campaign's room with the campaign's reducer, bound to
// 127.0.0.1 (node-datachannel gathers no loopback candidate by itself). Its data directory (the
// Raft journal, snapshot and identity file) outlives every process, so after a SIGKILL it starts
// again on the same storage: as the same member with its log, or, if the room removed it while it
// was down, under the fresh id joinRoom gives it. Faults: SIGKILL and a restart, SIGSTOP/SIGCONT
// (a frozen process), and a cut network (cuttable-webrtc.ts, driven over stdin).
//
// As a witness it runs `--witness` without the campaign's reducer, as one is deployed: it keeps no
// application state (an empty snapshot every 1,000 entries), so only its votes, acknowledgements
// and role can be judged. Every "role: leader" line it logs is reported (a witness must never lead).
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chaosRaftTiming } from './room-timing.ts';

export interface EdgePeerHealth {
  readonly status: string;
  readonly id: string;
  readonly role?: string;
  readonly leader?: string | null;
  readonly commitIndex?: number;
  readonly appliedIndex?: number;
}

export type EdgePeerState = 'live' | 'down';

export interface ChaosEdgePeerOptions {
  readonly room: string;
  readonly signalingUrl: string;
  readonly secret: string;
  /** Keep the engine's default timings instead of the pages' (room-timing.ts). */
  readonly defaultTimeouts: boolean;
  /** A process the harness did not kill exited by itself (code or signal). */
  readonly onUnexpectedExit: (what: string) => void;
  /** The process joined under another id than the last one seen (the room replaced the old one). */
  readonly onNewId: (previous: string, id: string) => void;
  /** Run as the room's witness (`--witness`, no `--app`). */
  readonly witness: boolean;
  /** It logged that it became leader (under its latest id). */
  readonly onLeading: (id: string, line: string) => void;
}

export interface ChaosEdgePeer {
  readonly state: EdgePeerState;
  readonly frozen: boolean;
  readonly connected: boolean;
  /** Every node id it ran under, in order (a fresh one after a removal while it was down). */
  readonly ids: readonly string[];
  /** Every process's output (stdout and stderr), kept after the campaign for a failure's report. */
  readonly logFile: string;
  /** Starts the process on the data directory; answers the id it starts under. */
  start(): Promise<string>;
  /** /healthz (its id, role, leader and indexes once joined); notes an id it had not run under. */
  health(): Promise<EdgePeerHealth>;
  kill(): Promise<void>;
  freeze(): void;
  thaw(): void;
  setConnected(connected: boolean): void;
  /** Ends the process (SIGTERM: it leaves the room) and deletes the data directory. */
  dispose(): Promise<void>;
}

const startTimeoutMs = 60_000;
const maxOutputLines = 2_000;
const healthLine = /health and metrics on (http:\/\/\S+)\/healthz/;
const joinedLine = /joined room \S+ as (\S+)/;
/** edge-peer.ts logs every role change as "role: <role> (term N)". */
const leadingLine = /\brole: leader\b/;

export function createChaosEdgePeer(options: ChaosEdgePeerOptions): ChaosEdgePeer {
  const data = mkdtempSync(join(tmpdir(), 'raftmesh-room-chaos-edge-'));
  const logFile = join(mkdtempSync(join(tmpdir(), 'raftmesh-room-chaos-edge-log-')), 'edge-peer.log');
  const output: string[] = [];
  const ids: string[] = [];
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let healthUrl: string | null = null;
  let frozen = false;
  let connected = true;
  const modeArguments = options.witness ? ['--witness'] : ['--app', 'e2e/room-chaos/applied-ids-store.ts'];
  const timing = options.defaultTimeouts
    ? []
    : ['--election-timeout-ms', `${chaosRaftTiming.electionTimeoutMin}-${chaosRaftTiming.electionTimeoutMax}`, '--heartbeat-interval-ms', String(chaosRaftTiming.heartbeatInterval)];
  const keep = (chunk: Buffer): void => {
    appendFileSync(logFile, chunk);
    const lines = chunk.toString().split('\n').filter(Boolean);
    output.push(...lines);
    for (const line of lines) {
      const joined = joinedLine.exec(line)?.[1];
      if (joined !== undefined) remember(joined);
      if (leadingLine.test(line)) options.onLeading(ids[ids.length - 1] ?? 'unknown', line);
    }
    if (output.length > maxOutputLines) output.splice(0, output.length - maxOutputLines);
  };
  const remember = (id: string): void => {
    const previous = ids[ids.length - 1];
    if (id === previous) return;
    ids.push(id);
    if (previous !== undefined) options.onNewId(previous, id);
  };
  const running = (): ChildProcess => {
    if (child === null) throw new Error('the edge peer is down');
    return child;
  };

  const health = async (): Promise<EdgePeerHealth> => {
    if (healthUrl === null) throw new Error('the edge peer is down');
    const answer = (await (await fetch(healthUrl)).json()) as EdgePeerHealth;
    remember(answer.id);
    return answer;
  };

  const start = async (): Promise<string> => {
    if (child !== null) throw new Error('the edge peer is already running');
    appendFileSync(logFile, `--- ${new Date().toISOString()} process starts\n`);
    const outputBefore = output.length;
    const started = spawn(
      process.execPath,
      ['--import', 'tsx', 'e2e/room-chaos/edge-peer-process.ts', '--room', options.room, '--signal', options.signalingUrl, '--data', data, '--bind', '127.0.0.1', '--http-port', '0', ...modeArguments, ...timing],
      { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, RAFTMESH_SECRET: options.secret } },
    );
    child = started;
    frozen = false;
    connected = true;
    started.stdout?.on('data', keep);
    started.stderr?.on('data', keep);
    exited = new Promise<void>((resolve) => started.once('exit', (code, signal) => {
      if (child === started) {
        child = null;
        healthUrl = null;
        options.onUnexpectedExit(`exited by itself (${signal ?? `code ${String(code)}`}): ${output.slice(-3).join(' | ')}`);
      }
      resolve();
    }));
    const since = Date.now();
    for (;;) {
      const base = healthLine.exec(output.slice(outputBefore).join('\n'))?.[1];
      if (base !== undefined) {
        healthUrl = `${base}/healthz`;
        break;
      }
      if (child !== started || Date.now() - since > startTimeoutMs) {
        if (child === started) await kill();
        throw new Error(`the edge peer did not start:\n${output.slice(-20).join('\n')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return (await health()).id;
  };

  const kill = async (): Promise<void> => {
    const killed = running();
    child = null;
    healthUrl = null;
    frozen = false;
    killed.kill('SIGKILL');
    await exited;
  };

  return {
    get state() {
      return child === null ? 'down' : 'live';
    },
    get frozen() {
      return frozen;
    },
    get connected() {
      return connected;
    },
    ids,
    logFile,
    start,
    health,
    kill,
    freeze() {
      running().kill('SIGSTOP');
      frozen = true;
    },
    thaw() {
      if (!frozen) return;
      running().kill('SIGCONT');
      frozen = false;
    },
    setConnected(value) {
      running().stdin?.write(value ? 'connect\n' : 'cut\n');
      connected = value;
    },
    async dispose() {
      const stopping = child;
      child = null;
      healthUrl = null;
      if (stopping !== null) {
        stopping.kill('SIGCONT');
        stopping.kill('SIGTERM');
        const killer = setTimeout(() => stopping.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killer);
      }
      rmSync(data, { recursive: true, force: true });
    },
  };
}
