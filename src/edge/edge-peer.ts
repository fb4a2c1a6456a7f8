// An always-on member in Node: the same room, admission and WebRTC transport as the browser
// peers (node-datachannel's RTCPeerConnection), durable FileRaftStorage (a directory per node id:
// edge-room-storage.ts), role changes logged, /healthz and /metrics over HTTP. `raftmesh-peer`
// (cli.ts) is this with arguments.
import { existsSync, readdirSync } from 'node:fs';
import { isIP } from 'node:net';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import WebSocket from 'ws';
import { joinRoom, loadNodeClaim, loadOrMintNodeIdentity, type DirectoryLock, type KeyValueStore, type NodeId, type RaftConfig, type Room, type RoomEvent, type ReplicatedStoreOptions, type WebSocketConstructor, type WebRtcImplementation, type WebRtcTransport } from './edge-imports.ts';
import { acquireDirectoryLock, createWebRtcTransport, createWebSocketSignalingClient, isClaimedNodeId, isWebSocketUrl, makeDirectory, requireOptionalSecret, requireRoomId } from './edge-imports.ts';
import { withBindAddress } from './bind-address.ts';
import { createSignalingRetryLog } from './signaling-retry-log.ts';
import { logRoomEvent } from './room-event-log.ts';
import { adoptSharedDirectory, edgeJoinOptions, fileStorageShelf } from './edge-room-storage.ts';
import { fileKeyValueStore } from './file-key-value-store.ts';
import { closeHealth, serveHealth, type SignalingHealth } from './health-server.ts';
import { opaqueStoreOptions, witnessRaftConfig, witnessStoreOptions } from './opaque-store.ts';

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
  /** The address /healthz and /metrics listen on. Default '127.0.0.1'; an empty one is refused (it would mean every interface). */
  readonly httpHost?: string;
  readonly log?: (line: string) => void;
  /**
   * Every event of the peer's room (joinRoom's `onEvent`), after the peer has logged it: the
   * membership decisions, `signalingRetry`, `peerAuthenticationFailed` and the rest. A listener
   * that throws is ignored.
   */
  readonly onEvent?: (event: RoomEvent) => void;
  /**
   * Bounds the start only: aborting it while the peer starts (joining included) closes what it
   * opened, and startEdgePeer rejects with the reason. Once started, the peer runs until close().
   */
  readonly signal?: AbortSignal;
}

export interface EdgePeer<State, Command> {
  readonly room: Room<State, Command>;
  /** The HTTP port actually bound, or null. */
  readonly httpPort: number | null;
  /**
   * Resolves with the reason when the peer's signaling client stops for good (the server refused
   * it: a wrong room secret, an unknown room), whenever that happens; never resolves otherwise.
   * No new peer can be reached after it, so raftmesh-peer exits 2 with the reason.
   */
  readonly signalingStopped: Promise<string>;
  /**
   * Resolves with what stopped the peer's node when it stops for good while the peer runs (its
   * storage failed: a full disk, an I/O error, the data directory's lock lost to another process;
   * or the application called `room.node.close()`), whenever that happens; never resolves
   * otherwise, nor for the stop close() makes. Nothing starts the node again: the peer answers
   * nobody and /healthz says 'stopped', so call close() (and start a peer anew if wanted);
   * raftmesh-peer closes and exits 3 with the reason, for its supervisor to restart it.
   */
  readonly nodeStopped: Promise<Error>;
  close(): Promise<void>;
}

export async function startEdgePeer<State = unknown, Command = unknown>(options: EdgePeerOptions<State, Command>): Promise<EdgePeer<State, Command>> {
  validateEdgePeerOptions(options);
  await prepareDataDirectory(options.dataDirectory);
  const lock = await lockDataDirectory(options.dataDirectory);
  // Lost only if another process took the directory over (this one frozen past its lease) or the
  // lock was removed: said at once; the node's own storage (raft-<id>, locked and leased the same
  // way) stops the node before it writes beside the new owner.
  lock.lost.subscribe((lost) => lost !== null && options.log?.(`data directory lock lost: ${lost.message}`));
  const releaseDataDirectory = (): Promise<void> => lock.release();
  try {
    return await startOnLockedDirectory(options, releaseDataDirectory);
  } catch (error) {
    await releaseDataDirectory();
    throw error;
  }
}

/**
 * One process per data directory, the directory as a whole: each id's `raft-<id>` is locked by its
 * storage, but two peers of two rooms on one directory both ran, each rewriting identity.json
 * from its own copy, so one room's id or bootstrap record was lost (an outside audit).
 */
async function lockDataDirectory(directory: string): Promise<DirectoryLock> {
  try {
    return await acquireDirectoryLock(directory, null); // the message below says what the directory is
  } catch (error) {
    throw new Error(`cannot use ${directory} as the data directory: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The id this peer holds for `room`, or a fresh one; an id the file holds that no node may have is refused, naming the file. */
async function loadIdentity(store: KeyValueStore, room: string, path: string): Promise<{ readonly id: NodeId; readonly minted: boolean }> {
  try {
    return await loadOrMintNodeIdentity(store, room);
  } catch (error) {
    // A RangeError is the saved id refused (too long, a lone surrogate); a write's failure is the file system's, said as it is.
    if (!(error instanceof RangeError)) throw error;
    throw new Error(`the peer identity file ${path} holds a node id for room ${room} that no node may have (${error.message}); restore it from a backup (or remove it together with the raft-* directories beside it to join as a new member)`);
  }
}

async function startOnLockedDirectory<State, Command>(options: EdgePeerOptions<State, Command>, releaseDataDirectory: () => Promise<void>): Promise<EdgePeer<State, Command>> {
  const log = options.log ?? (() => undefined);
  const mode = options.mode ?? 'voter';
  refuseLostIdentity(options.dataDirectory);
  const identityStore = fileKeyValueStore(join(options.dataDirectory, 'identity.json'));
  // The id it starts under, for the log and /healthz while joining; joinRoom may give it up for a
  // fresh one (removed while down, or wedged), so it is not passed as fixed.
  const identity = await loadIdentity(identityStore, options.room, join(options.dataDirectory, 'identity.json'));
  const id = identity.id;
  await refuseLostClaim(identityStore, options.room, id, options.dataDirectory);
  if ((await adoptSharedDirectory(options.dataDirectory, identity)) === 'left') {
    log(`left ${join(options.dataDirectory, 'raft')} in place: it holds the log of an id saved earlier (another room on this data directory), not of ${id}, minted now for room ${options.room}`);
  }
  const storage = edgeJoinOptions(identityStore, fileStorageShelf(options.dataDirectory));
  const metricCounts = new Map<string, number>();
  let transport: WebRtcTransport | null = null;
  let room: Room<State, Command> | null = null;
  // Said in /healthz: 'connecting' to a server that is down or mistyped reads differently from 'joined'.
  const signaling: SignalingHealth = { status: 'connecting', stoppedFor: null };
  let reportSignalingStop: (reason: string) => void = () => undefined;
  const signalingStopped = new Promise<string>((resolve) => (reportSignalingStop = resolve));
  let reportNodeStop: (error: Error) => void = () => undefined;
  const nodeStopped = new Promise<Error>((resolve) => (reportNodeStop = resolve));
  // Health and metrics answer from the start: 'joining' (503) until the room is joined, so a
  // supervisor sees a peer that waits for its room (a witness never starts a cluster alone).
  const server = options.httpPort === undefined || options.httpPort === null ? null : await serveHealth(options.httpPort, options.httpHost ?? '127.0.0.1', { id, room: () => room, metricCounts, transport: () => transport, signaling, log }).catch(async (error: unknown) => {
    await storage.close();
    throw error;
  });
  const httpPort = server === null ? null : (server.address() as { port: number }).port;
  if (httpPort !== null) log(`health and metrics on http://${options.httpHost ?? '127.0.0.1'}:${httpPort}/healthz and /metrics`);
  const store = (options.app ?? (mode === 'witness' ? witnessStoreOptions() : opaqueStoreOptions())) as ReplicatedStoreOptions<State, Command>;
  log(`joining room ${options.room} as ${id} (${mode}), data in ${options.dataDirectory}`);
  // joinRoom leaves the room whenever its signal aborts, joined or not; the caller's signal bounds
  // only the start (a signal like AbortSignal.timeout(ms) would otherwise stop a running peer ms
  // later, half-closed: its HTTP port still up), so joinRoom gets one that follows it until then.
  const joining = new AbortController();
  const followCaller = (): void => joining.abort(options.signal?.reason);
  if (options.signal?.aborted === true) followCaller();
  else options.signal?.addEventListener('abort', followCaller, { once: true });
  // The node a rejoin under a fresh id brings in is watched too (its role, leader and membership lines).
  let watchedNode: (() => void) | null = null;
  try {
    options.signal?.throwIfAborted();
    room = await joinRoom<State, Command>({
      room: options.room,
      ...(options.secret === undefined ? {} : { secret: options.secret }),
      identityStore,
      signaling: (context) => {
        const retries = createSignalingRetryLog({ url: options.signalingUrl, log, now: () => Date.now() });
        // Both: the log line (rate-limited by the retry log) and the room's `signalingRetry` event
        // for `onEvent`; a property after the spread replaces the context's, which left the event
        // unsaid (session 55's leftovers).
        const client = createWebSocketSignalingClient({
          url: options.signalingUrl,
          WebSocket: WebSocket as unknown as WebSocketConstructor,
          ...context,
          onRetry: (retry) => {
            retries.retry(retry);
            context.onRetry?.(retry);
          },
        });
        signaling.status = client.status.value;
        log(`signaling ${client.status.value} (${options.signalingUrl})`);
        client.status.subscribe((status) => {
          signaling.status = status;
          if (status === 'joined') retries.joined();
          if (status !== 'closed') log(`signaling ${status} (${options.signalingUrl})`);
        });
        return client;
      },
      createTransport: (signaling, context) => {
        const webrtc = options.bindAddress === undefined ? options.webrtc : withBindAddress(options.webrtc, options.bindAddress);
        // A warning names the fix (a missing --bind on a loopback-only host, say): logged, once.
        const onWarning = (warning: { readonly message: string }): void => log(`webrtc: ${warning.message}`);
        // The context carries the room's secret and where a failed room-secret handshake is
        // reported: without it a peer with the wrong secret on an open signaling server waited
        // for peers it could never reach, and nothing in its log said why.
        transport = createWebRtcTransport({ signaling, webrtc, iceServers: options.iceServers ?? [], onWarning, ...context });
        return transport;
      },
      storage: storage.storage,
      discardStorage: storage.discardStorage,
      store,
      raftConfig: { ...options.timing, ...(mode === 'witness' ? witnessRaftConfig : { witness: false }) },
      signal: joining.signal,
      onMetric: (metric) => metricCounts.set(metric.type, (metricCounts.get(metric.type) ?? 0) + 1),
      onEvent: (event) => {
        logRoomEvent(event, log);
        if (event.type === 'signalingStopped') {
          signaling.stoppedFor = event.reason;
          reportSignalingStop(event.reason);
        }
        // The room's event, not the node's `stopped`: the room says it only for a stop that is not
        // its own leave (ours in close(), or a rejoin's under a fresh id). The node still holds
        // the error itself (its class and reason: RaftStorageError 'inUse', say).
        if (event.type === 'nodeStopped') reportNodeStop(stopOf(room, event));
        if (event.type === 'rejoined' && watchedNode !== null && room !== null) {
          watchedNode();
          watchedNode = watchNode(room.node, log);
        }
        try {
          options.onEvent?.(event);
        } catch {
          // the application's listener: its failure must not stop the room's own handling
        }
      },
    });
  } catch (error) {
    await closeHealth(server);
    await storage.close();
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', followCaller);
  }
  const joined = room;
  // The id may not be the one it set out with: joinRoom gives an id up that the room removed while
  // this peer was down (or one that wedged) and joins under a fresh one.
  log(`joined room ${options.room} as ${joined.id}${joined.id === id ? '' : ` (gave ${id} up: removed while away, or wedged)`}`);
  watchedNode = watchNode(joined.node, log);
  let closing: Promise<void> | null = null;
  return {
    room: joined,
    httpPort,
    signalingStopped,
    nodeStopped,
    close() {
      closing ??= (async () => {
        watchedNode?.();
        watchedNode = null;
        await closeHealth(server);
        await joined.leave();
        await storage.close();
        await releaseDataDirectory();
        log('closed');
      })();
      return closing;
    },
  };
}

/**
 * Creates the data directory if needed (a first run), durably: identity.json is fsynced into it,
 * but a directory whose own entry a power loss takes loses it too. Refuses a path that is not a directory.
 */
async function prepareDataDirectory(directory: string): Promise<void> {
  try {
    await makeDirectory(directory, { sync: true });
    if (!(await stat(directory)).isDirectory()) throw new Error('not a directory');
  } catch (error) {
    throw new Error(`cannot use ${directory} as the data directory: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * A data directory that holds Raft data but no identity file lost it: minting a fresh id would make
 * this peer a second member beside the one its data belongs to (still in the room's configuration),
 * and hand an old `raft/` to the stranger. Refused; the user restores the file, or removes the data
 * to start anew.
 */
function refuseLostIdentity(directory: string): void {
  if (existsSync(join(directory, 'identity.json'))) return;
  const raftData = readdirSync(directory).filter((name) => name === 'raft' || name.startsWith('raft-'));
  if (raftData.length === 0) return;
  throw new Error(`${join(directory, 'identity.json')} is missing, but ${directory} holds Raft data (${raftData.join(', ')}): a fresh id would make this peer a second member. Restore the identity file, or remove ${raftData.join(', ')} to join as a new member`);
}

/**
 * A claimed id without its claim can never pass a signaling server again. joinRoom would give it
 * up for a fresh id and discard its data; here, as for a missing identity file, the operator
 * decides: a backup of the file (it held both) revives the member with its log.
 */
async function refuseLostClaim(identityStore: KeyValueStore, room: string, id: NodeId, directory: string): Promise<void> {
  if (!isClaimedNodeId(id) || (await loadNodeClaim(identityStore, room, id)) !== null) return;
  throw new Error(`${join(directory, 'identity.json')} holds node id ${id} for room ${room} without the claim that proves it to a signaling server: restore the file from a backup (it held both), or remove it together with the raft-* directories beside it to join as a new member`);
}

/**
 * What stopped the node a `nodeStopped` event names: the error it stopped with, or one made from
 * the event's reason if the room is not at hand (an event that came before joinRoom resolved).
 */
function stopOf(room: Room<unknown, unknown> | null, event: { readonly id: NodeId; readonly reason: string }): Error {
  const stopped = room !== null && room.id === event.id ? room.node.stopped.value : null;
  return stopped ?? new Error(event.reason);
}

/** Logs a node's role, leader and membership changes and its stop; returns what stops the logging. */
function watchNode(node: Room<unknown, unknown>['node'], log: (line: string) => void): () => void {
  const unsubscribes = [
    node.role.subscribe((role) => log(`role: ${role} (term ${node.term.value})`)),
    node.leader.subscribe((leader) => log(`leader: ${leader ?? 'none'} (term ${node.term.value})`)),
    node.membership.subscribe((config) => log(`membership: voters ${config.voters.join(', ')}${config.learners?.length ? `; learners ${config.learners.join(', ')}` : ''}`)),
    node.stopped.subscribe((error) => error && log(`stopped: ${error.message}`)),
  ];
  return () => {
    for (const unsubscribe of unsubscribes) unsubscribe();
  };
}

/**
 * Everything checkable before the data directory is touched: a room no server can serve, an
 * empty secret, a URL that is not a WebSocket's or an address WebRTC cannot bind used to start (or
 * to fail only after identity.json was written), and then never meet anyone.
 */
function validateEdgePeerOptions<State, Command>(options: EdgePeerOptions<State, Command>): void {
  requireRoomId(options.room, 'startEdgePeer');
  requireOptionalSecret(options.secret, 'startEdgePeer');
  if (!isWebSocketUrl(options.signalingUrl)) throw new RangeError(`startEdgePeer: signalingUrl must be a ws:// or wss:// URL with a host, got ${JSON.stringify(options.signalingUrl)}`);
  if (typeof options.dataDirectory !== 'string' || options.dataDirectory.length === 0) throw new RangeError('startEdgePeer: dataDirectory must be a non-empty path');
  if (options.mode !== undefined && options.mode !== 'voter' && options.mode !== 'witness') throw new RangeError(`startEdgePeer: mode must be 'voter' or 'witness', got ${JSON.stringify(options.mode)}`);
  if (options.bindAddress !== undefined && isIP(options.bindAddress) === 0) throw new RangeError(`startEdgePeer: bindAddress must be an IPv4 or IPv6 address, got ${JSON.stringify(options.bindAddress)}`);
  const port = options.httpPort;
  if (port !== undefined && port !== null && (!Number.isInteger(port) || port < 0 || port > 65_535)) throw new RangeError(`startEdgePeer: httpPort must be an integer in 0 .. 65535 or null, got ${String(port)}`);
  if (typeof (options.webrtc as { RTCPeerConnection?: unknown } | undefined)?.RTCPeerConnection !== 'function') {
    throw new TypeError('startEdgePeer: webrtc must be a WebRTC implementation, e.g. `webrtc: await import("node-datachannel/polyfill")`');
  }
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') throw new TypeError('startEdgePeer: onEvent must be a function (event) => void');
  if (options.httpHost !== undefined && (port === undefined || port === null)) throw new RangeError('startEdgePeer: httpHost needs httpPort (without a port no HTTP server starts)');
  // listen() reads an empty host as every interface: /healthz and /metrics (node id, peers, term)
  // would be served beyond the machine by a slip (an unset variable), as the CLI refuses too.
  if (options.httpHost !== undefined && (typeof options.httpHost !== 'string' || options.httpHost.trim().length === 0)) {
    throw new RangeError(`startEdgePeer: httpHost must name an address or host, got ${JSON.stringify(options.httpHost)} (an empty one would serve every interface: say '0.0.0.0' or '::' if that is meant)`);
  }
}
