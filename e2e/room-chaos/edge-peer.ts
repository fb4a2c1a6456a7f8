// The optional always-on Node member: `raftmesh-peer` (src/edge/cli.ts, run from the sources
// through tsx as e2e/edge-peer.spec.ts does) in the campaign's room with the campaign's reducer,
// bound to 127.0.0.1 (node-datachannel gathers no loopback candidate by itself). It suffers no
// faults; it is a member the policy counts like any other.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EdgePeerHealth {
  readonly status: string;
  readonly id: string;
  readonly role: string;
  readonly leader: string | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
}

export interface ChaosEdgePeer {
  readonly id: string;
  readonly output: readonly string[];
  health(): Promise<EdgePeerHealth>;
  stop(): Promise<void>;
}

const startTimeoutMs = 60_000;
const maxOutputLines = 2_000;

export async function startEdgePeer(room: string, signalingUrl: string, secret: string): Promise<ChaosEdgePeer> {
  const data = mkdtempSync(join(tmpdir(), 'raftmesh-room-chaos-edge-'));
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/edge/cli.ts', '--room', room, '--signal', signalingUrl, '--data', data, '--bind', '127.0.0.1', '--http-port', '0', '--app', 'e2e/room-chaos/applied-ids-store.ts'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RAFTMESH_SECRET: secret } },
  );
  const output: string[] = [];
  const keep = (chunk: Buffer): void => {
    output.push(...chunk.toString().split('\n').filter(Boolean));
    if (output.length > maxOutputLines) output.splice(0, output.length - maxOutputLines);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const started = Date.now();
  let base: string | undefined;
  while (base === undefined) {
    base = /health and metrics on (http:\/\/\S+)\/healthz/.exec(output.join('\n'))?.[1];
    if (base !== undefined) break;
    if (child.exitCode !== null || Date.now() - started > startTimeoutMs) {
      child.kill('SIGKILL');
      rmSync(data, { recursive: true, force: true });
      throw new Error(`the edge peer did not start:\n${output.slice(-20).join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const healthUrl = `${base}/healthz`;
  const health = async (): Promise<EdgePeerHealth> => (await fetch(healthUrl)).json() as Promise<EdgePeerHealth>;
  return {
    id: (await health()).id,
    output,
    health,
    async stop() {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
      rmSync(data, { recursive: true, force: true });
    },
  };
}
