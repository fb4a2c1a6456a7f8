// One client socket on the server: a small state machine from hello to joined, then relay.
// Every frame passes the same gate first (binary, size, rate, parse, idle clock), so an abusive
// client is answered with an error frame and closed without touching any other connection.
import { verifyAdmissionProof } from '../admission.ts';
import type { Clock } from '../clock.ts';
import { randomNonce } from '../hmac.ts';
import { claimProvesNodeId, isClaimedNodeId } from '../node-claim.ts';
import type { SignalingServerLimits } from '../limits.ts';
import { signalingProtocolVersion, type ClientMessage, type ServerMessage, type SignalingErrorCode } from '../messages.ts';
import { parseSignalingMessage } from '../parse-message.ts';
import type { SignalingServerEvent } from './events.ts';
import { announceJoin, type RoomMember, type RoomRegistry } from './room-registry.ts';
import type { RoomLookup } from './room-policy.ts';
import { createTokenBucket } from './token-bucket.ts';

export interface ServerSocket {
  send(text: string): void;
  close(code: number, reason: string): void;
}

export interface ConnectionContext {
  readonly limits: SignalingServerLimits;
  readonly clock: Clock;
  readonly lookup: RoomLookup;
  readonly registry: RoomRegistry;
  readonly report: (event: SignalingServerEvent) => void;
  readonly remoteAddress: string | null;
  /** Called when the socket joins a room: its handshake is over (the per-address count). */
  readonly joined: () => void;
  /** Called once when the connection is finished (socket closed or we closed it). */
  readonly finished: () => void;
}

type State =
  | { readonly type: 'awaiting-hello' }
  | { readonly type: 'busy' } // a room lookup or proof check is in flight
  | { readonly type: 'awaiting-proof'; readonly roomId: string; readonly nodeId: string; readonly claim: string | undefined; readonly key: CryptoKey; readonly nonce: string }
  | { readonly type: 'joined'; readonly roomId: string; readonly member: RoomMember }
  | { readonly type: 'closed' };

export interface Connection {
  /** A frame arrived: text, or null for a binary frame; `byteLength` is its size on the wire. */
  receive(text: string | null, byteLength: number): void;
  /** The socket closed underneath us. */
  socketClosed(): void;
  /** Server shutdown. */
  fail(code: SignalingErrorCode, message: string): void;
  /**
   * The socket itself ended this client: `ws` refused a frame (it closes before the frame reaches
   * us, so no error frame can follow), or the client stopped reading and was cut off. Reported
   * and counted as a refusal all the same, once; nothing if the connection had already finished.
   */
  refusedBySocket(code: SignalingErrorCode, message: string): void;
}

/** WebSocket close codes: 1008 policy violation, 1009 too big, 1001 going away. */
function closeCodeFor(code: SignalingErrorCode): number {
  if (code === 'too-large') return 1009;
  if (code === 'server-closing') return 1001;
  return 1008;
}

export function createConnection(socket: ServerSocket, context: ConnectionContext): Connection {
  const { limits, clock, registry } = context;
  let state: State = { type: 'awaiting-hello' };
  let lastActivity = clock.now();
  /** The identity the hello asked for, so refusals can be logged with it. */
  let claimed: { roomId: string | null; nodeId: string | null } = { roomId: null, nodeId: null };
  const bucket = createTokenBucket(limits.messagesPerSecond, limits.messageBurst, () => clock.now());
  const send = (message: ServerMessage): void => {
    if (state.type !== 'closed') socket.send(JSON.stringify(message));
  };
  /** Settles the liveness probe in flight (probe()): true on the next frame, false at the close. */
  let probeInFlight: { readonly answer: Promise<boolean>; readonly settle: (alive: boolean) => void } | null = null;
  /** When this socket last answered a probe: trusted for one probe timeout, without a new ping. */
  let provedAliveAt = Number.NEGATIVE_INFINITY;

  const handshakeTimer = clock.setTimeout(() => {
    if (state.type !== 'joined') fail('handshake-timeout', `not joined within ${limits.handshakeTimeoutMs} ms`);
  }, limits.handshakeTimeoutMs);
  // One timer per connection re-armed lazily (from the last activity) instead of on every frame.
  let idleTimer: unknown = null;
  const armIdle = (delayMs: number): void => {
    idleTimer = clock.setTimeout(() => {
      const quietMs = clock.now() - lastActivity;
      if (quietMs >= limits.idleTimeoutMs) fail('idle-timeout', `nothing received for ${limits.idleTimeoutMs} ms`);
      else armIdle(limits.idleTimeoutMs - quietMs);
    }, delayMs);
  };
  armIdle(limits.idleTimeoutMs);

  /** Read through a call so the compiler does not narrow `state` across an await. */
  const isClosed = (): boolean => state.type === 'closed';

  function finish(reason: string): void {
    if (state.type === 'closed') return;
    const previous = state;
    state = { type: 'closed' };
    clock.clearTimeout(handshakeTimer);
    clock.clearTimeout(idleTimer);
    probeInFlight?.settle(false);
    // A replaced holder has left all the same, though the registry took it out of the room
    // before telling it (so leave() finds another under its id): unreported, the log showed two
    // joins of the id and no leave, and joins - leaves in stats drifted from the peers present.
    const left = previous.type === 'joined' && (registry.leave(previous.roomId, previous.member) || reason === 'replaced');
    if (left) {
      context.report({ type: 'left', roomId: previous.roomId, nodeId: previous.member.nodeId, reason, peers: registry.size(previous.roomId) });
    }
    context.finished();
  }

  function fail(code: SignalingErrorCode, message: string): void {
    if (state.type === 'closed') return;
    send({ type: 'error', code, message });
    if (code !== 'server-closing' && code !== 'replaced') {
      context.report({ type: 'refused', code, message, ...claimed, remoteAddress: context.remoteAddress });
    }
    // The close frame before finish(): finishing hands the socket to the server's closing
    // sockets, which may cut it off at once (closing-sockets.ts), and the frame would be lost.
    socket.close(closeCodeFor(code), code);
    finish(code);
  }

  /**
   * One ping for every newcomer asking at once, and none while an answer is fresh: hellos under
   * this id, however many, cost its holder at most one pong per probe timeout (its pongs count
   * against its own rate limit, so more could push a live holder out).
   */
  function probe(timeoutMs: number): Promise<boolean> {
    if (state.type === 'closed') return Promise.resolve(false);
    if (clock.now() - provedAliveAt < timeoutMs) return Promise.resolve(true);
    if (probeInFlight !== null) return probeInFlight.answer;
    let settle: (alive: boolean) => void = () => undefined;
    const answer = new Promise<boolean>((resolve) => {
      const timer = clock.setTimeout(() => settle(false), timeoutMs);
      settle = (alive) => {
        clock.clearTimeout(timer);
        probeInFlight = null;
        if (alive) provedAliveAt = clock.now();
        resolve(alive);
      };
    });
    probeInFlight = { answer, settle };
    send({ type: 'ping' });
    return answer;
  }

  /**
   * Joins under `nodeId`. A live holder of that id keeps it: anyone who can reach the server (and,
   * in an open room, anyone at all) could otherwise take a member's id and cut it off. A holder
   * that answers no ping is a socket left half-open, and is replaced.
   */
  async function join(roomId: string, nodeId: string, claim: string | undefined): Promise<void> {
    // A claimed id is of use only to its owner (node-claim.ts): seeing it listed is not enough.
    if (isClaimedNodeId(nodeId) && !(claim !== undefined && claimProvesNodeId(claim, nodeId))) {
      return fail('claim-refused', `node id ${JSON.stringify(nodeId)} is a claimed id, and this hello ${claim === undefined ? 'carried no claim' : 'carried a claim of another id'}: pass the claim joinRoom gives the signaling factory (context.claim) to the client`);
    }
    const holder = registry.find(roomId, nodeId);
    if (holder !== undefined) {
      state = { type: 'busy' };
      const alive = await holder.probe(limits.memberProbeTimeoutMs);
      if (isClosed()) return;
      if (alive) return fail('member-in-use', `node id ${JSON.stringify(nodeId)} is held by a live connection in room ${JSON.stringify(roomId)} (another tab or process with this id, or someone else using it)`);
    }
    const replace = (): void => fail('replaced', 'this node id joined the room on another connection, and this one answered no ping');
    const self: RoomMember = { nodeId, send, replace, probe };
    const outcome = registry.join(roomId, self, holder);
    if (!outcome.ok) return fail(outcome.code, outcome.message);
    state = { type: 'joined', roomId, member: self };
    clock.clearTimeout(handshakeTimer);
    context.joined();
    send({ type: 'joined', roomId, nodeId, peers: outcome.peers });
    announceJoin(registry, roomId, self, outcome.peers);
    context.report({ type: 'joined', roomId, nodeId, peers: registry.size(roomId), remoteAddress: context.remoteAddress });
  }

  async function hello(message: Extract<ClientMessage, { type: 'hello' }>): Promise<void> {
    if (message.protocol !== signalingProtocolVersion) {
      return fail('unsupported-protocol', `this server speaks protocol ${signalingProtocolVersion}, not ${message.protocol}`);
    }
    state = { type: 'busy' };
    claimed = { roomId: message.roomId, nodeId: message.nodeId };
    // A resolver that throws (its database timed out, say) is the server's failure, not an
    // unknown room: the client retries, where `room-unknown` would stop it for good.
    const admission = await context.lookup(message.roomId).catch(() => ({ type: 'failed' }) as const);
    if (isClosed()) return;
    if (admission.type === 'failed') return fail('server-error', `the server could not look up room ${JSON.stringify(message.roomId)} just now; try again`);
    if (admission.type === 'unknown') return fail('room-unknown', `this server does not serve room ${JSON.stringify(message.roomId)}`);
    if (admission.type === 'open') return join(message.roomId, message.nodeId, message.claim);
    const nonce = randomNonce();
    state = { type: 'awaiting-proof', roomId: message.roomId, nodeId: message.nodeId, claim: message.claim, key: admission.key, nonce };
    send({ type: 'challenge', nonce });
  }

  async function proof(message: Extract<ClientMessage, { type: 'challenge-response' }>): Promise<void> {
    if (state.type !== 'awaiting-proof') return fail('protocol', 'challenge-response without a challenge');
    const { roomId, nodeId, claim, key, nonce } = state;
    state = { type: 'busy' };
    const valid = await verifyAdmissionProof(key, { roomId, nodeId, nonce }, message.proof);
    if (isClosed()) return;
    if (!valid) return fail('admission-refused', `wrong proof for room ${JSON.stringify(roomId)}: the room secret does not match`);
    await join(roomId, nodeId, claim);
  }

  function relay(message: Extract<ClientMessage, { type: 'signal' }>): void {
    if (state.type !== 'joined') return fail('protocol', 'signal before joining a room');
    const target = registry.find(state.roomId, message.to);
    // `from` is the identity this socket was admitted with, never anything the client wrote.
    if (target === undefined) send({ type: 'error', code: 'unknown-peer', message: `no peer ${JSON.stringify(message.to)} in this room` });
    else target.send({ type: 'signal', from: state.member.nodeId, payload: message.payload });
  }

  /** A failure inside an async step (a resolver that throws, WebCrypto) closes only this client. */
  function settle(step: Promise<void>): void {
    step.catch((error: unknown) => fail('server-error', `could not process the message: ${String(error).slice(0, 200)}`));
  }

  function handle(message: ClientMessage): void {
    switch (message.type) {
      case 'ping':
        return send({ type: 'pong' });
      case 'pong':
        return;
      case 'hello':
        if (state.type !== 'awaiting-hello') return fail('protocol', 'hello sent twice');
        return settle(hello(message));
      case 'challenge-response':
        return settle(proof(message));
      case 'signal':
        return relay(message);
      default: {
        const unreachable: never = message;
        return unreachable;
      }
    }
  }

  function receive(text: string | null, byteLength: number): void {
    if (state.type === 'closed') return;
    lastActivity = clock.now();
    probeInFlight?.settle(true);
    if (byteLength > limits.maxMessageBytes) return fail('too-large', `messages are limited to ${limits.maxMessageBytes} bytes`);
    if (!bucket.take()) return fail('rate-limited', `more than ${limits.messagesPerSecond} messages per second`);
    if (text === null) return fail('malformed', 'binary frames are not part of the protocol');
    const parsed = parseSignalingMessage(text, { direction: 'from-client', maxBytes: limits.maxMessageBytes });
    if (!parsed.ok) return fail(parsed.error.code, parsed.error.message);
    // A keepalive may come while a step is pending (a probe of the id's holder takes seconds).
    const keepalive = parsed.message.type === 'ping' || parsed.message.type === 'pong';
    if (state.type === 'busy' && !keepalive) return fail('protocol', 'message sent before the previous step was answered');
    handle(parsed.message);
  }

  const refusedBySocket = (code: SignalingErrorCode, message: string): void => {
    if (state.type === 'closed') return;
    context.report({ type: 'refused', code, message, ...claimed, remoteAddress: context.remoteAddress });
    finish(code);
  };
  return { receive, socketClosed: () => finish('disconnected'), fail, refusedBySocket };
}
