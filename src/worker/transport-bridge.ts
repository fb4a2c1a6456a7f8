// The transport crosses the worker boundary as a MessagePort: RTCPeerConnection exists only on
// the page, so the page keeps its RaftTransport and serves it on a port (serveTransport), and the
// engine in the worker sees an ordinary RaftTransport built on the other end (createPortTransport).
// A transport that can (WebRTC) also hands each connection's engine channels (channels 2 and 3,
// or a fresh pair on a connection opened before) to the worker over the same port; frames to and from those peers then skip the page, and the port carries only
// what still goes the page's way (transport/webrtc/data-channel-hand-off.ts).
//
// Frames are batched: every frame queued until the tasks waiting now have run (a burst of
// proposals, each answered by one engine step that sends a message per peer) is copied into ONE
// ArrayBuffer, then posted and transferred, not copied again, with postMessage. One memcpy per frame costs less than a structured clone per
// frame, and it makes the transfer safe: the batch buffer belongs to nobody else, whereas a
// transport or another subscriber may still hold an incoming frame, and a sender may reuse its own.
import { copyBytes } from '../core/bytes.ts';
import { createEmitter, createWatchable } from '../core/observable.ts';
import type { NodeId, RaftEnvelope } from '../core/types.ts';
import { realClock } from '../signaling/clock.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { createDataChannelGuest } from '../transport/webrtc/data-channel-guest.ts';
import { createNextTaskScheduler } from './next-task.ts';
import { workerLimits, type FrameBatch, type TransportMessage } from './protocol.ts';

/** Bytes a fresh batch buffer starts with; it doubles as frames arrive (up to maxBatchBytes). */
const initialBatchBytes = 16 * 1024;

/**
 * Copies each frame into the current batch buffer at once (so a sender may reuse its bytes, as
 * with any transport) and posts the batch after the queued tasks, or as soon as it is full.
 */
export interface FrameBatcher {
  push(peer: NodeId, bytes: Uint8Array): void;
  /** Posts what is queued now. */
  flush(): void;
  close(): void;
}

export function createFrameBatcher(post: (batch: FrameBatch, transfer: Transferable[]) => void): FrameBatcher {
  let buffer = new Uint8Array(initialBatchBytes);
  let used = 0;
  let peers: NodeId[] = [];
  let ends: number[] = [];
  /** Frames queued since the last scheduled flush, over every early flush. */
  let queuedThisTick = 0;
  const scheduler = createNextTaskScheduler(() => {
    queuedThisTick = 0;
    flush();
  });

  const flush = (): void => {
    if (ends.length > 0) {
      // Transferred whole: the bytes past `used` are never read (ends bound every frame).
      const whole = buffer.buffer as ArrayBuffer;
      post({ type: 'frames', peers, ends, buffer: whole }, [whole]);
      buffer = new Uint8Array(initialBatchBytes);
    }
    used = 0;
    peers = [];
    ends = [];
  };

  const ensureRoom = (length: number): void => {
    if (ends.length > 0 && (used + length > workerLimits.maxBatchBytes || ends.length >= workerLimits.maxFramesPerBatch)) flush();
    if (used + length <= buffer.length) return;
    let capacity = buffer.length * 2;
    while (capacity < used + length) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(buffer.subarray(0, used));
    buffer = grown;
  };

  return {
    push(peer, bytes) {
      // Best effort, like every transport: a receiver that stopped draining loses frames rather
      // than growing this queue without bound.
      if (queuedThisTick >= workerLimits.maxQueuedFrames) return;
      queuedThisTick += 1;
      ensureRoom(bytes.length);
      buffer.set(bytes, used);
      used += bytes.length;
      peers.push(peer);
      ends.push(used);
      scheduler.schedule();
    },
    flush,
    close: () => scheduler.close(),
  };
}

/** The frames of a batch as views into its (now owned) buffer; a receiver that keeps them copies them (createPortTransport does). */
export function unpackFrames(batch: FrameBatch): Array<{ peer: NodeId; bytes: Uint8Array }> {
  const frames: Array<{ peer: NodeId; bytes: Uint8Array }> = [];
  if (batch.peers.length !== batch.ends.length) return frames;
  let start = 0;
  for (let position = 0; position < batch.ends.length; position += 1) {
    const end = batch.ends[position] ?? start;
    const peer = batch.peers[position];
    if (peer === undefined || end < start || end > batch.buffer.byteLength) return frames;
    frames.push({ peer, bytes: new Uint8Array(batch.buffer, start, end - start) });
    start = end;
  }
  return frames;
}

/**
 * Serves a transport on a port (the page side of the bridge): incoming frames go to the port,
 * frames from the port are sent, and the peers set is mirrored. Returns a function that stops.
 */
export function serveTransport(transport: RaftTransport, port: MessagePort): () => void {
  const batcher = createFrameBatcher((batch, transfer) => port.postMessage(batch, transfer));
  // A transport that can hands its channels to the worker at the other end of the port.
  const dataChannels = transport.serveDataChannelsTo?.({ post: (message, transfer) => port.postMessage(message satisfies TransportMessage, transfer) }) ?? null;
  const unsubscribeIncoming = transport.incoming.subscribe((envelope) => batcher.push(envelope.from, envelope.bytes));
  const postPeers = (peers: ReadonlySet<NodeId>): void => port.postMessage({ type: 'peers', peers: [...peers] } satisfies TransportMessage);
  postPeers(transport.peers.value);
  const unsubscribePeers = transport.peers.subscribe(postPeers);
  const onMessage = (event: MessageEvent<TransportMessage>): void => {
    const message = event.data;
    if (message?.type === 'dataChannelCounters' || message?.type === 'dataChannelsTaken' || message?.type === 'dataChannelsLost') dataChannels?.receive(message);
    if (message?.type !== 'frames') return;
    for (const frame of unpackFrames(message)) transport.send(frame.peer, frame.bytes);
  };
  port.addEventListener('message', onMessage);
  port.start();
  return () => {
    dataChannels?.stop();
    unsubscribeIncoming();
    unsubscribePeers();
    batcher.flush();
    batcher.close();
    port.removeEventListener('message', onMessage);
    port.close();
  };
}

export interface PortTransport extends RaftTransport {
  close(): void;
}

/** The worker side of the bridge: a RaftTransport whose frames travel over `port`. */
export function createPortTransport(selfId: NodeId, port: MessagePort, maxPayloadBytes: number | undefined, orderedFrameBytes?: number): PortTransport {
  const incoming = createEmitter<RaftEnvelope>();
  const peers = createWatchable<ReadonlySet<NodeId>>(new Set(), (left, right) => left.size === right.size && [...left].every((peer) => right.has(peer)));
  let closed = false;
  const batcher = createFrameBatcher((batch, transfer) => port.postMessage(batch, transfer));
  // Channels a WebRTC transport on the page handed over: frames to and from those peers skip the page.
  const dataChannels = createDataChannelGuest({
    clock: realClock,
    deliver: (envelope) => incoming.emit(envelope),
    report: (report) => port.postMessage(report satisfies TransportMessage),
  });
  const onMessage = (event: MessageEvent<TransportMessage>): void => {
    const message = event.data;
    if (closed || typeof message !== 'object' || message === null) return;
    if (message.type === 'peers') peers.set(new Set(message.peers));
    else if (message.type === 'dataChannels' || message.type === 'dataChannelsState' || message.type === 'dataChannelsClosed') dataChannels.accept(message);
    // Each frame is copied out of the batch buffer (up to 4 MiB): the engine keeps what it
    // decodes as views (log entries, forwarded commands), and a view would keep the whole batch
    // alive for as long as one 100-byte entry of it stays in the log.
    else if (message.type === 'frames') for (const frame of unpackFrames(message)) incoming.emit({ from: frame.peer, bytes: copyBytes(frame.bytes) });
  };
  port.addEventListener('message', onMessage);
  port.start();
  const transport: PortTransport = {
    selfId,
    peers,
    incoming,
    send(to, bytes) {
      if (!closed && !dataChannels.send(to, bytes)) batcher.push(to, bytes);
    },
    close() {
      if (closed) return;
      batcher.flush();
      batcher.close();
      dataChannels.close();
      closed = true;
      port.removeEventListener('message', onMessage);
      port.close();
    },
  };
  // The port itself keeps every frame in order: the page's transport decides what stays ordered.
  return {
    ...transport,
    ...(maxPayloadBytes === undefined ? {} : { maxPayloadBytes }),
    ...(orderedFrameBytes === undefined ? {} : { orderedFrameBytes }),
    close: transport.close,
  };
}
