// The transport crosses the worker boundary as a MessagePort: RTCPeerConnection exists only on
// the page, so the page keeps its RaftTransport and serves it on a port (serveTransport), and the
// engine in the worker sees an ordinary RaftTransport built on the other end (createPortTransport).
//
// Frames are batched: every frame queued during one task's synchronous run (one engine step
// sends a message per peer) is packed into ONE ArrayBuffer, flushed on the next microtask and
// transferred, not copied, with postMessage. One memcpy per frame into the batch costs less than
// a structured clone per frame, and the packing makes the transfer safe: the batch buffer belongs
// to nobody else, whereas a transport or another subscriber may still hold an incoming frame.
import { createEmitter, createWatchable } from '../core/observable.ts';
import type { NodeId, RaftEnvelope } from '../core/types.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { workerLimits, type FrameBatch, type TransportMessage } from './protocol.ts';

/** Queues frames and posts them as packed batches on the next microtask. */
export function createFrameBatcher(post: (batch: FrameBatch, transfer: Transferable[]) => void): { push(peer: NodeId, bytes: Uint8Array): void; flush(): void } {
  let peers: NodeId[] = [];
  let frames: Uint8Array[] = [];
  let flushScheduled = false;

  const flush = (): void => {
    flushScheduled = false;
    let start = 0;
    while (start < frames.length) {
      const end = batchEnd(frames, start);
      const ends: number[] = [];
      let total = 0;
      for (let position = start; position < end; position += 1) {
        total += frames[position]?.length ?? 0;
        ends.push(total);
      }
      const packed = new Uint8Array(total);
      for (let position = start; position < end; position += 1) packed.set(frames[position] ?? new Uint8Array(0), ends[position - start - 1] ?? 0);
      post({ type: 'frames', peers: peers.slice(start, end), ends, buffer: packed.buffer }, [packed.buffer]);
      start = end;
    }
    peers = [];
    frames = [];
  };

  return {
    push(peer, bytes) {
      // Best effort, like every transport: a receiver that stopped draining loses frames rather
      // than growing this queue without bound.
      if (frames.length >= workerLimits.maxQueuedFrames) return;
      peers.push(peer);
      frames.push(bytes);
      if (flushScheduled) return;
      flushScheduled = true;
      queueMicrotask(flush);
    },
    flush,
  };
}

/** Index one past the last frame of the batch that starts at `start` (at least one frame). */
function batchEnd(frames: readonly Uint8Array[], start: number): number {
  let bytes = 0;
  let end = start;
  while (end < frames.length && end - start < workerLimits.maxFramesPerBatch) {
    const length = frames[end]?.length ?? 0;
    if (end > start && bytes + length > workerLimits.maxBatchBytes) break;
    bytes += length;
    end += 1;
  }
  return end;
}

/** The frames of a batch as views into its (now owned) buffer: no copy on the receiving side. */
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
  const unsubscribeIncoming = transport.incoming.subscribe((envelope) => batcher.push(envelope.from, envelope.bytes));
  const postPeers = (peers: ReadonlySet<NodeId>): void => port.postMessage({ type: 'peers', peers: [...peers] } satisfies TransportMessage);
  postPeers(transport.peers.value);
  const unsubscribePeers = transport.peers.subscribe(postPeers);
  const onMessage = (event: MessageEvent<TransportMessage>): void => {
    const message = event.data;
    if (message?.type !== 'frames') return;
    for (const frame of unpackFrames(message)) transport.send(frame.peer, frame.bytes);
  };
  port.addEventListener('message', onMessage);
  port.start();
  return () => {
    unsubscribeIncoming();
    unsubscribePeers();
    port.removeEventListener('message', onMessage);
    port.close();
  };
}

export interface PortTransport extends RaftTransport {
  close(): void;
}

/** The worker side of the bridge: a RaftTransport whose frames travel over `port`. */
export function createPortTransport(selfId: NodeId, port: MessagePort, maxPayloadBytes: number | undefined): PortTransport {
  const incoming = createEmitter<RaftEnvelope>();
  const peers = createWatchable<ReadonlySet<NodeId>>(new Set(), (left, right) => left.size === right.size && [...left].every((peer) => right.has(peer)));
  let closed = false;
  const batcher = createFrameBatcher((batch, transfer) => port.postMessage(batch, transfer));
  const onMessage = (event: MessageEvent<TransportMessage>): void => {
    const message = event.data;
    if (closed || typeof message !== 'object' || message === null) return;
    if (message.type === 'peers') peers.set(new Set(message.peers));
    else if (message.type === 'frames') for (const frame of unpackFrames(message)) incoming.emit({ from: frame.peer, bytes: frame.bytes });
  };
  port.addEventListener('message', onMessage);
  port.start();
  const transport: PortTransport = {
    selfId,
    peers,
    incoming,
    send(to, bytes) {
      if (!closed) batcher.push(to, bytes);
    },
    close() {
      if (closed) return;
      batcher.flush();
      closed = true;
      port.removeEventListener('message', onMessage);
      port.close();
    },
  };
  return maxPayloadBytes === undefined ? transport : { ...transport, maxPayloadBytes, close: transport.close };
}
