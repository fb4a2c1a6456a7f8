// The SignalingClient over BroadcastChannel: tabs of one origin find each other and exchange
// offers, answers and candidates with no server at all. Presence is a hello on start (answered
// by everyone's heartbeat), a heartbeat every `heartbeatIntervalMs`, a goodbye on close, and
// expiry after `peerExpiryMs` of silence (a tab that crashed or was frozen says no goodbye).
//
// Admission is the HMAC idea of the WebSocket server applied to every envelope: with a secret,
// each is sealed with the room's admission key and unsealed ones are ignored, so a tab without
// the secret never appears as a peer and cannot inject signals. A tab whose hello fails is sent
// a `refused` notice; if no peer of its secret has been heard by a heartbeat interval later (one
// that came and left counts), it stops with a SignalingRefusedError (when two tabs disagree and
// neither has other peers, both stop: there is no judge to ask).
// BroadcastChannel never leaves the origin, so this guards rooms against misconfigured or
// foreign tabs, not against hostile script in the same origin.
import { createEmitter, createWatchable } from '../core/observable.ts';
import { nodeId as toNodeId, type NodeId } from '../core/types.ts';
import { deriveAdmissionKey, importAdmissionKey } from './admission.ts';
import { envelopeAuthentic, parseEnvelope, sealEnvelope, type BroadcastEnvelope, type BroadcastEnvelopeType } from './broadcast-envelope.ts';
import { realClock, type Clock } from './clock.ts';
import { randomNonce } from './hmac.ts';
import { resolveClientLimits, type SignalingClientLimits } from './limits.ts';
import { SignalingRefusedError, samePeerSet, type ReceivedSignal, type SignalingClient } from './signaling-client.ts';

export interface BroadcastChannelLike {
  postMessage(message: unknown): void;
  close(): void;
  onmessage: ((event: MessageEvent) => void) | null;
}

export interface BroadcastChannelSignalingClientOptions {
  readonly roomId: string;
  readonly nodeId: NodeId;
  readonly secret?: string | undefined;
  /**
   * Accepted so joinRoom's signaling context can be spread in, and never used or posted: every
   * tab on the channel is of one origin, which shares the localStorage the claims are kept in.
   */
  readonly claim?: string | undefined;
  readonly limits?: Partial<SignalingClientLimits>;
  readonly clock?: Clock;
  /** Default `globalThis.BroadcastChannel` (browsers, workers, Node 18+). */
  readonly BroadcastChannel?: new (name: string) => BroadcastChannelLike;
}

/** Envelopes waiting for their MAC check at once; beyond it they are dropped (a flood). */
const maxPendingEnvelopes = 1024;

export function broadcastChannelName(roomId: string): string {
  return `raftmesh-signal/v1/${roomId}`;
}

export function createBroadcastChannelSignalingClient(options: BroadcastChannelSignalingClientOptions): SignalingClient {
  const { roomId, nodeId: selfId } = options;
  toNodeId(selfId);
  const limits = resolveClientLimits(options.limits);
  const clock = options.clock ?? realClock;
  const ChannelClass = options.BroadcastChannel ?? globalThis.BroadcastChannel;
  const key = options.secret === undefined ? Promise.resolve(null) : deriveAdmissionKey(options.secret, roomId).then(importAdmissionKey);
  const channel = new ChannelClass(broadcastChannelName(roomId));
  const instance = randomNonce().slice(0, 32);
  let sequence = 0;
  let stopped = false;
  let outgoing: Promise<unknown> = Promise.resolve();
  let incoming: Promise<unknown> = Promise.resolve();
  let pending = 0;

  const peers = createWatchable<ReadonlySet<NodeId>>(new Set(), samePeerSet);
  const signals = createEmitter<ReceivedSignal>();
  /** Per admitted peer: its instance, last sequence and when it was last heard. */
  const known = new Map<string, { instance: string; sequence: number; lastSeen: number }>();
  let resolveClosed: (reason: Error | null) => void = () => undefined;
  const closed = new Promise<Error | null>((resolve) => (resolveClosed = resolve));

  const publishPeers = (): void => peers.set(new Set([...known.keys()].map(toNodeId)));

  /** Sealing is async; chaining keeps envelopes in sequence order on the channel. */
  function post(type: BroadcastEnvelopeType, to = '', payload = ''): void {
    const envelope = { type, from: selfId, instance, sequence: sequence++, to, payload };
    outgoing = outgoing
      .then(async () => {
        const sealed = await sealEnvelope(await key, roomId, envelope);
        if (!stopped || type === 'goodbye') channel.postMessage(sealed);
      })
      .catch((error: unknown) => stop(error instanceof Error ? error : new Error(String(error))));
  }

  function stop(reason: Error | null): void {
    if (stopped) return;
    stopped = true;
    if (reason === null) post('goodbye');
    clock.clearTimeout(heartbeatTimer);
    clock.clearTimeout(refusalTimer);
    known.clear();
    publishPeers();
    void outgoing.finally(() => channel.close());
    resolveClosed(reason);
  }

  /**
   * Whether a tab of our secret has ever been heard (an authentic envelope admitted): what a
   * refusal from another secret's tab is weighed against (awaitAdmissionAfterRefusal).
   */
  let heardOwnSecret = false;

  /** Replay guard and presence bookkeeping; false when the envelope is stale or over a bound. */
  function admit(envelope: BroadcastEnvelope): boolean {
    const previous = known.get(envelope.from);
    if (previous?.instance === envelope.instance && envelope.sequence <= previous.sequence) return false;
    if (previous === undefined && known.size >= limits.maxPeers) return false;
    known.set(envelope.from, { instance: envelope.instance, sequence: envelope.sequence, lastSeen: clock.now() });
    heardOwnSecret = true;
    return true;
  }

  function handle(envelope: BroadcastEnvelope): void {
    if (envelope.type === 'goodbye') {
      if (known.get(envelope.from)?.instance === envelope.instance) known.delete(envelope.from);
      return publishPeers();
    }
    if (!admit(envelope)) return;
    publishPeers();
    if (envelope.type === 'hello') post('heartbeat');
    else if (envelope.type === 'signal' && envelope.to === selfId) signals.emit({ from: toNodeId(envelope.from), payload: envelope.payload });
  }

  async function receive(envelope: BroadcastEnvelope): Promise<void> {
    const authentic = await envelopeAuthentic(await key, roomId, envelope);
    if (stopped || envelope.from === selfId) return;
    if (envelope.type === 'refused') {
      // Unsealed by nature (the refuser cannot seal for a key it does not share).
      if (envelope.to === instance) awaitAdmissionAfterRefusal();
      return;
    }
    if (authentic) return handle(envelope);
    if (envelope.type === 'hello') post('refused', envelope.instance, 'the room secret does not match');
  }

  /**
   * A tab of another secret refused our hello. Stopping at once if no peer had admitted us yet
   * stopped a tab of the right secret whenever the refusal happened to come first (the order is
   * only whose HMAC finished first): every live tab of our secret answers a hello at once and
   * beats every heartbeat interval, so we stop only if none has been heard by the end of one
   * interval. Heard, not present: a tab that welcomed us and said goodbye within the interval
   * proved our secret all the same, and an empty `known` then stopped us as refused.
   */
  let refusalTimer: unknown = null;
  function awaitAdmissionAfterRefusal(): void {
    if (refusalTimer !== null || heardOwnSecret) return;
    refusalTimer = clock.setTimeout(() => {
      refusalTimer = null;
      if (!heardOwnSecret) stop(new SignalingRefusedError('admission-refused', `peers in room ${JSON.stringify(roomId)} refused our proof: the room secret does not match theirs`));
    }, limits.heartbeatIntervalMs);
  }

  channel.onmessage = (event: MessageEvent) => {
    const envelope = parseEnvelope(event.data);
    if (envelope === null || stopped || pending >= maxPendingEnvelopes) return;
    pending++;
    incoming = incoming
      .then(() => receive(envelope))
      .catch(() => undefined) // a bad envelope must not stall the ones behind it
      .finally(() => pending--);
  };

  let heartbeatTimer: unknown = null;
  const beat = (): void => {
    heartbeatTimer = clock.setTimeout(() => {
      const now = clock.now();
      for (const [peer, state] of known) if (now - state.lastSeen > limits.peerExpiryMs) known.delete(peer);
      publishPeers();
      post('heartbeat');
      beat();
    }, limits.heartbeatIntervalMs);
  };
  beat();
  post('hello');

  return {
    selfId,
    roomId,
    peers,
    signals,
    signal(to, payload) {
      if (!stopped && known.has(to)) post('signal', to, payload);
    },
    close: () => stop(null),
    closed,
  };
}
