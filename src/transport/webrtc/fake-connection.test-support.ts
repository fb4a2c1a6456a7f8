// Fake peer connections for Node tests of the transport's lifecycle (no WebRTC in Node here):
// an offer names its pair, the answerer's applying it links the two, both "open" when the
// initiator applies the answer. Channels deliver asynchronously and in order, with a fresh
// ArrayBuffer per binary message like a browser. The test drives ICE state, makes ICE restarts
// or handshakes fail, makes applying a candidate throw, or drops one side without telling the other. Later engine channel pairs are linked to
// the peer's pair of the same generation once both sides created theirs (as negotiated channels
// with the same ids are), and open a moment after creation on a connection that is open.
import type { ConnectionSignal } from './connection-signal.ts';
import type { EngineChannel, EnginePair, OpenConnection, PeerConnectionOptions } from './peer-connection.ts';

type Listener = (event: { readonly data: unknown }) => void;

export class FakeChannel implements EngineChannel {
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  binaryType: BinaryType = 'blob';
  readyState: RTCDataChannelState = 'connecting';
  other: FakeChannel | null = null;
  closed = false;
  /** Messages this side sent, in order (binary ones as their bytes). */
  readonly sent: Array<string | Uint8Array> = [];
  private readonly listeners: Listener[] = [];
  private readonly openListeners: Array<() => void> = [];
  private readonly closeListeners: Array<() => void> = [];
  send(data: string | Uint8Array<ArrayBuffer>): void {
    if (this.closed) throw new Error('InvalidStateError: the channel is closed');
    const copy = typeof data === 'string' ? data : data.slice().buffer;
    this.sent.push(typeof copy === 'string' ? copy : new Uint8Array(copy));
    const target = this.other;
    setTimeout(() => {
      if (target !== null && !target.closed) for (const listener of target.listeners) listener({ data: copy });
    }, 0);
  }
  addEventListener(type: 'message' | 'bufferedamountlow' | 'open' | 'close', listener: Listener | (() => void)): void {
    if (type === 'message') this.listeners.push(listener as Listener);
    if (type === 'open') this.openListeners.push(listener as () => void);
    if (type === 'close') this.closeListeners.push(listener as () => void);
  }
  removeEventListener(): void {}
  open(): void {
    if (this.closed || this.readyState === 'open') return;
    this.readyState = 'open';
    for (const listener of this.openListeners) listener();
  }
  /** This end closes (as the connection's close closes every channel); the other end hears it. */
  close(): void {
    this.closeHere();
    const other = this.other;
    if (other !== null) setTimeout(() => other.closeHere(), 0);
  }
  closeHere(): void {
    if (this.closed) return;
    this.closed = true;
    this.readyState = 'closed';
    for (const listener of this.closeListeners) listener();
  }
}

export class FakeConnection {
  readonly control = new FakeChannel();
  readonly bulk = new FakeChannel();
  readonly engineControl = new FakeChannel();
  readonly engineBulk = new FakeChannel();
  /** Engine channel pairs by generation (0: the two above), in creation order. */
  readonly enginePairs = new Map<number, { readonly control: FakeChannel; readonly bulk: FakeChannel }>([[0, { control: this.engineControl, bulk: this.engineBulk }]]);
  peer: FakeConnection | null = null;
  closed = false;
  restarts = 0;
  iceState: RTCIceConnectionState = 'new';
  private localSdp: string | null = null;
  private remoteSdp: string | null = null;
  private opened = false;

  constructor(
    readonly network: FakeConnectionNetwork,
    readonly options: PeerConnectionOptions,
    readonly pairId: string,
    private readonly fingerprint: string,
  ) {}

  emit(type: 'offer' | 'answer'): void {
    const sdp = `v=0\r\na=pair:${this.pairId}\r\na=fingerprint:sha-256 ${this.fingerprint}\r\n`;
    this.localSdp ??= sdp;
    setTimeout(() => !this.closed && this.options.events.signal({ type: 'description', description: { type, sdp } }), 0);
  }

  applySignal(signal: ConnectionSignal): void {
    if (this.closed) return;
    // simple-peer constructs RTCIceCandidate inside signal(), whose constructor throws on input it rejects.
    if (signal.type === 'candidate' && this.network.refuseCandidates) throw new TypeError('At least one of sdpMLineIndex or sdpMid must be specified');
    if (signal.type !== 'description') return;
    this.remoteSdp ??= signal.description.sdp;
    if (signal.description.type === 'offer') {
      const pairId = /a=pair:(\S+)/.exec(signal.description.sdp)?.[1] ?? '';
      const initiator = this.network.byPair.get(pairId);
      if (initiator === undefined) return;
      this.peer = initiator;
      initiator.peer = this;
      for (const name of ['control', 'bulk', 'engineControl', 'engineBulk'] as const) {
        this[name].other = initiator[name];
        initiator[name].other = this[name];
      }
      this.network.onLinked?.(this);
      this.emit('answer');
      return;
    }
    const answerer = this.peer;
    if (answerer === null) return;
    if (!this.opened && this.network.failHandshakes > 0) {
      // libdatachannel's way (fingerprint-binding.network.test.ts): the offerer's applying the
      // answer throws, and the answerer hears its connection close; neither side ever opens.
      this.network.failHandshakes -= 1;
      this.dropLocally('libdatachannel error while adding remote description: Got a remote candidate without ICE transport');
      setTimeout(() => answerer.dropLocally('the connection closed'), 0);
    } else if (!this.opened) {
      for (const side of [this, answerer]) side.open();
    } else if (!this.network.failRestarts) {
      for (const side of [this, answerer]) side.setIceState('connected');
    }
  }

  private open(): void {
    this.opened = true;
    this.iceState = 'connected';
    setTimeout(() => {
      if (this.closed) return;
      for (const channel of [this.control, this.bulk, this.engineControl, this.engineBulk]) channel.open();
      this.options.events.open();
    }, 0);
  }

  setIceState(state: RTCIceConnectionState): void {
    if (this.closed || this.iceState === state) return;
    this.iceState = state;
    this.options.events.iceState(state);
  }

  /** Generation `generation`'s pair on this live connection. */
  openEngineChannels(generation: number): EnginePair {
    if (this.closed) throw new Error('InvalidStateError: the connection is closed');
    if (this.enginePairs.has(generation)) throw new Error(`OperationError: stream ids of generation ${generation} are in use`);
    const pair = { control: new FakeChannel(), bulk: new FakeChannel() };
    this.enginePairs.set(generation, pair);
    const theirs = this.peer?.enginePairs.get(generation);
    if (theirs !== undefined) {
      pair.control.other = theirs.control;
      theirs.control.other = pair.control;
      pair.bulk.other = theirs.bulk;
      theirs.bulk.other = pair.bulk;
    }
    if (this.opened) {
      setTimeout(() => {
        if (this.closed) return;
        pair.control.open();
        pair.bulk.open();
      }, 0);
    }
    return pair;
  }

  /** This side's connection dies; the other side hears nothing (a lost close). */
  dropLocally(reason = 'dropped'): void {
    if (this.closed) return;
    this.closed = true;
    for (const channel of [this.control, this.bulk]) channel.closeHere();
    for (const pair of this.enginePairs.values()) for (const channel of [pair.control, pair.bulk]) channel.closeHere();
    this.options.events.close(reason);
  }

  readonly connection = {
    control: this.control,
    bulk: this.bulk,
    engineControl: this.engineControl,
    engineBulk: this.engineBulk,
    openEngineChannels: (generation: number) => this.openEngineChannels(generation),
    applySignal: (signal: ConnectionSignal) => this.applySignal(signal),
    descriptions: () => (this.localSdp === null || this.remoteSdp === null ? null : { local: this.localSdp, remote: this.remoteSdp }),
    restartIce: () => {
      if (this.closed || !this.options.initiator) return false;
      this.restarts++;
      this.emit('offer');
      return true;
    },
    destroy: () => {
      const peer = this.peer;
      this.dropLocally('closed by this side');
      if (peer !== null) setTimeout(() => peer.dropLocally('closed by the other side'), 0);
    },
  };
}

export class FakeConnectionNetwork {
  readonly connections: FakeConnection[] = [];
  readonly byPair = new Map<string, FakeConnection>();
  /** When set, ICE restarts never bring ICE back. */
  failRestarts = false;
  /** When set, applying a candidate throws (as a WebRTC implementation does with one it refuses). */
  refuseCandidates = false;
  /** How many of the next handshakes fail when the offerer applies the answer, before either side opens. */
  failHandshakes = 0;
  /** Called with the answerer when a pair links (before either side opens): a hostile peer's first chance to send. */
  onLinked: ((answerer: FakeConnection) => void) | null = null;
  private nextId = 1;

  readonly openConnection: OpenConnection = (options) => {
    const id = this.nextId++;
    const fingerprint = Array.from({ length: 32 }, (_, index) => ((id * 31 + index) & 0xff).toString(16).padStart(2, '0')).join(':');
    const connection = new FakeConnection(this, options, `pair-${id}`, fingerprint);
    this.connections.push(connection);
    if (options.initiator) {
      this.byPair.set(connection.pairId, connection);
      connection.emit('offer');
    }
    return connection.connection;
  };
}
