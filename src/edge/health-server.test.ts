// The edge peer's HTTP port answers whatever it is sent and never throws out of its listener: a
// throw there is an uncaught exception that kills raftmesh-peer without a clean leave. A target
// URL cannot parse is a 400; a failure of the handler itself (a bug) is a 500, said in the log.
// peer-cli-process.test.ts sends the same targets to the peer run as a process.
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { Room } from './edge-imports.ts';
import { closeHealth, requestPath, serveHealth, type HealthSources } from './health-server.ts';
import { rawRequest } from './raw-http.test-support.ts';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => closeHealth(server)));
});

async function serve(room: () => Room<unknown, unknown> | null, log: (line: string) => void = () => undefined): Promise<string> {
  const sources: HealthSources<unknown, unknown> = { id: 'peer-a', room, metricCounts: new Map(), transport: () => null, signaling: { status: 'connecting', stoppedFor: null }, log };
  const server = await serveHealth(0, '127.0.0.1', sources);
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

describe('the edge peer’s HTTP port', () => {
  it('answers a target URL cannot parse with 400, and keeps serving', async () => {
    const base = await serve(() => null);
    for (const target of ['//[', 'http://a:99999/', '//x:y@[/healthz']) {
      expect(requestPath(target), target).toBeNull();
      expect(await rawRequest(base, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`), target).toMatch(/^HTTP\/1\.1 400/);
    }
    expect(requestPath('/healthz?verbose=1')).toBe('/healthz');
    expect((await fetch(`${base}/healthz`)).status).toBe(503); // joining, and still serving
  });

  it('answers 500 when answering fails, says why in the log, and keeps serving', async () => {
    const lines: string[] = [];
    let broken = true;
    const base = await serve(() => {
      if (broken) throw new Error('a bug in reading the room');
      return null;
    }, (line) => lines.push(line));
    const answer = await fetch(`${base}/healthz`);
    expect(answer.status).toBe(500);
    expect(await answer.text()).toMatch(/internal error/);
    expect(lines).toEqual(['HTTP: answering GET "/healthz" failed: a bug in reading the room']);
    broken = false;
    expect((await fetch(`${base}/healthz`)).status).toBe(503);
  });

  it('answers 500 even when its logger throws too', async () => {
    const base = await serve(
      () => {
        throw new Error('a bug');
      },
      () => {
        throw new Error('a broken logger');
      },
    );
    expect((await fetch(`${base}/metrics`)).status).toBe(500);
  });
});
