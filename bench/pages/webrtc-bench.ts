// The page side of bench/webrtc.ts. Two pages (two browser contexts, so two renderer processes):
// page A measures, page B echoes pings and acknowledges bulk bytes. The same measurement code runs
// over two links: raftmesh's WebRtcTransport, and one bare RTCDataChannel (ordered, reliable;
// 16 KiB messages, bufferedAmount capped by the same in-flight window).
import { nodeId } from '../../src/index.ts';
import { createWebRtcTransport, createWebSocketSignalingClient, type WebRtcTransportLimits } from '../../src/webrtc.ts';
import { createEchoResponder, echoKind as kind } from './echo-protocol.ts';

/** A message-level view of either link. */
interface Link {
  send(bytes: Uint8Array<ArrayBuffer>): void;
  onMessage(listener: (bytes: Uint8Array) => void): void;
  /** Largest message the link takes at once (the bare channel: 16 KiB; the transport: any). */
  readonly maxMessageBytes: number;
}

const links: Partial<Record<'transport' | 'bare', Link>> = {};
let barePeer: RTCPeerConnection | null = null;
let dropped = (): number => 0;

function message(type: number, length: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(Math.max(length, 9));
  bytes[0] = type;
  return bytes;
}

/** Page B's side: echo pings, acknowledge every MiB of data with the running total. */
function serve(link: Link): void {
  link.onMessage(createEchoResponder((bytes) => link.send(bytes)));
}

/** Page A's side: listeners for pongs and acks. */
function client(link: Link) {
  let pongListener: (() => void) | null = null;
  let acknowledged = 0;
  let ackListener: (() => void) | null = null;
  link.onMessage((bytes) => {
    if (bytes[0] === kind.pong) pongListener?.();
    else if (bytes[0] === kind.ack) {
      acknowledged = new DataView(bytes.buffer, bytes.byteOffset).getFloat64(1);
      ackListener?.();
    }
  });
  const ping = (): Promise<number> =>
    new Promise((resolve) => {
      const start = performance.now();
      pongListener = () => resolve(performance.now() - start);
      link.send(message(kind.ping, 64));
    });
  /** Sends `totalBytes` as frames of `frameBytes` with at most `windowBytes` unacknowledged; MiB/s. */
  const transfer = async (frameBytes: number, totalBytes: number, windowBytes: number): Promise<number> => {
    const base = acknowledged;
    let sent = 0;
    const start = performance.now();
    const piece = message(kind.data, Math.min(frameBytes, link.maxMessageBytes));
    while (acknowledged - base < totalBytes) {
      while (sent < totalBytes && sent - (acknowledged - base) < windowBytes) {
        for (let offset = 0; offset < frameBytes; offset += piece.length) link.send(piece.length <= frameBytes - offset ? piece : piece.slice(0, frameBytes - offset));
        sent += frameBytes;
      }
      await new Promise<void>((resolve) => (ackListener = resolve));
    }
    return totalBytes / (1024 * 1024) / ((performance.now() - start) / 1000);
  };
  return { ping, transfer };
}

function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? Number.NaN;
}

function bareLink(channel: RTCDataChannel): Link {
  channel.binaryType = 'arraybuffer';
  return {
    send: (bytes) => channel.send(bytes),
    onMessage: (listener) => channel.addEventListener('message', (event: MessageEvent<ArrayBuffer>) => listener(new Uint8Array(event.data))),
    maxMessageBytes: 16 * 1024,
  };
}

async function gathered(connection: RTCPeerConnection): Promise<string> {
  if (connection.iceGatheringState !== 'complete') {
    await new Promise<void>((resolve) => connection.addEventListener('icegatheringstatechange', () => connection.iceGatheringState === 'complete' && resolve()));
  }
  return JSON.stringify(connection.localDescription);
}

const opened = (channel: RTCDataChannel): Promise<void> => (channel.readyState === 'open' ? Promise.resolve() : new Promise((resolve) => channel.addEventListener('open', () => resolve())));

const api = {
  async startTransport(config: { signalingUrl: string; roomId: string; self: string; peer: string; secret: string; serve: boolean; limits: Partial<WebRtcTransportLimits> }) {
    const signaling = createWebSocketSignalingClient({ url: config.signalingUrl, roomId: config.roomId, nodeId: nodeId(config.self), secret: config.secret });
    const transport = createWebRtcTransport({ signaling, secret: config.secret, iceServers: [], limits: config.limits });
    const peer = nodeId(config.peer);
    dropped = () => {
      const counters = transport.counters;
      return counters.framesDroppedQueueFull + counters.framesDroppedUnreachable + counters.framesDroppedMalformed + counters.framesDroppedOnDisconnect;
    };
    await new Promise<void>((resolve) => {
      if (transport.peers.value.has(peer)) resolve();
      transport.peers.subscribe((peers) => peers.has(peer) && resolve());
    });
    links.transport = {
      send: (bytes) => transport.send(peer, bytes),
      onMessage: (listener) => transport.incoming.subscribe((envelope) => listener(envelope.bytes)),
      maxMessageBytes: Number.POSITIVE_INFINITY,
    };
    if (config.serve) serve(links.transport);
  },
  async bareOffer(): Promise<string> {
    barePeer = new RTCPeerConnection({ iceServers: [] });
    const channel = barePeer.createDataChannel('bare', { ordered: true });
    await barePeer.setLocalDescription(await barePeer.createOffer());
    void opened(channel).then(() => (links.bare = bareLink(channel)));
    return gathered(barePeer);
  },
  async bareAnswer(offer: string): Promise<string> {
    barePeer = new RTCPeerConnection({ iceServers: [] });
    barePeer.addEventListener('datachannel', (event) => {
      links.bare = bareLink(event.channel);
      serve(links.bare);
    });
    await barePeer.setRemoteDescription(JSON.parse(offer) as RTCSessionDescriptionInit);
    await barePeer.setLocalDescription(await barePeer.createAnswer());
    return gathered(barePeer);
  },
  async bareAccept(answer: string): Promise<void> {
    await barePeer?.setRemoteDescription(JSON.parse(answer) as RTCSessionDescriptionInit);
    while (links.bare === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
  },
  /** Every figure for one link, measured from page A. */
  async measure(which: 'transport' | 'bare') {
    const link = links[which];
    if (link === undefined) throw new Error(`${which} link not started`);
    const { ping, transfer } = client(link);
    const window = 8 * 1024 * 1024;
    for (let index = 0; index < 200; index++) await ping();
    await transfer(16 * 1024, 16 * 1024 * 1024, window); // warm-up: the first bulk transfer is slower
    const rtts: number[] = [];
    for (let index = 0; index < 2000; index++) rtts.push(await ping());
    const throughput16KiB = await transfer(16 * 1024, 64 * 1024 * 1024, window);
    const throughput1MiB = await transfer(1024 * 1024, 64 * 1024 * 1024, window);
    // Pings (one at a time, 2 ms apart) while 4 MiB frames stream.
    const loaded: number[] = [];
    let streaming = true;
    const bulk = transfer(4 * 1024 * 1024, 32 * 1024 * 1024, window).finally(() => (streaming = false));
    while (streaming) {
      loaded.push(await ping());
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const throughputUnderPings = await bulk;
    return {
      rttP50: percentile(rtts, 0.5),
      rttP99: percentile(rtts, 0.99),
      throughput16KiB,
      throughput1MiB,
      loadedP50: percentile(loaded, 0.5),
      loadedP99: percentile(loaded, 0.99),
      loadedSamples: loaded.length,
      throughputUnderPings,
      dropped: which === 'transport' ? dropped() : 0,
    };
  },
};

declare global {
  interface Window {
    webrtcBench: typeof api;
  }
}
window.webrtcBench = api;
