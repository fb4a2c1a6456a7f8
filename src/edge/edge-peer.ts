// An always-on member in Node: the same room, admission and WebRTC transport as the browser
// peers (node-datachannel's RTCPeerConnection), durable FileRaftStorage (a directory per node id:
// edge-room-storage.ts), role changes logged, /healthz and /metrics over HTTP. `raftmesh-peer`
// (cli.ts) is this with arguments.
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import WebSocket from 'ws';
import { joinRoom, loadOrMintNodeId, type RaftConfig, type Room, type ReplicatedStoreOptions, type WebSocketConstructor, type WebRtcImplementation, type WebRtcTransport } from './edge-imports.ts';
import { createWebRtcTransport, createWebSocketSignalingClient } from './edge-imports.ts';
import { withBindAddress } from './bind-address.ts';
import { adoptSharedDirectory, edgeJoinOptions, fileStorageShelf } from './edge-room-storage.ts';
import { fileKeyValueStore } from './file-key-value-store.ts';
import { opaqueStoreOptions, witnessStoreOptions } from './opaque-store.ts';
import { renderMetrics } from './prometheus.ts';

export type EdgePeerMode = 'voter' | 'witness';

export interface EdgePeerOptions<State, Command> {
  readonly room: string;
  readonly signalingUrl: string;
  /** Holds this peer's identity and, per node id it ran under, a Raft journal and snapshot. */
  readonly dataDirectory: string;
  readonly secret?: string;
  /** 'witness': votes and acknowledges, never leads, keeps almost nothing (README "Edge peers"). */
  readonly mode?: EdgePeerMode;
  /** The application's store options, to apply and compact; without them the peer keeps the raw log. */
  readonly app?: ReplicatedStoreOptions<State, Command>;
  /** RTCPeerConnection and friends (node-datachannel/polyfill). */
  readonly webrtc: WebRtcImplementation;
  readonly iceServers?: readonly RTCIceServer[];
  /** Bind WebRTC to this address (node-datachannel finds no loopback candidate otherwise). */
  readonly bindAddress?: string;
  /**
   * The room's election timeout range and heartbeat interval, when the browsers do not run the
   * engine's defaults: every member of a room should run the same, or the one with the shortest
   * timeouts wins nearly every election (README "Edge peers").
   */
  readonly timing?: Pick<RaftConfig, 'electionTimeoutMin' | 'electionTimeoutMax' | 'heartbeatInterval'>;
  /** /healthz and /metrics on this port (0: any free port; null: none). Default null. */
  readonly httpPort?: number | null;
  readonly httpHost?: string;
  readonly log?: (line: string) => void;
}

export interface EdgePeer<State, Command> {
  readonly room: Room<State, Command>;
  /** The HTTP port actually bound, or null. */
  readonly httpPort: number | null;
  close(): Promise<void>;
}

export async function startEdgePeer<State = unknown, Command = unknown>(options: EdgePeerOptions<State, Command>): Promise<EdgePeer<State, Command>> {
  const log = options.log ?? (() => undefined);
  const mode = options.mode ?? 'voter';
  const identityStore = fileKeyValueStore(join(options.dataDirectory, 'identity.json'));
  // The id it starts under, for the log and /healthz while joining; joinRoom may give it up for a
  // fresh one (removed while down, or wedged), so it is not passed as fixed.
  const id = await loadOrMintNodeId(identityStore, options.room);
  await adoptSharedDirectory(options.dataDirectory, id);
  const storage = edgeJoinOptions(identityStore, fileStorageShelf(options.dataDirectory));
  const metricCounts = new Map<string, number>();
  let transport: WebRtcTransport | null = null;
  let room: Room<State, Command> | null = null;
  // Health and metrics answer from the start: 'joining' (503) until the room is joined, so a
  // supervisor sees a peer that waits for its room (a witness never starts a cluster alone).
  const server = options.httpPort === undefined || options.httpPort === null ? null : await serveHttp(options.httpPort, options.httpHost ?? '127.0.0.1', id, () => room, metricCounts, () => transport).catch(async (error: unknown) => {
    await storage.close();
    throw error;
  });
  const httpPort = server === null ? null : (server.address() as { port: number }).port;
  if (httpPort !== null) log(`health and metrics on http://${options.httpHost ?? '127.0.0.1'}:${httpPort}/healthz and /metrics`);
  const store = (options.app ?? (mode === 'witness' ? witnessStoreOptions() : opaqueStoreOptions())) as ReplicatedStoreOptions<State, Command>;
  log(`joining room ${options.room} as ${id} (${mode}), data in ${options.dataDirectory}`);
  try {
    room = await joinRoom<State, Command>({
      room: options.room,
      ...(options.secret === undefined ? {} : { secret: options.secret }),
      identityStore,
      signaling: ({ roomId, nodeId, secret }) =>
        createWebSocketSignalingClient({ url: options.signalingUrl, roomId, nodeId, WebSocket: WebSocket as unknown as WebSocketConstructor, ...(secret === undefined ? {} : { secret }) }),
      createTransport: (signaling) => {
        const webrtc = options.bindAddress === undefined ? options.webrtc : withBindAddress(options.webrtc, options.bindAddress);
        transport = createWebRtcTransport({ signaling, webrtc, iceServers: options.iceServers ?? [], ...(options.secret === undefined ? {} : { secret: options.secret }) });
        return transport;
      },
      storage: storage.storage,
      discardStorage: storage.discardStorage,
      store,
      raftConfig: { ...options.timing, witness: mode === 'witness' },
      onMetric: (metric) => metricCounts.set(metric.type, (metricCounts.get(metric.type) ?? 0) + 1),
      onEvent: (event) => log(`room: ${event.type}${'reason' in event ? ` (${event.reason})` : ''}`),
    });
  } catch (error) {
    server?.close();
    await storage.close();
    throw error;
  }
  const joined = room;
  const node = joined.node;
  // The id may not be the one it set out with: joinRoom gives an id up that the room removed while
  // this peer was down (or one that wedged) and joins under a fresh one.
  log(`joined room ${options.room} as ${joined.id}${joined.id === id ? '' : ` (gave ${id} up: removed while away, or wedged)`}`);
  const unsubscribes = [
    node.role.subscribe((role) => log(`role: ${role} (term ${node.term.value})`)),
    node.leader.subscribe((leader) => log(`leader: ${leader ?? 'none'} (term ${node.term.value})`)),
    node.membership.subscribe((config) => log(`membership: voters ${config.voters.join(', ')}${config.learners?.length ? `; learners ${config.learners.join(', ')}` : ''}`)),
    node.stopped.subscribe((error) => error && log(`stopped: ${error.message}`)),
  ];
  let closing: Promise<void> | null = null;
  return {
    room: joined,
    httpPort,
    close() {
      closing ??= (async () => {
        for (const unsubscribe of unsubscribes) unsubscribe();
        await new Promise<void>((resolve) => (server === null ? resolve() : server.close(() => resolve())));
        await joined.leave();
        await storage.close();
        log('closed');
      })();
      return closing;
    },
  };
}

async function serveHttp<State, Command>(port: number, host: string, id: string, room: () => Room<State, Command> | null, metricCounts: ReadonlyMap<string, number>, transport: () => WebRtcTransport | null): Promise<Server> {
  const server = createServer((request, response) => {
    const joined = room();
    if (request.url === '/healthz') {
      if (joined === null) {
        response.writeHead(503, { 'content-type': 'application/json' }).end(`${JSON.stringify({ status: 'joining', id })}\n`);
        return;
      }
      const node = joined.node;
      const healthy = node.stopped.value === null;
      const body = { status: healthy ? 'ok' : 'stopped', id: node.id, role: node.role.value, term: node.term.value, leader: node.leader.value, commitIndex: node.commitIndex.value, appliedIndex: joined.store.appliedIndex.value, peers: [...(transport()?.peers.value ?? [])], error: node.stopped.value?.message ?? null };
      response.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
      return;
    }
    if (request.url === '/metrics' && joined !== null) {
      const text = renderMetrics({ node: () => joined.node, appliedIndex: () => joined.store.appliedIndex.value, connectedPeers: () => transport()?.peers.value.size ?? 0, metricCounts, transportCounters: () => ({ ...(transport()?.counters ?? {}) }) });
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(text);
      return;
    }
    if (request.url === '/metrics') {
      response.writeHead(503, { 'content-type': 'text/plain' }).end('joining the room\n');
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz or /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
