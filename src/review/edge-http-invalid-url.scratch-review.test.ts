// Review finding: the edge peer's HTTP handler parses the request target with `new URL(request.url,
// 'http://peer')`, which throws for targets Node's HTTP parser lets through (`//[`, `http://a:99999/`).
// The throw escapes the request listener: an uncaught exception that kills raftmesh-peer without a
// clean leave. One request from anyone who can reach the metrics port stops the peer.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSignalingServer, type SignalingServer } from '../signaling/server/index.ts';
import { killCliProcesses, runCli } from '../testing/cli-process.test-support.ts';

let signaling: SignalingServer;
const directories: string[] = [];
beforeAll(async () => {
  signaling = await startSignalingServer({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await signaling.close();
});
afterEach(() => {
  killCliProcesses();
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

/** One raw HTTP exchange on a fresh socket: the status line (or '' if closed without one). */
function rawRequest(base: string, bytes: string): Promise<string> {
  const url = new URL(base);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let answer = '';
    socket.on('data', (chunk) => (answer += String(chunk)));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(answer.split('\r\n')[0] ?? ''));
    socket.write(bytes);
  });
}

describe('review: raftmesh-peer’s HTTP port and request targets URL cannot parse', () => {
  it('answers `GET //[` with a 4xx and keeps running', async () => {
    const data = mkdtempSync(join(tmpdir(), 'raftmesh-review-http-'));
    directories.push(data);
    const run = runCli('src/edge/cli.ts', ['--room', `review-http-${process.pid}`, '--signal', signaling.url, '--data', data, '--http-port', '0'], { RAFTMESH_SECRET: undefined });
    const base = (await run.waitFor(/health and metrics on (http:\/\/\S+)\/healthz/))?.[1];
    expect(base, run.stderr()).toBeDefined();
    expect(await run.waitFor(/joined room/), run.stderr()).not.toBeNull();
    const status = await rawRequest(base!, 'GET //[ HTTP/1.1\r\nHost: x\r\n\r\n');
    const health = await fetch(`${base!}/healthz`).then((answer) => answer.status, (error: unknown) => `unreachable (${String(error)})`);
    const invalidUrlLine = run.stderr().split('\n').find((line) => line.includes('Invalid URL')) ?? '';
    expect({ status, health, invalidUrlLine }).toEqual({ status: expect.stringMatching(/^HTTP\/1\.1 4\d\d/) as unknown, health: 200, invalidUrlLine: '' });
  });
});
