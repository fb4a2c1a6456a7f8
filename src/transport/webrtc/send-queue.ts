// A bounded send queue in front of one data channel. Chunks are handed to the browser only
// while the channel's `bufferedAmount` is below a high-water mark, and the queue resumes when
// `bufferedamountlow` fires (or a poll sees the buffer drained: some Node WebRTC stacks never fire
// the event). So the browser never holds more than about the high-water mark (Chromium throws
// "send queue is full" at 16 MiB), and this queue never holds more than its byte and frame bounds:
// a frame that does not fit is refused and the caller counts the drop (Raft retransmits).
import { copyBytes } from '../../core/bytes.ts';
import type { Clock } from '../../core/config.ts';
import { bundleCapacity, bundledBytes, encodeBundle, encodeChunk } from './framing.ts';

/** What the queue needs of an RTCDataChannel (a fake in unit tests). */
export interface SendChannel {
  readonly bufferedAmount: number;
  bufferedAmountLowThreshold: number;
  send(data: Uint8Array<ArrayBuffer>): void;
  addEventListener(type: 'bufferedamountlow', listener: () => void): void;
  removeEventListener(type: 'bufferedamountlow', listener: () => void): void;
}

export interface SendQueueOptions {
  readonly channel: SendChannel;
  readonly clock: Clock;
  readonly chunkBytes: number;
  readonly queueBytes: number;
  readonly maxQueuedFrames: number;
  readonly highWaterMarkBytes: number;
  readonly lowWaterMarkBytes: number;
  readonly drainPollMs: number;
  /** `send` threw (the channel is closing, or its buffer overflowed anyway): the link is broken. */
  readonly onSendFailure: (error: unknown) => void;
  /**
   * Sends on a microtask rather than at once, packing the small frames queued in the meantime
   * into bundle messages (framing.ts says why). For the control channel, whose frames are small.
   */
  readonly bundle?: boolean;
  /** Called for each message handed to the channel (the transport counts them). */
  readonly onMessageSent?: () => void;
}

export interface SendQueue {
  /** Queues a frame and sends what the channel takes now; false when the queue is full (dropped). */
  enqueue(frame: Uint8Array): boolean;
  readonly queuedBytes: number;
  readonly queuedFrames: number;
  /** Empties the queue and stops listening; returns how many frames were discarded. */
  close(): number;
}

interface QueuedFrame {
  bytes: Uint8Array;
  /** Bytes already handed to the channel. */
  offset: number;
}

export function createSendQueue(options: SendQueueOptions): SendQueue {
  const { channel, clock } = options;
  const frames: (QueuedFrame | undefined)[] = [];
  let head = 0;
  let queuedBytes = 0;
  let pollTimer: unknown = null;
  let closed = false;

  channel.bufferedAmountLowThreshold = options.lowWaterMarkBytes;

  const onDrained = (): void => pump();
  channel.addEventListener('bufferedamountlow', onDrained);

  function sendChunk(frame: QueuedFrame): boolean {
    const { chunk, consumed } = encodeChunk(frame.bytes, frame.offset, options.chunkBytes);
    try {
      channel.send(chunk);
      options.onMessageSent?.();
    } catch (error) {
      options.onSendFailure(error);
      return false;
    }
    frame.offset += consumed;
    queuedBytes -= consumed;
    return true;
  }

  const capacity = bundleCapacity(options.chunkBytes);
  let pumpScheduled = false;

  /** Sends the frames from head on that fit one bundle with it, when there are two or more. */
  function sendBundle(): 'sent' | 'failed' | 'notBundled' {
    let end = head;
    let bytes = 0;
    while (end < frames.length) {
      const frame = frames[end];
      if (frame === undefined || frame.offset !== 0 || bytes + bundledBytes(frame.bytes) > capacity) break;
      bytes += bundledBytes(frame.bytes);
      end += 1;
    }
    if (end - head < 2) return 'notBundled';
    const bundled = frames.slice(head, end).map((frame) => (frame as QueuedFrame).bytes);
    try {
      channel.send(encodeBundle(bundled));
      options.onMessageSent?.();
    } catch (error) {
      options.onSendFailure(error);
      return 'failed';
    }
    for (; head < end; head += 1) {
      queuedBytes -= (frames[head] as QueuedFrame).bytes.length;
      frames[head] = undefined;
    }
    return 'sent';
  }

  /** Sends while the channel takes it; with `keepBelowBytes`, stops once fewer bytes are queued. */
  function pump(keepBelowBytes = 0): void {
    if (closed) return;
    while (head < frames.length && channel.bufferedAmount < options.highWaterMarkBytes && (keepBelowBytes === 0 || queuedBytes >= keepBelowBytes)) {
      const bundled = options.bundle === true ? sendBundle() : 'notBundled';
      if (bundled === 'failed') return;
      if (bundled === 'sent') continue;
      const frame = frames[head];
      if (frame === undefined || !sendChunk(frame)) return;
      // Done once its last chunk is out (a zero-length frame is one header-only message).
      if (frame.offset >= frame.bytes.length) frames[head++] = undefined;
    }
    compact();
    if (head < frames.length && pollTimer === null && !closed) {
      pollTimer = clock.setTimeout(() => {
        pollTimer = null;
        pump();
      }, options.drainPollMs);
    }
  }

  /** Sent frames leave a hole at the front; reclaim it in amortised O(1). */
  function compact(): void {
    if (head === frames.length) {
      frames.length = 0;
      head = 0;
    } else if (head > 1024 && head * 2 > frames.length) {
      frames.splice(0, head);
      head = 0;
    }
  }

  return {
    enqueue(bytes) {
      if (closed) return false;
      const pending = frames.length - head;
      if (pending >= options.maxQueuedFrames) return false;
      // Always admit into an empty queue, so a frame larger than the queue bound still goes out.
      if (pending > 0 && queuedBytes + bytes.length > options.queueBytes) return false;
      const frame: QueuedFrame = { bytes, offset: 0 };
      frames.push(frame);
      queuedBytes += bytes.length;
      if (options.bundle === true) {
        // Kept until the microtask: copy it, the caller may reuse its buffer.
        frame.bytes = copyBytes(bytes);
        // A full bundle's worth goes now: a long burst must not fill the queue's bounds (and be
        // dropped) while the channel itself would take it.
        if (queuedBytes >= capacity) {
          // Full bundles only: the rest waits for the microtask and the frames still to come.
          pump(capacity);
          return true;
        }
        if (!pumpScheduled) {
          pumpScheduled = true;
          queueMicrotask(() => {
            pumpScheduled = false;
            pump();
          });
        }
        return true;
      }
      pump();
      // Whatever could not go out now is kept: copy it, the caller may reuse its buffer.
      if (frames[frames.length - 1] === frame && frame.offset < bytes.length) frame.bytes = copyBytes(bytes);
      return true;
    },
    get queuedBytes() {
      return queuedBytes;
    },
    get queuedFrames() {
      return frames.length - head;
    },
    close() {
      if (closed) return 0;
      closed = true;
      const discarded = frames.length - head;
      frames.length = 0;
      head = 0;
      queuedBytes = 0;
      if (pollTimer !== null) clock.clearTimeout(pollTimer);
      pollTimer = null;
      channel.removeEventListener('bufferedamountlow', onDrained);
      return discarded;
    },
  };
}
