// The signaling client over a WebSocket to `startSignalingServer`. It joins the room (answering
// the admission challenge when the room has a secret), keeps the connection alive with pings,
// and reconnects with bounded exponential backoff until closed or refused for good.
import { createEmitter, createWatchable, type Watchable } from '../core/observable.ts';
import { nodeId as toNodeId, type NodeId } from '../core/types.ts';
import { computeAdmissionProof, deriveAdmissionKey, importAdmissionKey } from './admission.ts';
import { reconnectDelayMs } from './backoff.ts';
import { realClock, type Clock } from './clock.ts';
import { resolveClientLimits, type SignalingClientLimits } from './limits.ts';
import { isWebSocketUrl, requireOptionalSecret, requireRoomId } from './room-settings.ts';
import { signalingProtocolVersion, terminalErrorCodes, type ClientMessage, type ServerMessage } from './messages.ts';
import { claimProvesNodeId, isClaimedNodeId, isNodeClaim } from './node-claim.ts';
import { parseSignalingMessage } from './parse-message.ts';
import {
  SignalingRefusedError,
  SignalingUnreachableError,
  samePeerSet,
  type ReceivedSignal,
  type SignalingClient,
} from './signaling-client.ts';

/** The part of the WebSocket API used here: the browser's `WebSocket` and `ws`'s both fit. */
export interface WebSocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** The event is read only for what the failure says (a close's code and reason, an error's message), where it has it. */
  addEventListener(type: 'open' | 'close' | 'error', listener: (event?: unknown) => void): void;
  addEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void;
}

/** A failed attempt to reach or stay in the room, and when the next one starts (`onRetry`). */
export interface SignalingRetry {
  /** Attempts that failed in a row since the client last joined (1 for the first). */
  readonly attempt: number;
  /** How long until the next attempt (the backoff, with jitter). */
  readonly delayMs: number;
  /** What failed, in words: a refused connection, a close and its code, a server gone silent. */
  readonly reason: string;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface WebSocketSignalingClientOptions {
  readonly url: string;
  readonly roomId: string;
  readonly nodeId: NodeId;
  /** The room secret, if the room has one; it never leaves this client (admission.ts). */
  readonly secret?: string | undefined;
  /**
   * What proves a claimed node id (`peer-k…`, the ids joinRoom mints; node-claim.ts) to the
   * server, which admits such an id with nothing less: joinRoom's signaling context carries it.
   * Sent to the server only, and only for a claimed id.
   */
  readonly claim?: string | undefined;
  /** Default `globalThis.WebSocket`; in Node 20 pass `WebSocket` from the `ws` package. */
  readonly WebSocket?: WebSocketConstructor;
  readonly limits?: Partial<SignalingClientLimits>;
  readonly clock?: Clock;
  /** Jitter source for backoff. */
  readonly random?: () => number;
  /**
   * Called each time an attempt failed and the next is scheduled. A client that cannot reach its
   * server keeps `status` at 'connecting' and retries quietly; this says why, for a log (the edge
   * peer's said "signaling connecting" and then nothing while its server was down: a newcomer's
   * review, 2026-12-07). A browser's WebSocket tells its page nothing of why a connection failed,
   * so there the reason is only that it failed or closed. An exception thrown here is ignored.
   */
  readonly onRetry?: (retry: SignalingRetry) => void;
}

export type SignalingClientStatus = 'connecting' | 'joined' | 'closed';

export interface WebSocketSignalingClient extends SignalingClient {
  readonly status: Watchable<SignalingClientStatus>;
}

function validateOptions(options: WebSocketSignalingClientOptions): WebSocketConstructor {
  toNodeId(options.nodeId);
  requireRoomId(options.roomId, 'createWebSocketSignalingClient');
  requireOptionalSecret(options.secret, 'createWebSocketSignalingClient');
  if (options.claim !== undefined && (typeof options.claim !== 'string' || !isNodeClaim(options.claim))) throw new RangeError('createWebSocketSignalingClient: claim must be the 64 hex digits joinRoom passes in its signaling context');
  // Refused here rather than by the server: a factory that passes { roomId, nodeId, secret } on
  // and drops the claim (or passes another id's) would otherwise hear `claim-refused` only after
  // a connection, and for good.
  if (isClaimedNodeId(options.nodeId)) {
    if (options.claim === undefined) throw new RangeError(`createWebSocketSignalingClient: node id ${JSON.stringify(options.nodeId)} is a claimed id, which the server admits only with its claim: pass claim (joinRoom's signaling context has it: spread the context, or pass context.claim)`);
    if (!claimProvesNodeId(options.claim, options.nodeId)) throw new RangeError(`createWebSocketSignalingClient: the claim given is not the claim of node id ${JSON.stringify(options.nodeId)} (the server would refuse it): pass the claim saved with that id`);
  }
  // Browsers take http(s) URLs for WebSockets too; anything else could never connect.
  if (!isWebSocketUrl(options.url) && !/^https?:\/\/[^/]/.test(String(options.url))) throw new RangeError(`createWebSocketSignalingClient: url must be a ws:// or wss:// URL (or http:// or https://, which WebSocket takes as the same), got ${JSON.stringify(options.url)}`);
  const constructor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (constructor === undefined) throw new Error('no WebSocket available: pass options.WebSocket (the ws package in Node 20)');
  return constructor;
}

export function createWebSocketSignalingClient(options: WebSocketSignalingClientOptions): WebSocketSignalingClient {
  const WebSocketClass = validateOptions(options);
  const limits = resolveClientLimits(options.limits);
  const clock = options.clock ?? realClock;
  const random = options.random ?? Math.random;
  const { roomId, nodeId: selfId } = options;
  const claim = isClaimedNodeId(selfId) ? options.claim : undefined;
  /**
   * A server from before claims refuses the hello's `claim` field as malformed (its parser is
   * strict), which would stop this client for good. Such a server checks no claims, so the hello
   * goes without it from then on: a server can only make the claim travel less, never more.
   */
  let serverKnowsClaims = true;
  const admissionKey = options.secret === undefined ? null : deriveAdmissionKey(options.secret, roomId).then(importAdmissionKey);
  admissionKey?.catch(() => undefined); // reported when a challenge needs it, not as an unhandled rejection

  const peers = createWatchable<ReadonlySet<NodeId>>(new Set(), samePeerSet);
  const signals = createEmitter<ReceivedSignal>();
  const status = createWatchable<SignalingClientStatus>('connecting');
  const ready = createWatchable(false);
  status.subscribe((value) => ready.set(value === 'joined'));
  let resolveClosed: (reason: Error | null) => void = () => undefined;
  const closed = new Promise<Error | null>((resolve) => (resolveClosed = resolve));

  let socket: WebSocketLike | null = null;
  let failedAttempts = 0;
  /** What the server last refused, if it was not for good (`member-in-use`): said when giving up. */
  let lastRefusal: string | null = null;
  /**
   * What the server refused on the current attempt only, for onRetry's reason: an earlier
   * attempt's refusal (`rate-limited`) was repeated as the cause of every later failure, a server
   * since gone down included (a review of this change).
   */
  let attemptRefusal: string | null = null;
  let lastHeard = clock.now();
  /** Timers not yet fired: one forgotten as it fires, or a joined client kept one per ping for good. */
  const timers = new Set<unknown>();
  const later = (fn: () => void, ms: number): void => {
    const timer = clock.setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };
  const clearTimers = (): void => {
    for (const timer of timers) clock.clearTimeout(timer);
    timers.clear();
  };

  const send = (message: ClientMessage): void => {
    try {
      socket?.send(JSON.stringify(message));
    } catch (_error) {
      // Sending on a socket that is closing throws in some implementations; its close follows.
    }
  };

  function stop(reason: Error | null): void {
    if (status.value === 'closed') return;
    status.set('closed');
    clearTimers();
    const current = socket;
    socket = null;
    current?.close(1000, reason === null ? 'closed' : 'refused');
    peers.set(new Set());
    resolveClosed(reason);
  }

  /** The connection is gone (or useless): forget it and try again after a backoff delay. */
  function reconnect(reason: string): void {
    if (status.value === 'closed') return;
    clearTimers();
    const current = socket;
    socket = null;
    current?.close(1000, 'reconnecting');
    peers.set(new Set());
    status.set('connecting');
    if (failedAttempts >= limits.reconnectAttemptsMax) {
      const refusal = lastRefusal === null ? '' : ` (last refusal: ${lastRefusal})`;
      return stop(new SignalingUnreachableError(`could not join room ${JSON.stringify(roomId)} at ${options.url} after ${failedAttempts} attempts${refusal}`));
    }
    const delay = reconnectDelayMs(failedAttempts, limits.reconnectDelayMinMs, limits.reconnectDelayMaxMs, random);
    failedAttempts++;
    later(connect, delay);
    const refused = attemptRefusal === null ? '' : ` (the server said ${attemptRefusal})`;
    try {
      options.onRetry?.({ attempt: failedAttempts, delayMs: delay, reason: `${reason}${refused}` });
    } catch (_error) {
      // A logger's failure must not stop the retries.
    }
  }

  function keepAlive(): void {
    later(() => {
      if (clock.now() - lastHeard >= limits.serverSilenceTimeoutMs) return reconnect(`the server went silent for ${limits.serverSilenceTimeoutMs} ms`);
      send({ type: 'ping' });
      keepAlive();
    }, limits.pingIntervalMs);
  }

  async function answerChallenge(nonce: string): Promise<void> {
    if (admissionKey === null) {
      return stop(new SignalingRefusedError('admission-refused', `room ${JSON.stringify(roomId)} requires a secret and none was given`));
    }
    const proof = await computeAdmissionProof(await admissionKey, { roomId, nodeId: selfId, nonce });
    send({ type: 'challenge-response', proof });
  }

  function updatePeers(change: (next: Set<NodeId>) => void): void {
    const next = new Set(peers.value);
    change(next);
    next.delete(selfId);
    peers.set(next);
  }

  function handle(message: ServerMessage): void {
    switch (message.type) {
      case 'challenge':
        return void answerChallenge(message.nonce).catch((error: unknown) => stop(error instanceof Error ? error : new Error(String(error))));
      case 'joined':
        failedAttempts = 0;
        lastRefusal = null;
        peers.set(new Set(message.peers.map(toNodeId).filter((peer) => peer !== selfId)));
        return status.set('joined');
      case 'peer-joined':
        return updatePeers((next) => next.add(toNodeId(message.nodeId)));
      case 'peer-left':
        return updatePeers((next) => next.delete(toNodeId(message.nodeId)));
      case 'signal':
        return signals.emit({ from: toNodeId(message.from), payload: message.payload });
      case 'error':
        if (message.code === 'malformed' && serverKnowsClaims && claim !== undefined && message.message === 'unexpected field "claim" in hello') {
          serverKnowsClaims = false;
          lastRefusal = `${message.code}: ${message.message} (a server from before claims: joining without the claim)`;
          attemptRefusal = lastRefusal;
          return; // the server closes; the next attempt says hello without it
        }
        if (terminalErrorCodes.has(message.code)) return stop(new SignalingRefusedError(message.code, message.message));
        // unknown-peer is informational; for the others the server closes and we retry.
        if (message.code !== 'unknown-peer') {
          lastRefusal = `${message.code}: ${message.message}`;
          attemptRefusal = lastRefusal;
        }
        return;
      case 'ping':
        return send({ type: 'pong' });
      case 'pong':
        return;
      default: {
        const unreachable: never = message;
        return unreachable;
      }
    }
  }

  function connect(): void {
    if (status.value === 'closed') return;
    const current = new WebSocketClass(options.url);
    socket = current;
    attemptRefusal = null;
    lastHeard = clock.now();
    const isCurrent = (): boolean => socket === current;
    // Pings start only once the socket opens: until the room is joined, the same silence bound
    // covers the opening and the admission handshake. A server whose kernel accepts the
    // connection but that never answers (frozen, wedged) must count as a failed attempt.
    later(() => isCurrent() && status.value !== 'joined' && reconnect(`not in the room ${limits.serverSilenceTimeoutMs} ms after connecting`), limits.serverSilenceTimeoutMs);
    current.addEventListener('open', () => {
      if (!isCurrent()) return;
      send({ type: 'hello', protocol: signalingProtocolVersion, roomId, nodeId: selfId, ...(claim === undefined || !serverKnowsClaims ? {} : { claim }) });
      keepAlive();
    });
    current.addEventListener('message', (event) => {
      if (!isCurrent()) return;
      lastHeard = clock.now();
      const parsed = typeof event.data === 'string' ? parseSignalingMessage(event.data, { direction: 'from-server' }) : null;
      // A server speaking nonsense is broken or not ours: drop the connection and retry later.
      if (parsed === null || !parsed.ok) return reconnect('the server sent a message this client does not understand');
      handle(parsed.message);
    });
    current.addEventListener('close', (event) => isCurrent() && reconnect(describeClose(event)));
    current.addEventListener('error', (event) => isCurrent() && reconnect(describeError(event)));
  }

  connect();
  return {
    selfId,
    roomId,
    peers,
    signals,
    status,
    ready,
    signal(to, payload) {
      if (status.value === 'joined') send({ type: 'signal', to, payload });
    },
    close: () => stop(null),
    closed,
  };
}

/** A close event's code and reason, where the WebSocket gives them (both `ws` and browsers do). */
function describeClose(event: unknown): string {
  const { code, reason } = (typeof event === 'object' && event !== null ? event : {}) as { code?: unknown; reason?: unknown };
  const said = typeof reason === 'string' && reason !== '' ? `, ${JSON.stringify(reason.slice(0, 200))}` : '';
  return typeof code === 'number' ? `the connection closed (code ${code}${said})` : 'the connection closed';
}

/**
 * An error event's message where there is one: `ws` says why (`connect ECONNREFUSED
 * 127.0.0.1:8787`, `getaddrinfo ENOTFOUND …`); a browser's error event says nothing.
 */
function describeError(event: unknown): string {
  const { message, error } = (typeof event === 'object' && event !== null ? event : {}) as { message?: unknown; error?: unknown };
  const text = typeof message === 'string' && message !== '' ? message : error instanceof Error ? error.message : '';
  return text === '' ? 'the connection failed' : `the connection failed: ${text.slice(0, 200)}`;
}
