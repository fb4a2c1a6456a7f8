import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../testing/virtual-clock.ts';
import { createReassembler } from './framing.ts';
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
