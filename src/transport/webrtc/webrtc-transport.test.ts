// The transport's connection lifecycle in Node, over fake peer connections (fake-connection.test-
// support.ts) and an in-memory signaling hub: who offers, ICE restart first, rebuilding a
// connection ICE cannot recover, and a loss only one side noticed. Real WebRTC runs in the
// browser suites; the handshake here is the real one (WebCrypto).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createEmitter, createWatchable } from '../../core/observable.ts';
import { nodeId, type NodeId } from '../../core/types.ts';
import { samePeerSet, type ReceivedSignal, type SignalingClient } from '../../signaling/signaling-client.ts';
import { FakeConnectionNetwork, type FakeConnection } from './fake-connection.test-support.ts';
import type { WebRtcTransportLimits } from './limits.ts';
import { parseLinkSignal, restartMarksAnnouncement } from './link-signal.ts';
import { createSignalingHub, type SignalingHub } from './signaling-hub.test-support.ts';
import { createWebRtcTransport, WebRtcTransport } from './webrtc-transport.ts';

const wait = { timeout: 20_000, interval: 5 };
const limits = { reconnectDelayMinMs: 5, reconnectDelayMaxMs: 50, iceRestartTimeoutMs: 200, connectTimeoutMs: 5_000 };
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const step of cleanup.splice(0)) step();
});

function cluster(names: readonly string[], transportLimits: Partial<WebRtcTransportLimits> = limits): { hub: SignalingHub; network: FakeConnectionNetwork; transports: WebRtcTransport[] } {
  const hub = createSignalingHub();
  const network = new FakeConnectionNetwork();
  const transports = names.map((name) => {
    const signaling = hub.client(nodeId(name));
    const transport = createWebRtcTransport({ signaling, secret: 'test secret', openConnection: network.openConnection, limits: transportLimits });
    cleanup.push(() => {
      transport.close();
      signaling.close();
    });
    return transport;
  });
  return { hub, network, transports };
}

async function meshed(transports: readonly WebRtcTransport[]): Promise<void> {
  await vi.waitFor(() => {
    for (const transport of transports) expect(transport.peers.value.size).toBe(transports.length - 1);
  }, wait);
}

const live = (network: FakeConnectionNetwork): FakeConnection[] => network.connections.filter((connection) => !connection.closed);

/** Once a's first signal of a session other than `first` (its newer attempt) is relayed, ICE on the old path drops at a too. */
function dropIceAsNewerAttemptOffers(hub: SignalingHub, first: string | undefined, offerer: FakeConnection | undefined): void {
  let dropped = false;
  hub.tamper = ({ from, payload }) => {
    const signal = parseLinkSignal(payload);
    if (from === nodeId('a') && signal?.type === 'connection' && signal.session !== first && !dropped) {
      dropped = true;
      offerer?.setIceState('disconnected');
    }
    return payload;
  };
}

describe('WebRtcTransport options', () => {
  it('refuses an empty room secret (leave it out for an open room)', () => {
    const signaling = createSignalingHub().client(nodeId('a'));
    expect(() => createWebRtcTransport({ signaling, secret: '', openConnection: new FakeConnectionNetwork().openConnection })).toThrow(new RangeError('createWebRtcTransport: the room secret must be a non-empty string (leave it out for an open room)'));
    signaling.close();
  });

  it('refuses a `webrtc` without an RTCPeerConnection, `iceServers` that are not a list, and a misspelt limit', () => {
    const signaling = createSignalingHub().client(nodeId('a'));
    const openConnection = new FakeConnectionNetwork().openConnection;
    expect(() => createWebRtcTransport({ signaling, webrtc: {} as never })).toThrow(/^createWebRtcTransport: `webrtc` must be a WebRTC implementation whose RTCPeerConnection is a constructor/);
    expect(() => createWebRtcTransport({ signaling, openConnection, iceServers: 'stun:stun.example' as never })).toThrow('createWebRtcTransport: `iceServers` must be an array of RTCIceServer ({ urls }), or [] for none, got "stun:stun.example"');
    expect(() => createWebRtcTransport({ signaling, openConnection, limits: { chunkByte: 1024 } as never })).toThrow(/^unknown WebRTC transport limit "chunkByte"; the limits are chunkBytes, /);
    createWebRtcTransport({ signaling, openConnection, iceServers: [], limits: { chunkBytes: 1024 } }).close?.();
    signaling.close();
  });
});

describe('WebRtcTransport as a constructor (the name API.md gives it)', () => {
  it('with new or without, builds the same transport as createWebRtcTransport, which meshes and carries frames', async () => {
    const hub = createSignalingHub();
    const network = new FakeConnectionNetwork();
    const [a, b] = [nodeId('a'), nodeId('b')].map((name) => hub.client(name));
    const first = new WebRtcTransport({ signaling: a!, secret: 'test secret', openConnection: network.openConnection, limits });
    const second = WebRtcTransport({ signaling: b!, secret: 'test secret', openConnection: network.openConnection, limits });
    cleanup.push(() => {
      first.close();
      second.close();
      a?.close();
      b?.close();
    });
    await meshed([first, second]);
    const received: string[] = [];
    second.incoming.subscribe(({ from, bytes }) => received.push(`${from}:${bytes.join(',')}`));
    first.send(nodeId('b'), new Uint8Array([1, 2, 3]));
    await vi.waitFor(() => expect(received).toEqual(['a:1,2,3']), wait);
    expect(() => new WebRtcTransport({ signaling: a!, secret: '', openConnection: network.openConnection })).toThrow(/the room secret must be a non-empty string/);
  });

  it('instanceof holds for every transport made here, by either name, and for no other object', () => {
    const signaling = createSignalingHub().client(nodeId('a'));
    const openConnection = new FakeConnectionNetwork().openConnection;
    const made = createWebRtcTransport({ signaling, openConnection });
    const constructed = new WebRtcTransport({ signaling, openConnection });
    expect(made instanceof WebRtcTransport).toBe(true);
    expect(constructed instanceof WebRtcTransport).toBe(true);
    expect({ ...made } instanceof WebRtcTransport).toBe(false);
    expect((null as object | null) instanceof WebRtcTransport).toBe(false);
    made.close();
    constructed.close();
    signaling.close();
  });
});

describe('WebRtcTransport in a runtime without WebRTC', () => {
  it('refuses to start without `webrtc` where there is no RTCPeerConnection (Node), instead of never connecting', () => {
    const signaling = createSignalingHub().client(nodeId('a'));
    expect(typeof (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection).toBe('undefined');
    expect(() => createWebRtcTransport({ signaling })).toThrow(/this runtime has no RTCPeerConnection; pass `webrtc` \(in Node: `webrtc: await import\("node-datachannel\/polyfill"\)`/);
    expect(() => createWebRtcTransport({ signaling: undefined as never })).toThrow(/`signaling` must be a signaling client/);
    signaling.close();
  });
});

describe('WebRtcTransport connection lifecycle (fake connections)', () => {
  it('has exactly one connection per pair, offered by the smaller id', async () => {
    const { hub, network, transports } = cluster(['a', 'b', 'c']);
    await meshed(transports);
    const offers = hub.relayed.filter(({ payload }) => {
      const signal = parseLinkSignal(payload);
      return signal?.type === 'connection' && signal.signal.type === 'description' && signal.signal.description.type === 'offer';
    });
    expect(offers.map(({ from, to }) => `${from}->${to}`).sort()).toEqual(['a->b', 'a->c', 'b->c']);
    expect(network.connections).toHaveLength(6);
    expect(transports.map((transport) => transport.counters.connectionsEstablished)).toEqual([2, 2, 2]);
  });

  it('on ICE disconnection restarts ICE first: the peer leaves `peers` meanwhile and returns on the same connection', async () => {
    const { network, transports } = cluster(['a', 'b']);
    const [a, b] = transports as [WebRtcTransport, WebRtcTransport];
    await meshed(transports);
    const [offerer] = live(network).filter((connection) => connection.options.initiator);
    offerer?.setIceState('disconnected');
    offerer?.peer?.setIceState('disconnected');
    expect(a.peers.value.has(nodeId('b'))).toBe(false);
    await meshed(transports);
    expect(offerer?.restarts).toBe(1);
    expect(live(network)).toHaveLength(2);
    expect([a.counters.connectionsLost, b.counters.connectionsLost, a.counters.connectionsEstablished]).toEqual([0, 0, 1]);
  });

  it('keeps recovering from ICE disconnections by restarting ICE, however many times it did before: each restart has a signal budget of its own', async () => {
    // 8 signals per attempt: the initial answer and 7 restarts' answers used them up, and the 8th
    // restart's answer was dropped, so ICE never recovered and the connection was rebuilt.
    const { network, transports } = cluster(['a', 'b'], { ...limits, maxSignalsPerAttempt: 8 });
    const [a, b] = transports as [WebRtcTransport, WebRtcTransport];
    await meshed(transports);
    const [offerer] = live(network).filter((connection) => connection.options.initiator);
    for (let restart = 0; restart < 10; restart++) {
      offerer?.setIceState('disconnected');
      offerer?.peer?.setIceState('disconnected');
      await meshed(transports);
    }
    expect({ restarts: offerer?.restarts, lost: [a.counters.connectionsLost, b.counters.connectionsLost], attempts: a.counters.connectionAttempts, dropped: [a.counters.signalsDropped, b.counters.signalsDropped] }).toEqual({ restarts: 10, lost: [0, 0], attempts: 1, dropped: [0, 0] });
  });

  it('rebuilds the connection when an ICE restart does not bring ICE back in time', async () => {
    const { network, transports } = cluster(['a', 'b']);
    const [a] = transports as [WebRtcTransport, WebRtcTransport];
    await meshed(transports);
    network.failRestarts = true;
    const [offerer] = live(network).filter((connection) => connection.options.initiator);
    offerer?.setIceState('disconnected');
    await vi.waitFor(() => expect(a.counters.connectionsEstablished).toBe(2), wait);
    await meshed(transports);
    expect(offerer?.closed).toBe(true);
    expect(a.counters.connectionsLost).toBe(1);
  });

  it('recovers from a loss only the answerer noticed: it asks for an offer, the offerer drops its stale connection', async () => {
    const { network, transports } = cluster(['a', 'b']);
    const [a, b] = transports as [WebRtcTransport, WebRtcTransport];
    await meshed(transports);
    const [answerer] = live(network).filter((connection) => !connection.options.initiator);
    answerer?.dropLocally();
    expect(b.peers.value.size).toBe(0);
    await vi.waitFor(() => expect(a.counters.connectionsEstablished).toBe(2), wait);
    await meshed(transports);
    const received: NodeId[] = [];
    b.incoming.subscribe((envelope) => received.push(envelope.from));
    a.send(nodeId('b'), new Uint8Array([1]));
    await vi.waitFor(() => expect(received).toEqual([nodeId('a')]), wait);
  });

  it('replaces a connection whose handshake failed before either side opened (libdatachannel under CPU contention)', async () => {
    const { network, transports } = cluster(['a', 'b']);
    const [a, b] = transports as [WebRtcTransport, WebRtcTransport];
    network.failHandshakes = 2;
    await meshed(transports);
    expect(network.failHandshakes).toBe(0);
    expect(network.connections.filter((connection) => connection.closed)).toHaveLength(4);
    expect(live(network)).toHaveLength(2);
    expect([a.counters.connectionAttempts, a.counters.connectionsEstablished, b.counters.connectionsEstablished]).toEqual([3, 1, 1]);
    const received: NodeId[] = [];
    b.incoming.subscribe((envelope) => received.push(envelope.from));
    a.send(nodeId('b'), new Uint8Array([1]));
    await vi.waitFor(() => expect(received).toEqual([nodeId('a')]), wait);
  });

  it('a closed transport stops reconnecting and leaves every connection closed', async () => {
    const { network, transports } = cluster(['a', 'b']);
    const [a, b] = transports as [WebRtcTransport, WebRtcTransport];
    await meshed(transports);
    a.close();
    await vi.waitFor(() => expect(b.peers.value.size).toBe(0), wait);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(live(network)).toEqual([]);
    expect(a.counters.connectionAttempts).toBe(1);
  });

  it('drops and counts what a peer sends before the handshake, and malformed chunks after it, without throwing', async () => {
    const { network, transports } = cluster(['a', 'b']);
    const [a, b] = transports as [WebRtcTransport, WebRtcTransport];
    network.onLinked = (answerer) => answerer.bulk.send(new Uint8Array([0, 1, 2, 3]));
    await meshed(transports);
    expect(a.counters.framesDroppedUnauthenticated).toBe(1);
    const received: number[][] = [];
    a.incoming.subscribe((envelope) => received.push([...envelope.bytes]));
    const [answerer] = live(network).filter((connection) => !connection.options.initiator);
    answerer?.bulk.send(new Uint8Array([2, 9, 9])); // a continuation with no first part
    answerer?.control.send(new Uint8Array([1, 0, 0, 1, 0, 7])); // a multi-part start on the control channel
    answerer?.bulk.send(new Uint8Array([1, 255, 255, 255, 255, 7])); // announces 4 GiB
    b.send(nodeId('a'), new Uint8Array([42]));
    await vi.waitFor(() => expect(received).toEqual([[42]]), wait);
    expect(a.counters.framesDroppedMalformed).toBe(3);
    expect(a.peers.value.has(nodeId('b'))).toBe(true);
  });
});

describe('WebRtcTransport against a forger of signals (anyone may signal under a member id in an open room)', () => {
  /**
   * Mallory signals as `a` with the wrong secret: her signals reach b as a's (hub.inject), and
   * b's answers for her sessions come back to her. She offers over and over, as a retrying peer does.
   */
  function mallory(real: SignalingHub, network: FakeConnectionNetwork): { transport: WebRtcTransport; sessions: Set<string> } {
    const own = createSignalingHub();
    const sessions = new Set<string>();
    own.tamper = ({ to, payload }) => {
      const signal = parseLinkSignal(payload);
      if (signal !== null) sessions.add(signal.session);
      real.inject(nodeId('a'), to, payload);
      return null;
    };
    real.tamper = ({ from, payload }) => {
      const signal = parseLinkSignal(payload);
      if (from !== nodeId('b') || signal === null || !sessions.has(signal.session)) return payload;
      own.inject(nodeId('b'), nodeId('a'), payload);
      return null;
    };
    const decoy = own.client(nodeId('b')); // so that her `a` sees a peer to offer to
    const signaling = own.client(nodeId('a'));
    const transport = createWebRtcTransport({ signaling, secret: 'not the room secret', openConnection: network.openConnection, limits });
    cleanup.push(() => {
      transport.close();
      signaling.close();
      decoy.close();
    });
    return { transport, sessions };
  }

  it('a forged offer does not close the authenticated session: it serves until the newcomer proves itself, which this one never does', async () => {
    const { hub, network, transports } = cluster(['a', 'b']);
    const [a, b] = transports as [WebRtcTransport, WebRtcTransport];
    await meshed(transports);
    const absences: string[] = [];
    b.peers.subscribe((peers) => {
      if (!peers.has(nodeId('a'))) absences.push(`b lost a at ${b.counters.connectionAttempts} attempts`);
    });
    const received: number[] = [];
    b.incoming.subscribe((envelope) => received.push(envelope.bytes[0] ?? -1));
    const forger = mallory(hub, network);
    await vi.waitFor(() => expect(b.counters.authenticationFailures).toBeGreaterThanOrEqual(3), wait);
    a.send(nodeId('b'), new Uint8Array([7]));
    await vi.waitFor(() => expect(received).toEqual([7]), wait);
    expect(forger.sessions.size).toBeGreaterThanOrEqual(3);
    expect(absences).toEqual([]);
    expect([a.counters.connectionsLost, b.counters.connectionsLost, a.counters.connectionsEstablished, b.counters.connectionsEstablished]).toEqual([0, 0, 1, 1]);
  });

  it('a forged connect-request makes the offerer try a new connection, and the authenticated one serves while that one goes unanswered', async () => {
    const { hub, network, transports } = cluster(['a', 'b']);
    const [a, b] = transports as [WebRtcTransport, WebRtcTransport];
    await meshed(transports);
    const absences: string[] = [];
    a.peers.subscribe((peers) => {
      if (!peers.has(nodeId('b'))) absences.push('a lost b');
    });
    // The forger also drops the offers it provoked, so those attempts only time out.
    const firstSession = parseLinkSignal(hub.relayed[0]?.payload ?? '')?.session;
    hub.tamper = ({ from, payload }) => (from === nodeId('a') && parseLinkSignal(payload)?.session !== firstSession ? null : payload);
    for (let attempt = 0; attempt < 3; attempt++) {
      hub.inject(nodeId('b'), nodeId('a'), JSON.stringify({ type: 'connect-request', session: '' }));
      await vi.waitFor(() => expect(a.counters.connectionAttempts).toBe(2 + attempt), wait);
      await new Promise((resolve) => setTimeout(resolve, 2_100)); // past the offer-in-flight grace
    }
    const received: number[] = [];
    b.incoming.subscribe((envelope) => received.push(envelope.bytes[0] ?? -1));
    a.send(nodeId('b'), new Uint8Array([9]));
    await vi.waitFor(() => expect(received).toEqual([9]), wait);
    expect(absences).toEqual([]);
    expect(live(network).filter((connection) => connection.peer !== null)).toHaveLength(2);
    expect([a.counters.connectionsLost, b.counters.connectionsLost]).toEqual([0, 0]);
  }, 30_000);

  it('ICE restarts a peer asks for, or offers, beyond maxIceRestartsPerMinute (12) are refused and counted; the connection serves', async () => {
    const { hub, network, transports } = cluster(['a', 'b']);
    const [a, b] = transports as [WebRtcTransport, WebRtcTransport];
    await meshed(transports);
    const [offerer] = live(network).filter((connection) => connection.options.initiator);
    const firstOffer = hub.relayed.find(({ from }) => from === nodeId('a'))?.payload ?? '';
    const session = parseLinkSignal(firstOffer)?.session;
    // Anyone signalling as b asks a to restart ICE, again and again: a restarts 12 times (b accepts
    // each offer), then refuses.
    for (let request = 0; request < 14; request++) hub.inject(nodeId('b'), nodeId('a'), JSON.stringify({ type: 'ice-restart', session }));
    await vi.waitFor(() => expect(a.counters.signalsDropped).toBe(2), wait);
    expect([offerer?.restarts, a.counters.iceRestarts]).toEqual([12, 12]);
    // Anyone signalling as a sends b its offer again: b has accepted 12 restarts this minute.
    hub.inject(nodeId('a'), nodeId('b'), firstOffer);
    await vi.waitFor(() => expect(b.counters.signalsDropped).toBe(1), wait);
    const received: number[] = [];
    b.incoming.subscribe((envelope) => received.push(envelope.bytes[0] ?? -1));
    a.send(nodeId('b'), new Uint8Array([3]));
    await vi.waitFor(() => expect(received).toEqual([3]), wait);
    expect([a.counters.connectionsLost, b.counters.connectionsLost, a.counters.connectionAttempts]).toEqual([0, 0, 1]);
  });

  it('a forged offer pending on the answerer does not turn a brief ICE drop on the authenticated connection into a lost one: ICE restarts on it', async () => {
    const { hub, network, transports } = cluster(['a', 'b']);
    const [a, b] = transports as [WebRtcTransport, WebRtcTransport];
    await meshed(transports);
    const [offerer] = live(network).filter((connection) => connection.options.initiator);
    const [answerer] = live(network).filter((connection) => !connection.options.initiator);
    // The forger (anyone signalling as a): an offer for a session of its own, for no real connection.
    const forgedOffer = { type: 'connection', session: 'forged-session-0001', signal: { type: 'description', description: { type: 'offer', sdp: 'v=0\r\na=pair:nobody\r\na=fingerprint:sha-256 00:11\r\n' } } };
    hub.inject(nodeId('a'), nodeId('b'), JSON.stringify(forgedOffer));
    await vi.waitFor(() => expect(b.counters.connectionAttempts).toBe(2), wait);
    // A brief ICE drop on the real connection, seen at both ends.
    answerer?.setIceState('disconnected');
    offerer?.setIceState('disconnected');
    await meshed(transports);
    expect({ lost: [a.counters.connectionsLost, b.counters.connectionsLost], attempts: a.counters.connectionAttempts, restarts: offerer?.restarts, answererClosed: answerer?.closed }).toEqual({ lost: [0, 0], attempts: 1, restarts: 1, answererClosed: false });
  });

  it('the serving session losing ICE while a newer attempt still connects restarts ICE; the peer that lost it drops the offer, and the newer attempt takes over', async () => {
    const { hub, network, transports } = cluster(['a', 'b']);
    const [a, b] = transports as [WebRtcTransport, WebRtcTransport];
    await meshed(transports);
    const [offerer] = live(network).filter((connection) => connection.options.initiator);
    const [answerer] = live(network).filter((connection) => !connection.options.initiator);
    const first = parseLinkSignal(hub.relayed.find(({ from }) => from === nodeId('a'))?.payload ?? '')?.session;
    network.failRestarts = true;
    // b loses the connection and a does not notice; b asks for an offer, and as a's newer attempt
    // offers, ICE on the old path drops at a too.
    if (answerer !== undefined) answerer.peer = null;
    answerer?.dropLocally('network changed');
    dropIceAsNewerAttemptOffers(hub, first, offerer);
    await vi.waitFor(() => expect([a.counters.connectionsEstablished, b.counters.connectionsEstablished]).toEqual([2, 2]), wait);
    await meshed(transports);
    // The offer of a's restart named the session b closed: b dropped it, rather than take it for a
    // new session and close the newer attempt for it. The newer one superseded the old at a.
    const restartOffers = hub.relayed.filter(({ from, payload }) => from === nodeId('a') && parseLinkSignal(payload)?.session === first).length - 1;
    expect({ attempts: [a.counters.connectionAttempts, b.counters.connectionAttempts], restarts: [offerer?.restarts, restartOffers], lostA: a.counters.connectionsLost, droppedB: b.counters.signalsDropped }).toEqual({ attempts: [2, 2], restarts: [1, 1], lostA: 0, droppedB: 1 });
  });

  it('a restart offer for a session the answerer lost is dropped even by a link made afresh (signaling listed nobody while it reconnected), and the newer attempt takes over', async () => {
    // The answerer once remembered the sessions it closed, in the link; the transport forgets an
    // unconnected link when signaling stops listing the peer, and a reload forgets everything.
    const hub = createSignalingHub();
    const network = new FakeConnectionNetwork();
    const signalingA = hub.client(nodeId('a'));
    const signalingB = hub.client(nodeId('b'));
    // b's list as its signaling client reports it: the hub's, except while b reconnects (nobody).
    const listedB = createWatchable<ReadonlySet<NodeId>>(new Set(), samePeerSet);
    signalingB.peers.subscribe((peers) => listedB.set(peers));
    const a = createWebRtcTransport({ signaling: signalingA, secret: 'test secret', openConnection: network.openConnection, limits });
    const b = createWebRtcTransport({ signaling: { ...signalingB, peers: listedB }, secret: 'test secret', openConnection: network.openConnection, limits });
    cleanup.push(() => {
      a.close();
      b.close();
      signalingA.close();
      signalingB.close();
    });
    await meshed([a, b]);
    const [offerer] = live(network).filter((connection) => connection.options.initiator);
    const [answerer] = live(network).filter((connection) => !connection.options.initiator);
    const first = parseLinkSignal(hub.relayed.find(({ from }) => from === nodeId('a'))?.payload ?? '')?.session;
    network.failRestarts = true;
    // b loses the connection and a does not notice; b's signaling client reconnects: it lists
    // nobody (b forgets its link to a), then the room again.
    if (answerer !== undefined) answerer.peer = null;
    answerer?.dropLocally('network changed');
    listedB.set(new Set());
    listedB.set(new Set([nodeId('a')]));
    // As a's newer attempt offers, ICE on the old path drops at a too.
    dropIceAsNewerAttemptOffers(hub, first, offerer);
    await vi.waitFor(() => expect([a.counters.connectionsEstablished, b.counters.connectionsEstablished]).toEqual([2, 2]), wait);
    await meshed([a, b]);
    // a's restart offer for the first session was marked: b, which no longer holds that session,
    // dropped it rather than start a third session and close the newer attempt for it.
    const restartOffers = hub.relayed.filter(({ from, payload }) => from === nodeId('a') && parseLinkSignal(payload)?.session === first).slice(1);
    expect(restartOffers.map(({ payload }) => parseLinkSignal(payload))).toEqual([expect.objectContaining({ type: 'connection', restart: true })]);
    expect({ attempts: [a.counters.connectionAttempts, b.counters.connectionAttempts], droppedB: b.counters.signalsDropped }).toEqual({ attempts: [2, 2], droppedB: 1 });
  });

  it('the serving session losing ICE once a newer attempt is past connecting is closed, not restarted: that attempt is the repair', async () => {
    const { network, transports } = cluster(['a', 'b']);
    const [a, b] = transports as [WebRtcTransport, WebRtcTransport];
    await meshed(transports);
    const [offerer] = live(network).filter((connection) => connection.options.initiator);
    const [answerer] = live(network).filter((connection) => !connection.options.initiator);
    // b's side of the newer connection holds its handshake until released: a's newer attempt
    // opened (its handshake started) and stays there.
    const held: Array<string | Uint8Array<ArrayBuffer>> = [];
    let release: () => void = () => undefined;
    network.onLinked = (linked) => {
      network.onLinked = null;
      const send = linked.control.send.bind(linked.control);
      linked.control.send = (data) => void held.push(data);
      release = () => {
        linked.control.send = send;
        for (const data of held.splice(0)) send(data);
      };
    };
    // b loses the connection and a does not notice; b asks for an offer.
    if (answerer !== undefined) answerer.peer = null;
    answerer?.dropLocally('network changed');
    await vi.waitFor(() => expect(network.connections.filter((connection) => connection.options.initiator && connection !== offerer && connection.control.sent.length > 0)).toHaveLength(1), wait);
    offerer?.setIceState('disconnected');
    expect([offerer?.closed, offerer?.restarts, a.counters.iceRestarts]).toEqual([true, 0, 0]);
    release();
    await vi.waitFor(() => expect([a.counters.connectionsEstablished, b.counters.connectionsEstablished]).toEqual([2, 2]), wait);
    await meshed(transports);
    expect([a.counters.connectionAttempts, b.counters.connectionAttempts]).toEqual([2, 2]);
  });
});

describe('WebRtcTransport and answerers of an earlier version (ICE restart offers marked only for an answerer that reads the mark)', () => {
  /** What a relayed to b for the first session after its first offer (the ICE restart's offer), field by field. */
  function restartOffers(hub: SignalingHub): Record<string, unknown>[] {
    const fromA = hub.relayed.filter(({ from }) => from === nodeId('a'));
    const first = parseLinkSignal(fromA[0]?.payload ?? '')?.session;
    return fromA
      .filter(({ payload }) => parseLinkSignal(payload)?.session === first)
      .slice(1)
      .map(({ payload }) => JSON.parse(payload) as Record<string, unknown>);
  }

  async function restartIceOnce(network: FakeConnectionNetwork, transports: readonly WebRtcTransport[]): Promise<void> {
    await meshed(transports);
    const [offerer] = live(network).filter((connection) => connection.options.initiator);
    offerer?.setIceState('disconnected');
    offerer?.peer?.setIceState('disconnected');
    await meshed(transports);
    expect(offerer?.restarts).toBe(1);
  }

  it('an answerer that says it reads the mark gets the restart offer marked, and the restart completes on the same connection', async () => {
    const { hub, network, transports } = cluster(['a', 'b']);
    const [a, b] = transports as [WebRtcTransport, WebRtcTransport];
    await restartIceOnce(network, transports);
    const [answerer] = live(network).filter((connection) => !connection.options.initiator);
    expect(answerer?.control.sent.filter((data) => data === restartMarksAnnouncement)).toHaveLength(1);
    expect(restartOffers(hub).map((fields) => fields['restart'])).toEqual([true]);
    expect({ attempts: [a.counters.connectionAttempts, b.counters.connectionAttempts], dropped: [a.counters.signalsDropped, b.counters.signalsDropped] }).toEqual({ attempts: [1, 1], dropped: [0, 0] });
  });

  it('an answerer that never says so (whose strict parser would refuse the field) gets it unmarked, with only the fields it parses, and the restart completes', async () => {
    const { hub, network, transports } = cluster(['a', 'b']);
    const [a, b] = transports as [WebRtcTransport, WebRtcTransport];
    // b plays an earlier version: it never announces, and its parser refuses a field it does not know.
    network.onLinked = (answerer) => {
      const send = answerer.control.send.bind(answerer.control);
      answerer.control.send = (data) => {
        if (data !== restartMarksAnnouncement) send(data);
      };
    };
    hub.tamper = ({ to, payload }) => (to === nodeId('b') && 'restart' in (JSON.parse(payload) as object) ? null : payload);
    await restartIceOnce(network, transports);
    expect(restartOffers(hub).map((fields) => Object.keys(fields))).toEqual([['type', 'session', 'signal']]);
    expect({ attempts: [a.counters.connectionAttempts, b.counters.connectionAttempts], lost: [a.counters.connectionsLost, b.counters.connectionsLost] }).toEqual({ attempts: [1, 1], lost: [0, 0] });
  });
});

describe('WebRtcTransport and signals the WebRTC implementation refuses', () => {
  /** `client` as the transport sees it, recording what the transport's listener throws (the emitter would re-raise it unhandled). */
  function recordingThrows(client: SignalingClient): { signaling: SignalingClient; thrown: unknown[] } {
    const thrown: unknown[] = [];
    const signals = createEmitter<ReceivedSignal>();
    client.signals.subscribe((signal) => signals.emit(signal));
    const subscribe = (listener: (value: ReceivedSignal) => void): (() => void) =>
      signals.subscribe((value) => {
        try {
          listener(value);
        } catch (error) {
          thrown.push(error);
        }
      });
    return { signaling: { ...client, signals: { ...signals, subscribe } }, thrown };
  }

  it('drops and counts a candidate without sdpMid and sdpMLineIndex, and one the implementation throws on; nothing reaches the signaling client, and the connection serves', async () => {
    const hub = createSignalingHub();
    const network = new FakeConnectionNetwork();
    const [clientA, clientB] = [hub.client(nodeId('a')), hub.client(nodeId('b'))];
    const b = recordingThrows(clientB);
    const transports = [clientA, b.signaling].map((signaling) => createWebRtcTransport({ signaling, secret: 'test secret', openConnection: network.openConnection, limits })) as [WebRtcTransport, WebRtcTransport];
    cleanup.push(() => {
      for (const transport of transports) transport.close();
      clientA.close();
      clientB.close();
    });
    await meshed(transports);
    const session = parseLinkSignal(hub.relayed.find(({ from }) => from === nodeId('a'))?.payload ?? '')?.session;
    const candidate = (fields: object): string => JSON.stringify({ type: 'connection', session, signal: { type: 'candidate', candidate: { candidate: 'candidate:1 1 UDP 2122260223 192.0.2.1 54400 typ host', ...fields } } });
    // RTCIceCandidate's constructor throws on this one, and simple-peer constructs it inside signal().
    hub.inject(nodeId('a'), nodeId('b'), candidate({}));
    await vi.waitFor(() => expect(transports[1].counters.signalsDropped).toBe(1), wait);
    // One that parses, which the implementation throws on all the same.
    network.refuseCandidates = true;
    hub.inject(nodeId('a'), nodeId('b'), candidate({ sdpMid: '0' }));
    await vi.waitFor(() => expect(transports[1].counters.signalsDropped).toBe(2), wait);
    expect(b.thrown).toEqual([]);
    const received: number[] = [];
    transports[1].incoming.subscribe((envelope) => received.push(envelope.bytes[0] ?? -1));
    transports[0].send(nodeId('b'), new Uint8Array([5]));
    await vi.waitFor(() => expect(received).toEqual([5]), wait);
    expect([transports[1].counters.connectionsLost, live(network).length]).toEqual([0, 2]);
  });
});

describe('WebRtcTransport table of links (at most 1,024)', () => {
  function transportOn(hub: SignalingHub, network: FakeConnectionNetwork, name: string): WebRtcTransport {
    const signaling = hub.client(nodeId(name));
    const transport = createWebRtcTransport({ signaling, secret: 'test secret', openConnection: network.openConnection, limits });
    cleanup.push(() => {
      transport.close();
      signaling.close();
    });
    return transport;
  }

  it('a peer that joins as another leaves a full table gets a link: the departed one goes first', async () => {
    const hub = createSignalingHub();
    const network = new FakeConnectionNetwork();
    // m's room as its signaling client lists it, set by the test: 1,024 members (with smaller ids,
    // so m answers them, and no transports: their links only wait), then member 0 leaves as z joins.
    const listed = createWatchable<ReadonlySet<NodeId>>(new Set(), samePeerSet);
    const members = Array.from({ length: 1024 }, (_, index) => nodeId(`member-${String(index).padStart(4, '0')}`));
    listed.set(new Set(members));
    const signaling = hub.client(nodeId('m'));
    const m = createWebRtcTransport({ signaling: { ...signaling, peers: listed }, secret: 'test secret', openConnection: network.openConnection, limits: { ...limits, reconnectDelayMinMs: 10_000, reconnectDelayMaxMs: 10_000 } });
    cleanup.push(() => {
      m.close();
      signaling.close();
    });
    const z = transportOn(hub, network, 'z');
    listed.set(new Set([...members.slice(1), nodeId('z')]));
    await vi.waitFor(() => expect([m.peers.value.has(nodeId('z')), z.peers.value.has(nodeId('m'))]).toEqual([true, true]), wait);
  });

  it('a listed peer that found the table full gets a link from its next signal once there is room, and connects as present', async () => {
    const hub = createSignalingHub();
    const network = new FakeConnectionNetwork();
    const listed = createWatchable<ReadonlySet<NodeId>>(new Set([nodeId('d')]), samePeerSet);
    const signaling = hub.client(nodeId('m'));
    const m = createWebRtcTransport({ signaling: { ...signaling, peers: listed }, secret: 'test secret', openConnection: network.openConnection, limits: { ...limits, reconnectDelayMinMs: 10_000, reconnectDelayMaxMs: 10_000 } });
    cleanup.push(() => {
      m.close();
      signaling.close();
    });
    const d = transportOn(hub, network, 'd');
    await vi.waitFor(() => expect(m.peers.value.has(nodeId('d'))).toBe(true), wait);
    // d leaves the list but stays connected (its link stays), 1,023 members and z arrive: no room for z.
    const members = Array.from({ length: 1023 }, (_, index) => nodeId(`member-${String(index).padStart(4, '0')}`));
    listed.set(new Set([...members, nodeId('z')]));
    const z = transportOn(hub, network, 'z');
    await vi.waitFor(() => expect(m.counters.signalsDropped).toBeGreaterThan(0), wait); // z's connect-requests
    // d's connection goes: its link may go too, and z's next connect-request gets one, present.
    d.close();
    await vi.waitFor(() => expect([m.peers.value.has(nodeId('z')), z.peers.value.has(nodeId('m'))]).toEqual([true, true]), wait);
  });

  it('signals from 1,024 ids not in the room keep at most 16 of their links, and a peer that joins then connects', async () => {
    const hub = createSignalingHub();
    const network = new FakeConnectionNetwork();
    const m = transportOn(hub, network, 'm');
    // Offers from ids signaling never listed (smaller than m's, so m answers), for no real
    // connection: each opens a session, which waits for a handshake that never comes.
    const offer = (index: number): string => JSON.stringify({ type: 'connection', session: `ghost-session-${index}`, signal: { type: 'description', description: { type: 'offer', sdp: 'v=0\r\na=pair:nobody\r\na=fingerprint:sha-256 00:11\r\n' } } });
    for (let index = 0; index < 1024; index++) hub.inject(nodeId(`ghost-${String(index).padStart(4, '0')}`), nodeId('m'), offer(index));
    await vi.waitFor(() => expect(m.counters.connectionAttempts).toBe(1024), wait);
    // The links of the oldest went (their sessions with them) to make room for the newest.
    expect(live(network)).toHaveLength(16);
    const z = transportOn(hub, network, 'z');
    await vi.waitFor(() => expect([m.peers.value.has(nodeId('z')), z.peers.value.has(nodeId('m'))]).toEqual([true, true]), wait);
  });
});

describe('WebRtcTransport ordered frames', () => {
  function transportWith(chunkBytes?: number): WebRtcTransport {
    const hub = createSignalingHub();
    const signaling = hub.client(nodeId('a'));
    const transport = createWebRtcTransport({ signaling, secret: 'test secret', openConnection: new FakeConnectionNetwork().openConnection, limits: chunkBytes === undefined ? limits : { ...limits, chunkBytes } });
    cleanup.push(() => {
      transport.close();
      signaling.close();
    });
    return transport;
  }

  it('promises order for frames that travel whole on the control channel: one byte less than a chunk', () => {
    // The default chunk is 16 KiB; the one-byte header of a whole message takes the rest.
    expect(transportWith().orderedFrameBytes).toBe(16 * 1024 - 1);
    expect(transportWith(4_096).orderedFrameBytes).toBe(4_095);
    expect(transportWith(64 * 1024).orderedFrameBytes).toBe(64 * 1024 - 1);
  });
});
