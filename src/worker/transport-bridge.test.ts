// The transport bridge: frames batched per tick into one transferred buffer, both directions,
// peers mirrored, queues bounded, malformed batches refused.
import { describe, expect, it } from 'vitest';
import { nodeId, type NodeId, type RaftEnvelope } from '../core/types.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { createCounters } from '../transport/webrtc/counters.ts';
import type { DataChannelGuestMessage, DataChannelService } from '../transport/webrtc/data-channel-hand-off.ts';
import type { FrameBatch } from './protocol.ts';
import { workerLimits } from './protocol.ts';
import { createFrameBatcher, createPortTransport, serveTransport, unpackFrames } from './transport-bridge.ts';

const a = nodeId('a');
const b = nodeId('b');
const c = nodeId('c');
const loopbackTransport = (): RaftTransport => createLoopbackNetwork().transport(a);
const nextTask = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

async function waitUntil(predicate: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 1_000 && !predicate(); attempt += 1) await nextTask();
  expect(predicate()).toBe(true);
}

describe('frame batcher', () => {
  it('packs every frame pushed before the queued tasks have run into one batch, posted after them', async () => {
    const posted: Array<{ batch: FrameBatch; transfer: Transferable[] }> = [];
    const batcher = createFrameBatcher((batch, transfer) => posted.push({ batch, transfer }));
    batcher.push(b, new Uint8Array([1, 2]));
    batcher.push(c, new Uint8Array([3]));
    batcher.push(b, new Uint8Array([]));
    await Promise.resolve();
    expect(posted).toHaveLength(0); // not after a microtask: a burst of messages shares one batch
    await waitUntil(() => posted.length > 0);
    expect(posted).toHaveLength(1);
    const { batch, transfer } = posted[0]!;
    expect(transfer).toEqual([batch.buffer]);
    expect(unpackFrames(batch).map((frame) => [frame.peer, [...frame.bytes]])).toEqual([
      [b, [1, 2]],
      [c, [3]],
      [b, []],
    ]);
    batcher.close();
  });

  it('splits batches at the frame-count and byte bounds and drops frames beyond the queue bound', async () => {
    const posted: FrameBatch[] = [];
    const batcher = createFrameBatcher((batch) => posted.push(batch));
    for (let count = 0; count < workerLimits.maxQueuedFrames + 10; count += 1) batcher.push(b, new Uint8Array([count & 0xff]));
    const queuedFrames = (): number => posted.reduce((total, batch) => total + batch.ends.length, 0);
    await waitUntil(() => queuedFrames() === workerLimits.maxQueuedFrames);
    await nextTask();
    expect(posted.every((batch) => batch.ends.length <= workerLimits.maxFramesPerBatch)).toBe(true);
    expect(posted.reduce((total, batch) => total + batch.ends.length, 0)).toBe(workerLimits.maxQueuedFrames);
    posted.length = 0;
    const large = new Uint8Array(workerLimits.maxBatchBytes / 2 + 1);
    for (let count = 0; count < 3; count += 1) batcher.push(b, large);
    await waitUntil(() => posted.length === 3);
    expect(posted.map((batch) => batch.ends.length)).toEqual([1, 1, 1]);
    expect(unpackFrames(posted[2]!)[0]?.bytes.length).toBe(large.length);
    batcher.close();
  });

  it('transfers the batch buffer: after posting, the sender no longer holds it', async () => {
    const channel = new MessageChannel();
    let sent: ArrayBuffer | null = null;
    const batcher = createFrameBatcher((batch, transfer) => {
      sent = batch.buffer;
      channel.port1.postMessage(batch, transfer);
    });
    batcher.push(b, new Uint8Array(1_000));
    await waitUntil(() => sent !== null);
    expect((sent as ArrayBuffer | null)?.byteLength).toBe(0);
    batcher.close();
    channel.port1.close();
  });

  it('refuses malformed batches instead of reading outside the buffer', () => {
    const buffer = new ArrayBuffer(4);
    expect(unpackFrames({ type: 'frames', peers: [b], ends: [2, 4], buffer })).toEqual([]);
    expect(unpackFrames({ type: 'frames', peers: [b, c], ends: [2, 9], buffer }).map((frame) => frame.peer)).toEqual([b]);
    expect(unpackFrames({ type: 'frames', peers: [b, c], ends: [3, 1], buffer }).map((frame) => frame.peer)).toEqual([b]);
  });
});

describe('serveTransport / createPortTransport', () => {
  it('carries frames both ways with the right sender, and mirrors the peers set', async () => {
    const network = createLoopbackNetwork();
    const channel = new MessageChannel();
    const stop = serveTransport(network.transport(a), channel.port1);
    const inWorker = createPortTransport(a, channel.port2, 65_536);
    expect(inWorker.maxPayloadBytes).toBe(65_536);
    const peer = network.transport(b);
    const peersSeen: NodeId[][] = [];
    inWorker.peers.subscribe((peers) => peersSeen.push([...peers].sort()));
    await waitUntil(() => inWorker.peers.value.has(b));
    network.transport(c);
    await waitUntil(() => inWorker.peers.value.size === 2);
    expect(peersSeen.at(-1)).toEqual([b, c]);

    const toWorker: RaftEnvelope[] = [];
    inWorker.incoming.subscribe((envelope) => toWorker.push(envelope));
    peer.send(a, new Uint8Array([7, 8]));
    peer.send(a, new Uint8Array([9]));
    await waitUntil(() => toWorker.length === 2);
    expect(toWorker.map((envelope) => [envelope.from, [...envelope.bytes]])).toEqual([
      [b, [7, 8]],
      [b, [9]],
    ]);

    const atPeer: RaftEnvelope[] = [];
    peer.incoming.subscribe((envelope) => atPeer.push(envelope));
    const frame = new Uint8Array([4, 5, 6]);
    inWorker.send(b, frame);
    frame.fill(0); // copied when sent, as by any transport: reusing the buffer changes nothing
    await waitUntil(() => atPeer.length === 1);
    expect([atPeer[0]?.from, [...(atPeer[0]?.bytes ?? [])]]).toEqual([a, [4, 5, 6]]);
    stop();
    inWorker.close();
  });

  it('hands the engine each frame in a buffer of its own, not a view into the batch buffer', async () => {
    // The engine keeps decoded entries as views into their frame: a view into the batch buffer
    // (up to 4 MiB) would keep all of it alive for as long as one entry stays in the log.
    const channel = new MessageChannel();
    const inWorker = createPortTransport(a, channel.port2, undefined);
    const received: RaftEnvelope[] = [];
    inWorker.incoming.subscribe((envelope) => received.push(envelope));
    const batcher = createFrameBatcher((batch, transfer) => channel.port1.postMessage(batch, transfer));
    batcher.push(b, new Uint8Array([1, 2, 3]));
    batcher.push(c, new Uint8Array(1000).fill(9));
    batcher.flush();
    await waitUntil(() => received.length === 2);
    expect(received.map((envelope) => [envelope.from, envelope.bytes.length, envelope.bytes.byteOffset, envelope.bytes.buffer.byteLength])).toEqual([
      [b, 3, 0, 3],
      [c, 1000, 0, 1000],
    ]);
    expect([...received[0]!.bytes]).toEqual([1, 2, 3]);
    batcher.close();
    inWorker.close();
    channel.port1.close();
  });

  it('passes what the worker\'s guest says about its data channels to the service, and nothing else', async () => {
    const heard: DataChannelGuestMessage[] = [];
    let stops = 0;
    const service: DataChannelService = { receive: (message) => heard.push(message), stop: () => stops++ };
    const transport: RaftTransport = { ...loopbackTransport(), serveDataChannelsTo: () => service };
    const channel = new MessageChannel();
    const stop = serveTransport(transport, channel.port1);
    const said: DataChannelGuestMessage[] = [
      { type: 'dataChannelsTaken', peer: b, session: 's' },
      { type: 'dataChannelsLost', peer: b, session: 's' },
      { type: 'dataChannelCounters', counters: createCounters() },
    ];
    for (const message of said) channel.port2.postMessage(message);
    channel.port2.postMessage({ type: 'dataChannelsState', peer: b, session: 's', deliver: true, send: true });
    await waitUntil(() => heard.length === said.length);
    await nextTask();
    expect(heard).toEqual(said);
    stop();
    expect(stops).toBe(1);
    channel.port2.close();
  });

  it('exposes orderedFrameBytes (and maxPayloadBytes) when given, and omits them when not', () => {
    const given = new MessageChannel();
    const bounded = createPortTransport(a, given.port2, 65_536, 16_383);
    expect(bounded.maxPayloadBytes).toBe(65_536);
    expect(bounded.orderedFrameBytes).toBe(16_383);
    const onlyOrdered = createPortTransport(b, new MessageChannel().port2, undefined, 8_192);
    expect(onlyOrdered.orderedFrameBytes).toBe(8_192);
    expect('maxPayloadBytes' in onlyOrdered).toBe(false);
    const unbounded = createPortTransport(c, new MessageChannel().port2, undefined);
    expect('maxPayloadBytes' in unbounded).toBe(false);
    expect('orderedFrameBytes' in unbounded).toBe(false);
    for (const transport of [bounded, onlyOrdered, unbounded]) transport.close();
    given.port1.close();
  });
});
