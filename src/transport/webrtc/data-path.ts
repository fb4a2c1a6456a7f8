// The data path of one authenticated connection: frames out through two bounded send queues,
// chunks in through two reassemblers, `from` fixed by the caller (the authenticated peer).
//
// Why two data channels rather than one channel with a scheduler: whatever is already handed to
// the browser (up to the high-water mark, 1 MiB by default) cannot be overtaken on one ordered
// channel, so a scheduler on one channel bounds a heartbeat's wait only by keeping that buffer
// small, which costs bulk throughput (the buffer is what keeps the link busy). With two channels
// the browser's SCTP stack schedules the two streams itself (Chromium's dcSCTP round-robins
// between streams message by message), so a small frame waits at most about one 16 KiB bulk
// message even while the bulk channel has a full buffer; on an SCTP stack that did not
// interleave, the wait would still be bounded by the bulk high-water mark. The price: a small
// frame can overtake a large one sent earlier to the same peer (order holds within each class),
// which Raft tolerates (it already handles reordering networks; the snapshot receiver re-acks
// out-of-order chunks).
import { copyBytes } from '../../core/bytes.ts';
import type { Clock } from '../../core/config.ts';
import type { WebRtcTransportCounters } from './counters.ts';
import { chunkKind, createReassembler, splitBundle, wholeFrameCapacity, type Reassembler } from './framing.ts';
import type { WebRtcTransportLimits } from './limits.ts';
import { createSendQueue, type SendChannel, type SendQueue } from './send-queue.ts';

export interface DataPathOptions {
  readonly control: SendChannel;
  readonly bulk: SendChannel;
  readonly limits: WebRtcTransportLimits;
  readonly clock: Clock;
  readonly counters: WebRtcTransportCounters;
  readonly deliver: (frame: Uint8Array) => void;
  readonly onSendFailure: (error: unknown) => void;
}

export interface DataPath {
  /** Queues a frame (the caller checked its size); false when that queue is full. */
  send(frame: Uint8Array): boolean;
  receive(channel: 'control' | 'bulk', data: unknown): void;
  /** Stops both queues; returns how many frames were still queued. */
  close(): number;
}

/**
 * A message's bytes, owned by us: browsers hand over a fresh ArrayBuffer per message (kept as
 * is); some Node stacks hand over a view that may share a pooled buffer (copied, since a worker
 * keeps the buffer of a message that arrives before the peer is verified, data-channel-guest.ts).
 */
export function messageBytes(data: unknown): Uint8Array | null {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  return null;
}

export function createDataPath(options: DataPathOptions): DataPath {
  const { limits, counters } = options;
  const queue = (channel: SendChannel, queueBytes: number, bundle: boolean): SendQueue =>
    createSendQueue({
      bundle,
      onMessageSent: () => {
        counters.messagesSent++;
      },
      channel,
      clock: options.clock,
      chunkBytes: limits.chunkBytes,
      queueBytes,
      maxQueuedFrames: limits.maxQueuedFrames,
      highWaterMarkBytes: limits.highWaterMarkBytes,
      lowWaterMarkBytes: limits.lowWaterMarkBytes,
      drainPollMs: limits.drainPollMs,
      onSendFailure: options.onSendFailure,
    });
  const control = queue(options.control, limits.controlQueueBytes, true);
  const bulk = queue(options.bulk, limits.bulkQueueBytes, false);
  const reassemblers: Record<'control' | 'bulk', Reassembler> = {
    control: createReassembler({ maxFrameBytes: limits.maxFrameBytes, allowMultipleChunks: false }),
    bulk: createReassembler({ maxFrameBytes: limits.maxFrameBytes, allowMultipleChunks: true }),
  };
  const smallFrameBytes = wholeFrameCapacity(limits.chunkBytes);

  return {
    send(frame) {
      // A frame that fits in one message is control traffic; anything larger streams as bulk.
      const accepted = (frame.length <= smallFrameBytes ? control : bulk).enqueue(frame);
      if (accepted) {
        counters.framesSent++;
        counters.bytesSent += frame.length;
      }
      return accepted;
    },
    receive(channel, data) {
      const chunk = messageBytes(data);
      if (chunk === null) {
        counters.framesDroppedMalformed++;
        return;
      }
      counters.messagesReceived++;
      if (channel === 'control' && chunk[0] === chunkKind.bundle) {
        const frames = splitBundle(chunk, limits.maxFrameBytes);
        if (frames === null) {
          counters.framesDroppedMalformed++;
          return;
        }
        for (const frame of frames) {
          counters.framesReceived++;
          counters.bytesReceived += frame.length;
          // A copy of its own, as a whole frame gets: receivers may keep parts of it for long.
          options.deliver(copyBytes(frame));
        }
        return;
      }
      const result = reassemblers[channel].accept(chunk);
      counters.framesDroppedMalformed += result.dropped.length;
      if (result.frame === null) return;
      counters.framesReceived++;
      counters.bytesReceived += result.frame.length;
      options.deliver(result.frame);
    },
    close() {
      reassemblers.control.reset();
      reassemblers.bulk.reset();
      return control.close() + bulk.close();
    },
  };
}
