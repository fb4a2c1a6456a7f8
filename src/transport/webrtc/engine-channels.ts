// The engine channels of one session (data-channel-hand-off.ts): channels 2 and 3, created with
// the connection, and the pairs that replace them on the same connection when the engine's worker
// changes. Each pair goes, in the task that created it, to the worker attached then (or stays on
// this page, receive only); this side announces the generation it listens on once the worker said
// it took the pair (or the page kept it), and lets its own worker send only on the generation the
// peer announced, when it is also the one this side holds.
//
// Only the initiator allocates generations, so the two sides never pick the same ids for
// different pairs: the answerer asks, naming the generation it has, and the initiator ignores a
// request it already answered with a newer pair (which the answerer hands to its current worker
// when it creates it). Texts travel on channel 0, which is ordered, so "open g" always precedes
// the initiator's announcement of g, and a peer's worker never sends on a pair not created here.
// "open" and "request" count only once this side is ready. They never come earlier: either is
// sent only after its sender heard this side's announcement, which this side sends once ready.
// A pair the worker lost in use (a send failed, or a channel closed under it) is replaced the same
// way, after a short wait that doubles with each loss in a row (handOffLimits.lostChannels*).
import type { Clock } from '../../core/config.ts';
import type { NodeId } from '../../core/types.ts';
import type { WebRtcTransportCounters } from './counters.ts';
import { encodeEngineChannelText, type DataChannelHost, type EngineChannelText } from './data-channel-hand-off.ts';
import { handOffLimits, type WebRtcTransportLimits } from './limits.ts';
import type { EnginePair } from './peer-connection.ts';

export interface EngineChannelsOptions {
  readonly peerId: NodeId;
  readonly sessionId: string;
  readonly initiator: boolean;
  readonly limits: WebRtcTransportLimits;
  readonly counters: WebRtcTransportCounters;
  readonly clock: Clock;
  /** The engine's worker attached now, if any (read when a pair is created). */
  readonly host: () => DataChannelHost | null;
  /** Creates generation `generation`'s pair on the live connection (generation 1 and later). */
  readonly openPair: (generation: number) => EnginePair;
  /** Starts reading a pair this page keeps; the returned function stops and closes it (frames dropped). */
  readonly keep: (pair: EnginePair) => () => number;
  /** A text to the peer on channel 0 (only once the session is ready). */
  readonly sendText: (text: string) => void;
  /** The peer announced a generation (a connection worth keeping, and perhaps a pair to renew). */
  readonly onPeerListens: () => void;
  /** The connection could not create a pair (it throws once closing): the session must close. */
  readonly onFailure: (reason: string) => void;
}

export interface EngineChannels {
  /** The host the current pair was offered to (even if it could not take it); null after a withdrawal. */
  readonly offeredTo: DataChannelHost | null;
  /** Whether the peer ever announced engine channels in this session (a peer of 0.2 never does). */
  readonly peerAnnounced: boolean;
  /** The session is ready: announce, and tell the worker it may deliver (and send). */
  becomeReady(): void;
  /** A text about engine channels the peer sent on channel 0. */
  receiveText(text: EngineChannelText): void;
  /** The worker `host` took the pair named `name`. */
  taken(host: DataChannelHost, name: string): void;
  /** The worker `host` lost the pair named `name` in use: a fresh one follows after a backoff. */
  lost(host: DataChannelHost, name: string): void;
  /** `host`'s worker is going away: it lets go of the pair, and the peer stops sending on it. */
  withdrawFrom(host: DataChannelHost): void;
  /**
   * Gets a fresh pair on the live connection for the worker attached now (the initiator opens
   * one, the answerer asks for one). Only 'out-of-generations' means the connection must close
   * (the next one takes the channels); 'not-ready' means not yet (or no longer): the session
   * renews once ready if it still should.
   */
  renew(): EngineChannelsRenewal;
  /** The session closed: returns the frames still queued on a pair kept here. */
  close(): number;
}

/**
 * What renew() did, with its two kinds of "no" apart: a caller that took every "no" for
 * generations running out closed a connection that had just become ready (peer-link.ts renews
 * when a session becomes reachable, which it once heard before these channels were ready).
 */
export type EngineChannelsRenewal = 'renewing' | 'not-ready' | 'out-of-generations';

export function createEngineChannels(options: EngineChannelsOptions, first: EnginePair): EngineChannels {
  const { counters } = options;
  let generation = 0;
  /** The worker holding the current pair, if it was transferred. */
  let holder: DataChannelHost | null = null;
  let offeredTo: DataChannelHost | null = null;
  /** Stops reading the current pair, when this page kept it. */
  let stopKept: (() => number) | null = null;
  /** The current pair is read here, or by a worker that said it took it. */
  let listening = false;
  let announced: number | null = null;
  let peerListensOn: number | null = null;
  let peerAnnounced = false;
  /** The generation the answerer had when it asked for a fresh pair (it asks once per generation). */
  let requestedAt: number | null = null;
  let posted = { deliver: false, send: false };
  let ready = false;
  let closed = false;
  /** When the current pair was placed, and how many pairs were lost in a row (for the backoff). */
  let placedAt = options.clock.now();
  let lossesInARow = 0;
  let renewalTimer: unknown = null;

  const nameOf = (of: number): string => (of === 0 ? options.sessionId : `${options.sessionId}/${of}`);
  const say = (text: EngineChannelText): void => options.sendText(encodeEngineChannelText(text));

  /** In the task that created `pair`: Chromium transfers a channel only then. */
  function place(pair: EnginePair): void {
    const host = options.host();
    offeredTo = host;
    placedAt = options.clock.now();
    posted = { deliver: false, send: false };
    if (host !== null) {
      try {
        host.post({ type: 'dataChannels', peer: options.peerId, session: nameOf(generation), control: pair.control, bulk: pair.bulk, limits: options.limits }, [pair.control, pair.bulk] as unknown as Transferable[]);
        holder = host;
        counters.dataChannelsHandedOver++;
        return;
      } catch (_error) {
        // postMessage refused them (a runtime that cannot transfer channels): this page keeps them.
      }
    }
    stopKept = options.keep(pair);
    listening = true;
  }

  /** The current pair is replaced: its worker lets go of it, or this page closes it. */
  function retire(): void {
    holder?.post({ type: 'dataChannelsClosed', peer: options.peerId, session: nameOf(generation) }, []);
    holder = null;
    counters.framesDroppedOnDisconnect += stopKept?.() ?? 0;
    stopKept = null;
    listening = false;
  }

  function openGeneration(next: number): void {
    let pair: EnginePair;
    try {
      pair = options.openPair(next);
    } catch (error) {
      // Nothing changed here, and the initiator said nothing: both sides stay on the pair before.
      return options.onFailure(`could not create engine channels of generation ${next}: ${error instanceof Error ? error.message : String(error)}`);
    }
    retire();
    generation = next;
    requestedAt = null;
    counters.engineChannelsReopened++;
    // Before the announcement place() may lead to: the peer creates the pair before it hears we listen.
    if (options.initiator) say({ type: 'open', generation: next });
    // A failed send closes the session (and this) at once: the pair goes down with the connection.
    if (closed) return;
    place(pair);
    announceWhenListening();
    postState();
  }

  /** After the handshake: a peer of 0.2 ignores text once its handshake ended, but would fail on it during. */
  function announceWhenListening(): void {
    if (!ready || !listening || announced === generation) return;
    announced = generation;
    say({ type: 'listening', generation });
  }

  /** What the worker may do with the current pair; posted on every change. */
  function postState(): void {
    if (holder === null) return;
    const send = ready && peerListensOn === generation;
    if (ready === posted.deliver && send === posted.send) return;
    posted = { deliver: ready, send };
    holder.post({ type: 'dataChannelsState', peer: options.peerId, session: nameOf(generation), deliver: ready, send }, []);
  }

  function openForAnswerer(theirs: number): void {
    // Already answered with a newer pair, which the answerer gives to the worker it has then. At
    // the last generation the answerer asks through signaling for a new connection instead (its
    // own renew() says no first), so a request then is a peer's mistake, and costs nothing.
    if (theirs !== generation || generation >= handOffLimits.maxEngineChannelGenerations) return;
    openGeneration(generation + 1);
  }

  function cancelRenewal(): void {
    if (renewalTimer === null) return;
    options.clock.clearTimeout(renewalTimer);
    renewalTimer = null;
  }

  function renew(): EngineChannelsRenewal {
    if (closed || !ready) return 'not-ready';
    if (generation >= handOffLimits.maxEngineChannelGenerations) return 'out-of-generations';
    if (options.initiator) {
      openGeneration(generation + 1);
      return 'renewing';
    }
    if (requestedAt !== generation) {
      requestedAt = generation;
      say({ type: 'request', generation });
    }
    return 'renewing';
  }

  function renewAfterLoss(lostGeneration: number, host: DataChannelHost): void {
    // A newer pair came meanwhile (the peer's, or one for a new worker), or this worker went away
    // (the next one's attach renews), or the peer withdrew (its next worker asks): nothing to do.
    if (closed || generation !== lostGeneration || holder !== null || options.host() !== host || peerListensOn === null) return;
    if (renew() === 'out-of-generations') options.onFailure('no generation of engine channels left: a new connection replaces the lost pair');
  }

  place(first);

  return {
    get offeredTo() {
      return offeredTo;
    },
    get peerAnnounced() {
      return peerAnnounced;
    },
    becomeReady() {
      if (closed || ready) return;
      ready = true;
      announceWhenListening();
      postState();
    },
    receiveText(text) {
      if (closed) return;
      switch (text.type) {
        case 'listening':
          peerAnnounced = true;
          peerListensOn = text.generation;
          postState();
          return options.onPeerListens();
        case 'withdrawn':
          peerListensOn = null;
          return postState();
        case 'open':
          // Only the initiator opens; a stale or repeated one changes nothing.
          if (!ready || options.initiator || text.generation <= generation) return;
          return openGeneration(text.generation);
        case 'request':
          if (!ready || !options.initiator) return;
          return openForAnswerer(text.generation);
        default:
          return text satisfies never;
      }
    },
    taken(host, name) {
      if (closed || host !== holder || name !== nameOf(generation)) return;
      listening = true;
      announceWhenListening();
    },
    lost(host, name) {
      if (closed || host !== holder || name !== nameOf(generation)) return;
      // The worker closed the pair already; the peer's end closes with it, so its worker sends
      // through its page until the fresh pair is announced.
      retire();
      // The peer withdrew first: its worker went away and the pair with it. Nothing was lost in
      // use, and its next worker asks for a pair (this is no loss in a row either).
      if (peerListensOn === null) return;
      counters.engineChannelsLost++;
      const now = options.clock.now();
      if (now - placedAt >= handOffLimits.lostChannelsStableMs) lossesInARow = 0;
      const delay = Math.min(handOffLimits.lostChannelsRenewalMaxMs, handOffLimits.lostChannelsRenewalMinMs * 2 ** Math.min(lossesInARow, 16));
      lossesInARow++;
      const lostGeneration = generation;
      cancelRenewal();
      renewalTimer = options.clock.setTimeout(() => {
        renewalTimer = null;
        renewAfterLoss(lostGeneration, host);
      }, delay);
    },
    withdrawFrom(host) {
      if (closed) return;
      // A pair this worker lost is not renewed for it any more: the next worker's attach renews.
      if (host === offeredTo) cancelRenewal();
      if (host !== holder) {
        // A host that could not take the pair leaves: this page reads it already, as it does with
        // no host, so there is nothing to renew. Left as offered to that host, the pair was renewed
        // when the peer's word that it listens came after the host stopped, which closed the pair
        // under the peer's worker for nothing (a flaky announcement test under load found it).
        if (host === offeredTo && holder === null) offeredTo = null;
        return;
      }
      // The worker may outlive the word (an app's own worker): it lets go of the pair too.
      retire();
      offeredTo = null;
      if (announced === null) return;
      announced = null;
      say({ type: 'withdrawn' });
    },
    renew,
    close() {
      if (closed) return 0;
      closed = true;
      cancelRenewal();
      holder?.post({ type: 'dataChannelsClosed', peer: options.peerId, session: nameOf(generation) }, []);
      holder = null;
      const dropped = stopKept?.() ?? 0;
      stopKept = null;
      return dropped;
    },
  };
}
