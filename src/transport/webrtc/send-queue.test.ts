import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../testing/virtual-clock.ts';
import { bundleCapacity, chunkKind, createReassembler, encodeBundle, encodeChunk, splitBundle } from './framing.ts';
import { createDataPath } from './data-path.ts';
import { createCounters } from './counters.ts';
import { resolveWebRtcTransportLimits } from './limits.ts';
import { createSendQueue, type SendChannel, type SendQueueOptions } from './send-queue.ts';

/** A data channel whose buffer drains only when the test says so, like a slow link. */
class FakeChannel implements SendChannel {
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  readonly sent: Uint8Array[] = [];
  failWith: Error | null = null;
  private listeners = new Set<() => void>();
  send(data: Uint8Array<ArrayBuffer>): void {
    if (this.failWith !== null) throw this.failWith;
    this.sent.push(data);
    this.bufferedAmount += data.length;
  }
  addEventListener(_type: 'bufferedamountlow', listener: () => void): void {
    this.listeners.add(listener);
  }
  removeEventListener(_type: 'bufferedamountlow', listener: () => void): void {
    this.listeners.delete(listener);
  }
  /** Drains everything; fires bufferedamountlow like a browser when it crosses the threshold. */
  drain(fire = true): void {
    const wasAbove = this.bufferedAmount > this.bufferedAmountLowThreshold;
    this.bufferedAmount = 0;
    if (fire && wasAbove) for (const listener of [...this.listeners]) listener();
  }
  get listenerCount(): number {
    return this.listeners.size;
  }
}

function setup(overrides: Partial<SendQueueOptions> = {}) {
  const channel = new FakeChannel();
  const clock = new VirtualClock();
  const failures: unknown[] = [];
  const queue = createSendQueue({
    channel,
    clock,
    chunkBytes: 100,
    queueBytes: 1000,
    maxQueuedFrames: 10,
    highWaterMarkBytes: 300,
    lowWaterMarkBytes: 50,
    drainPollMs: 10,
    onSendFailure: (error) => failures.push(error),
    ...overrides,
  });
  return { channel, clock, queue, failures };
}

const frameOf = (length: number, seed = 1): Uint8Array => Uint8Array.from({ length }, (_, index) => (index + seed) & 0xff);

/** Everything the channel carried, draining it until the queue is empty. */
function drainAll(channel: FakeChannel, queue: { readonly queuedFrames: number }): Uint8Array[] {
  const sent = channel.sent.splice(0);
  while (queue.queuedFrames > 0) {
    channel.drain();
    sent.push(...channel.sent.splice(0));
  }
  return sent;
}

function reassemble(chunks: readonly Uint8Array[]): Uint8Array[] {
  const reassembler = createReassembler({ maxFrameBytes: 100_000, allowMultipleChunks: true });
  return chunks.map((chunk) => reassembler.accept(chunk).frame).filter((frame): frame is Uint8Array => frame !== null);
}

describe('send queue', () => {
  it('sends at once while the channel buffer is below the high-water mark, and sets the low-water threshold', () => {
    const { channel, queue } = setup();
    expect(channel.bufferedAmountLowThreshold).toBe(50);
    expect(queue.enqueue(frameOf(10))).toBe(true);
    expect(channel.sent).toHaveLength(1);
    expect(queue.queuedFrames).toBe(0);
  });

  it('stops at the high-water mark and resumes on bufferedamountlow, in order, chunks never over the chunk size', () => {
    const { channel, queue } = setup();
    const frame = frameOf(900);
    expect(queue.enqueue(frame)).toBe(true);
    expect(channel.bufferedAmount).toBeGreaterThanOrEqual(300);
    expect(channel.bufferedAmount).toBeLessThan(300 + 100);
    expect(queue.queuedBytes).toBeGreaterThan(0);
    const sent = drainAll(channel, queue);
    expect(sent.every((chunk) => chunk.length <= 100)).toBe(true);
    expect(reassemble(sent)).toEqual([frame]);
  });

  it('copies what it keeps: the caller may reuse its buffer after enqueue', () => {
    const { channel, queue } = setup();
    const frame = frameOf(900);
    const expected = frame.slice();
    queue.enqueue(frame);
    frame.fill(0);
    expect(reassemble(drainAll(channel, queue))).toEqual([expected]);
  });

  it('refuses frames beyond its byte bound, but always admits one into an empty queue', () => {
    const { channel, queue } = setup();
    expect(queue.enqueue(frameOf(5000))).toBe(true);
    expect(queue.enqueue(frameOf(10))).toBe(false);
    while (queue.queuedFrames > 0) channel.drain();
    expect(queue.enqueue(frameOf(10))).toBe(true);
  });

  it('refuses frames beyond its frame-count bound (tiny frames cannot pile up either)', () => {
    const { channel, queue } = setup({ highWaterMarkBytes: 100 });
    channel.bufferedAmount = 1000; // the browser buffer is full: everything queues
    const accepted = Array.from({ length: 20 }, () => queue.enqueue(frameOf(1)));
    expect(accepted.filter(Boolean)).toHaveLength(10);
    expect(queue.queuedFrames).toBe(10);
  });

  it('polls the buffer when bufferedamountlow never fires (some Node WebRTC stacks)', async () => {
    const { channel, clock, queue } = setup();
    queue.enqueue(frameOf(900));
    const before = channel.sent.length;
    channel.drain(false);
    expect(channel.sent.length).toBe(before);
    await clock.advance(10);
    expect(channel.sent.length).toBeGreaterThan(before);
  });

  it('reports a throwing channel once and keeps the rest queued for close to count', () => {
    const { channel, queue, failures } = setup();
    channel.failWith = new Error('closing');
    expect(queue.enqueue(frameOf(10))).toBe(true);
    expect(failures).toHaveLength(1);
    expect(queue.close()).toBe(1);
    expect(queue.close()).toBe(0);
    expect(channel.listenerCount).toBe(0);
    expect(queue.enqueue(frameOf(10))).toBe(false);
  });

  it('holds at most the high-water mark in the browser and its own bound in the queue, under a flood', () => {
    const { channel, queue } = setup({ queueBytes: 2000, maxQueuedFrames: 1000 });
    let accepted = 0;
    for (let index = 0; index < 500; index++) if (queue.enqueue(frameOf(150, index))) accepted++;
    expect(channel.bufferedAmount).toBeLessThan(300 + 100);
    expect(queue.queuedBytes).toBeLessThanOrEqual(2000);
    expect(accepted).toBeLessThan(500);
  });
});

/** The frames a bundling queue sent, whichever way each message carried them. */
function unbundle(chunks: readonly Uint8Array[]): Uint8Array[] {
  const reassembler = createReassembler({ maxFrameBytes: 100_000, allowMultipleChunks: true });
  const frames: Uint8Array[] = [];
  for (const chunk of chunks) {
    if (chunk[0] === chunkKind.bundle) {
      const parts = splitBundle(chunk, 100_000);
      expect(parts).not.toBeNull();
      frames.push(...(parts ?? []));
      continue;
    }
    const result = reassembler.accept(chunk);
    expect(result.dropped).toEqual([]);
    if (result.frame !== null) frames.push(result.frame);
  }
  return frames;
}

const microtask = (): Promise<void> => Promise.resolve();

describe('send queue with bundling', () => {
  it('sends nothing synchronously, then packs the frames queued meanwhile into one bundle', async () => {
    const { channel, queue } = setup({ bundle: true });
    const frames = [frameOf(10, 1), frameOf(0), frameOf(20, 2), frameOf(5, 3)];
    for (const frame of frames) expect(queue.enqueue(frame)).toBe(true);
    expect(channel.sent).toEqual([]);
    expect(queue.queuedFrames).toBe(4);
    expect(queue.queuedBytes).toBe(35);
    await microtask();
    expect(channel.sent).toEqual([encodeBundle(frames)]);
    expect(queue.queuedFrames).toBe(0);
    expect(queue.queuedBytes).toBe(0);
  });

  it('sends a single queued frame as a whole message, not a bundle of one', async () => {
    const { channel, queue } = setup({ bundle: true });
    queue.enqueue(frameOf(10));
    await microtask();
    expect(channel.sent).toEqual([encodeChunk(frameOf(10), 0, 100).chunk]);
    expect(channel.sent[0]?.[0]).toBe(chunkKind.whole);
  });

  it('starts a new bundle when the next frame would pass the bundle capacity, never over the chunk size', async () => {
    const { channel, queue } = setup({ bundle: true, maxQueuedFrames: 100 });
    expect(bundleCapacity(100)).toBe(99);
    // 30 bytes each take 32 in a bundle: three fit in 99, a fourth does not.
    const frames = Array.from({ length: 7 }, (_, index) => frameOf(30, index));
    for (const frame of frames) queue.enqueue(frame);
    await microtask();
    expect(channel.sent.map((chunk) => chunk[0])).toEqual([chunkKind.bundle, chunkKind.bundle, chunkKind.whole]);
    expect(channel.sent[0]).toEqual(encodeBundle(frames.slice(0, 3)));
    expect(channel.sent[1]).toEqual(encodeBundle(frames.slice(3, 6)));
    expect(channel.sent.every((chunk) => chunk.length <= 100)).toBe(true);
    expect(unbundle(channel.sent)).toEqual(frames);
    expect(queue.queuedBytes).toBe(0);
  });

  it('sends frames too big for a bundle as before (whole or chunked), in order with bundled ones', async () => {
    const { channel, queue } = setup({ bundle: true, highWaterMarkBytes: 10_000 });
    const frames = [frameOf(4, 1), frameOf(6, 2), frameOf(98, 3), frameOf(250, 4), frameOf(3, 5), frameOf(8, 6)];
    for (const frame of frames) queue.enqueue(frame);
    await microtask();
    expect(channel.sent.map((chunk) => chunk[0])).toEqual([
      chunkKind.bundle, // 4 + 6
      chunkKind.whole, // 98: bundled it would take 100 > 99
      chunkKind.first, // 250: three chunks
      chunkKind.continuation,
      chunkKind.continuation,
      chunkKind.bundle, // 3 + 8
    ]);
    expect(unbundle(channel.sent)).toEqual(frames);
    expect(queue.queuedFrames).toBe(0);
    expect(queue.queuedBytes).toBe(0);
  });

  it('copies at enqueue: the caller may reuse its buffer before the microtask sends it', async () => {
    const { channel, queue } = setup({ bundle: true });
    const buffer = frameOf(10, 1);
    const expected = [buffer.slice()];
    queue.enqueue(buffer);
    buffer.set(frameOf(10, 50));
    expected.push(buffer.slice());
    queue.enqueue(buffer);
    buffer.fill(0);
    await microtask();
    expect(unbundle(channel.sent)).toEqual(expected);
  });

  it('schedules one pump per burst, and a later burst gets its own', async () => {
    const { channel, queue } = setup({ bundle: true });
    queue.enqueue(frameOf(3, 1));
    queue.enqueue(frameOf(3, 2));
    await microtask();
    expect(channel.sent).toHaveLength(1);
    queue.enqueue(frameOf(3, 3));
    queue.enqueue(frameOf(3, 4));
    await microtask();
    expect(channel.sent).toHaveLength(2);
    expect(unbundle(channel.sent)).toEqual([1, 2, 3, 4].map((seed) => frameOf(3, seed)));
  });

  it('reports a throwing channel once per attempt and does not spin; close counts what is left', async () => {
    const { channel, clock, queue, failures } = setup({ bundle: true });
    channel.failWith = new Error('closing');
    queue.enqueue(frameOf(3, 1));
    queue.enqueue(frameOf(3, 2));
    await microtask();
    expect(failures).toHaveLength(1);
    expect(channel.sent).toEqual([]);
    await clock.advance(1_000); // no poll timer armed by a failure: nothing retries by itself
    expect(failures).toHaveLength(1);
    expect(queue.queuedFrames).toBe(2);
    expect(queue.close()).toBe(2);
    expect(queue.queuedBytes).toBe(0);
  });

  it('a single frame that throws is reported once too', async () => {
    const { channel, queue, failures } = setup({ bundle: true });
    channel.failWith = new Error('closing');
    queue.enqueue(frameOf(3));
    await microtask();
    expect(failures).toHaveLength(1);
    expect(queue.queuedFrames).toBe(1);
  });

  it('stops bundling at the high-water mark and resumes on bufferedamountlow, in order', async () => {
    const { channel, queue } = setup({ bundle: true, highWaterMarkBytes: 150, maxQueuedFrames: 100 });
    const frames = Array.from({ length: 12 }, (_, index) => frameOf(30, index));
    for (const frame of frames) queue.enqueue(frame);
    await microtask();
    // Each bundle of three is 97 bytes: the second lifts the buffer over 150, and sending stops.
    expect(channel.sent).toHaveLength(2);
    expect(channel.bufferedAmount).toBeGreaterThanOrEqual(150);
    expect(queue.queuedFrames).toBe(6);
    const sent = channel.sent.splice(0);
    channel.drain();
    expect(channel.sent).toHaveLength(2);
    sent.push(...channel.sent.splice(0));
    expect(queue.queuedFrames).toBe(0);
    expect(unbundle(sent)).toEqual(frames);
  });

  it('sends nothing at all while the channel is already over the high-water mark; the poll resumes it', async () => {
    const { channel, clock, queue } = setup({ bundle: true });
    channel.bufferedAmount = 500;
    queue.enqueue(frameOf(3, 1));
    queue.enqueue(frameOf(3, 2));
    await microtask();
    expect(channel.sent).toEqual([]);
    channel.drain(false);
    await clock.advance(10);
    expect(unbundle(channel.sent)).toEqual([frameOf(3, 1), frameOf(3, 2)]);
  });

  it('sends nothing after close, even when the pump was already scheduled', async () => {
    const { channel, queue } = setup({ bundle: true });
    queue.enqueue(frameOf(3, 1));
    queue.enqueue(frameOf(3, 2));
    expect(queue.close()).toBe(2);
    await microtask();
    expect(channel.sent).toEqual([]);
  });
});

describe('data path bundles', () => {
  function dataPath() {
    const limits = resolveWebRtcTransportLimits({ chunkBytes: 100, maxFrameBytes: 1000 });
    const control = new FakeChannel();
    const bulk = new FakeChannel();
    const counters = createCounters();
    const delivered: Uint8Array[] = [];
    const path = createDataPath({ control, bulk, limits, clock: new VirtualClock(), counters, deliver: (frame) => delivered.push(frame), onSendFailure: () => {} });
    return { path, control, bulk, counters, delivered };
  }

  it('delivers every frame of a bundle on the control channel, each a copy of its own, and counts them', () => {
    const { path, counters, delivered } = dataPath();
    const frames = [frameOf(4, 1), frameOf(0), frameOf(9, 2)];
    const bundle = encodeBundle(frames);
    path.receive('control', bundle);
    expect(delivered).toEqual(frames);
    expect(counters.framesReceived).toBe(3);
    expect(counters.bytesReceived).toBe(13);
    expect(counters.framesDroppedMalformed).toBe(0);
    // Copies: neither the message nor another delivered frame shares their memory.
    bundle.fill(0xee);
    expect(delivered).toEqual(frames);
    const buffers = new Set(delivered.map((frame) => frame.buffer));
    expect(buffers.size).toBe(3);
  });

  it('counts data channel messages both ways: a bundle is one, a large frame one per chunk', async () => {
    const { path, control, bulk, counters } = dataPath();
    for (const frame of [frameOf(4, 1), frameOf(5, 2), frameOf(6, 3)]) path.send(frame);
    path.send(frameOf(250, 4));
    await microtask();
    const sent = [...control.sent, ...bulk.sent];
    expect(control.sent).toHaveLength(1);
    expect(bulk.sent.length).toBeGreaterThan(1);
    expect(counters.messagesSent).toBe(sent.length);
    expect(counters.framesSent).toBe(4);
    const receiver = dataPath();
    for (const message of control.sent) receiver.path.receive('control', message);
    for (const message of bulk.sent) receiver.path.receive('bulk', message);
    expect(receiver.counters.messagesReceived).toBe(sent.length);
    expect(receiver.counters.framesReceived).toBe(4);
  });

  it('drops and counts a malformed bundle, delivering none of it', () => {
    const { path, counters, delivered } = dataPath();
    const valid = encodeBundle([frameOf(4), frameOf(5)]);
    path.receive('control', valid.slice(0, valid.length - 1));
    path.receive('control', encodeBundle([frameOf(4)]));
    path.receive('control', encodeBundle([frameOf(4), frameOf(1001)]));
    expect(delivered).toEqual([]);
    expect(counters.framesDroppedMalformed).toBe(3);
    expect(counters.framesReceived).toBe(0);
  });

  it('treats a bundle on the bulk channel as malformed', () => {
    const { path, counters, delivered } = dataPath();
    path.receive('bulk', encodeBundle([frameOf(4), frameOf(5)]));
    expect(delivered).toEqual([]);
    expect(counters.framesDroppedMalformed).toBe(1);
  });

  it('bundles small frames on the control channel and a peer data path receives them all', async () => {
    const sender = dataPath();
    const receiver = dataPath();
    const frames = [frameOf(10, 1), frameOf(20, 2), frameOf(30, 3), frameOf(500, 4)];
    for (const frame of frames) expect(sender.path.send(frame)).toBe(true);
    await microtask();
    expect(sender.control.sent).toEqual([encodeBundle(frames.slice(0, 3))]);
    expect(sender.bulk.sent.map((chunk) => chunk[0])).toContain(chunkKind.first);
    for (const chunk of sender.control.sent) receiver.path.receive('control', chunk);
    for (const chunk of sender.bulk.sent) receiver.path.receive('bulk', chunk);
    expect(receiver.delivered).toEqual(frames);
    expect(receiver.counters.framesReceived).toBe(4);
  });
});
