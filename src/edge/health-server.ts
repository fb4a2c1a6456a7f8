// The edge peer's HTTP port: /healthz (JSON, 503 while joining or stopped) and /metrics
// (Prometheus text). Anyone who can reach the port can send it anything, so a request never
// throws out of the listener: an uncaught exception there kills raftmesh-peer without a clean
// leave (one `GET //[` did, an outside review found: the target did not parse as a URL).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Room, WebRtcTransport } from './edge-imports.ts';
import { renderMetrics } from './prometheus.ts';

/** What /healthz says of signaling: the client's status, and why it stopped for good if it did. */
export interface SignalingHealth {
  status: 'connecting' | 'joined' | 'closed';
  stoppedFor: string | null;
}

/** What the HTTP port reads each time it answers: the peer as it is now. */
export interface HealthSources<State, Command> {
  /** The id the peer started under (said while joining). */
  readonly id: string;
  readonly room: () => Room<State, Command> | null;
  readonly metricCounts: ReadonlyMap<string, number>;
  readonly transport: () => WebRtcTransport | null;
  readonly signaling: SignalingHealth;
  /** Told of a request the handler failed on (a bug): the peer logs it and answers 500. */
  readonly log: (line: string) => void;
}

/** Listens on `host:port` (0: any free port); resolves once listening, rejects if it cannot. */
export async function serveHealth<State, Command>(port: number, host: string, sources: HealthSources<State, Command>): Promise<Server> {
  const server = createServer((request, response) => {
    try {
      answer(request, response, sources);
    } catch (error) {
      answerUnexpected(request, response, error, sources.log);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

/**
 * The path of a request target, or null where it does not parse. Node's parser lets through
 * targets the URL parser refuses (`//[`, `http://a:99999/`); the path alone counts (a scraper may
 * add a query).
 */
export function requestPath(target: string | undefined): string | null {
  try {
    return new URL(target ?? '/', 'http://peer').pathname;
  } catch {
    return null;
  }
}

function answer<State, Command>(request: IncomingMessage, response: ServerResponse, sources: HealthSources<State, Command>): void {
  const path = requestPath(request.url);
  if (path === null) {
    response.writeHead(400, { 'content-type': 'text/plain' }).end('bad request target: try /healthz or /metrics\n');
    return;
  }
  // Only GET and HEAD read a resource.
  if ((path === '/healthz' || path === '/metrics') && request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end(`${request.method ?? ''} not allowed: GET ${path}\n`);
    return;
  }
  if (path === '/healthz') {
    answerHealth(response, sources);
    return;
  }
  const joined = sources.room();
  if (path === '/metrics' && joined !== null) {
    const transport = sources.transport;
    const text = renderMetrics({ node: () => joined.node, appliedIndex: () => joined.store.appliedIndex.value, connectedPeers: () => transport()?.peers.value.size ?? 0, metricCounts: sources.metricCounts, transportCounters: () => ({ ...(transport()?.counters ?? {}) }) });
    response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text);
    return;
  }
  if (path === '/metrics') {
    response.writeHead(503, { 'content-type': 'text/plain' }).end('joining the room\n');
    return;
  }
  response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz or /metrics\n');
}

function answerHealth<State, Command>(response: ServerResponse, sources: HealthSources<State, Command>): void {
  const { signaling } = sources;
  const joined = sources.room();
  if (joined === null) {
    response.writeHead(503, { 'content-type': 'application/json' }).end(`${JSON.stringify({ status: 'joining', id: sources.id, signaling: signaling.status, error: signaling.stoppedFor })}\n`);
    return;
  }
  const node = joined.node;
  // A peer whose signaling was refused for good can reach no new peer: not healthy, whatever its role.
  const healthy = node.stopped.value === null && signaling.stoppedFor === null;
  // An outdated store (a newer release's command in the log) stops the application's state, not
  // the member: it votes and acknowledges, so the answer stays 200, and the body says to restart
  // the peer with the newer --app module (a restart with the same one stops at the same entry).
  const outdated = joined.store.outdated.value;
  const status = node.stopped.value !== null ? 'stopped' : signaling.stoppedFor !== null ? 'signalingStopped' : outdated !== null ? 'storeOutdated' : 'ok';
  const storeOutdated = outdated === null ? null : { storeVersion: outdated.storeVersion, seenVersion: outdated.seenVersion, index: outdated.index };
  const body = { status, storeOutdated, id: node.id, role: node.role.value, term: node.term.value, leader: node.leader.value, commitIndex: node.commitIndex.value, appliedIndex: joined.store.appliedIndex.value, peers: [...(sources.transport()?.peers.value ?? [])], signaling: signaling.status, error: node.stopped.value?.message ?? signaling.stoppedFor };
  response.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
}

/**
 * A request the handler failed on: a bug, said in the log and answered 500, the peer left running.
 * Where the answer had begun, the connection is cut instead (a second status line cannot follow).
 */
function answerUnexpected(request: IncomingMessage, response: ServerResponse, error: unknown, log: (line: string) => void): void {
  // The target is the client's text: quoted, and bounded, so a long or odd one cannot flood or forge log lines.
  const target = JSON.stringify((request.url ?? '').slice(0, 200));
  try {
    log(`HTTP: answering ${request.method ?? ''} ${target} failed: ${error instanceof Error ? error.message : String(error)}`);
  } catch {
    // A logger that throws must not make this throw.
  }
  try {
    if (response.headersSent) response.destroy();
    else response.writeHead(500, { 'content-type': 'text/plain' }).end('internal error: see the peer’s log\n');
  } catch {
    response.destroy();
  }
}

/**
 * Stops serving and ends every connection, a request half sent included: `server.close()` alone
 * waits for such a client (up to the 60 s header timeout), and a peer asked to stop would hang on it.
 */
export function closeHealth(server: Server | null): Promise<void> {
  if (server === null || !server.listening) return Promise.resolve();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return closed;
}
