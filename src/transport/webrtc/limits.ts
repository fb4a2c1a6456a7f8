// Every bound of the WebRTC transport, in one place and validated together (DESIGN.md "put a
// bound on everything"). Defaults come from what ENVIRONMENT.md measured in headless Chromium:
// a 1 MiB high-water mark keeps a data channel at full speed, and 16 KiB is the message size
// every browser pair accepts (Chromium's maxMessageSize is 256 KiB, older Firefox 64 KiB).
import { codecLimits } from '../../codec/limits.ts';

export interface WebRtcTransportLimits {
  /** Bytes of one data channel message, header included; frames larger than one are chunked. */
  readonly chunkBytes: number;
  /** Largest frame `send` accepts and a peer may reassemble; larger ones are dropped and counted. */
  readonly maxFrameBytes: number;
  /** Bytes queued per peer on the control channel before frames are dropped (Raft retransmits). */
  readonly controlQueueBytes: number;
  /** Bytes queued per peer on the bulk channel; a frame is always admitted into an empty queue. */
  readonly bulkQueueBytes: number;
  /** Frames queued per peer and channel, so a flood of tiny frames is bounded too. */
  readonly maxQueuedFrames: number;
  /** Stop handing chunks to a channel while its `bufferedAmount` is at least this. */
  readonly highWaterMarkBytes: number;
  /** `bufferedAmountLowThreshold`: resume when the browser's buffer drains below this. */
  readonly lowWaterMarkBytes: number;
  /** While blocked, also poll `bufferedAmount` this often (some Node WebRTC stacks never fire bufferedamountlow). */
  readonly drainPollMs: number;
  /** A connection attempt (offer to authenticated) that takes longer is abandoned and retried. */
  readonly connectTimeoutMs: number;
  /** Reconnect backoff: first delay, doubled per failed attempt, capped (full jitter). */
  readonly reconnectDelayMinMs: number;
  readonly reconnectDelayMaxMs: number;
  /** After ICE reports `disconnected`, how long an ICE restart may take before a full reconnect. */
  readonly iceRestartTimeoutMs: number;
  /**
   * Signals (offers, answers, candidates) accepted from a peer per connection attempt, where each
   * ICE restart is an attempt of its own; more are dropped and counted (signal-budget.ts).
   */
  readonly maxSignalsPerAttempt: number;
  /**
   * ICE restarts per connection and minute (started as offerer, or accepted as answerer); more are
   * refused (a peer's request or offer counted as a dropped signal), and a connection whose ICE
   * does not recover then is rebuilt after `iceRestartTimeoutMs`.
   */
  readonly maxIceRestartsPerMinute: number;
}

export const defaultWebRtcTransportLimits: WebRtcTransportLimits = {
  chunkBytes: 16 * 1024,
  maxFrameBytes: codecLimits.maxFrameBytes,
  controlQueueBytes: 1024 * 1024,
  bulkQueueBytes: 16 * 1024 * 1024,
  maxQueuedFrames: 4096,
  highWaterMarkBytes: 1024 * 1024,
  lowWaterMarkBytes: 256 * 1024,
  drainPollMs: 25,
  connectTimeoutMs: 20_000,
  reconnectDelayMinMs: 250,
  reconnectDelayMaxMs: 10_000,
  iceRestartTimeoutMs: 5_000,
  maxSignalsPerAttempt: 256,
  // One every 5 s on average, the default iceRestartTimeoutMs: a connection that needs more is
  // better rebuilt, and a peer (or whoever signals under its id) cannot make us restart without end.
  maxIceRestartsPerMinute: 12,
};

/** Bounds of the channels handed to an engine's worker (data-channel-hand-off.ts); not options. */
export const handOffLimits = {
  /**
   * Messages the worker holds per connection until the page says the peer is verified (each at
   * most one chunk: a legitimate early message is a chunk or a bundle); more are dropped and counted.
   */
  maxEarlyMessages: 64,
  /** How often the worker reports changed counters to the page (whose `counters` lag by this much). */
  counterReportIntervalMs: 250,
  /**
   * Channel pairs one connection may open after its first (ids 2g+2 and 2g+3 for generation g):
   * an engine that restarts gets a fresh pair on the live connection this many times, then the
   * connection closes and the next one starts over. SCTP stream ids run to 65534 in principle; browsers and node-datachannel allow
   * about 1024, and 255 generations stay within ids 0..513.
   */
  maxEngineChannelGenerations: 255,
  /**
   * After a worker lost a pair in use (a send failed, or a channel closed under it), the page waits
   * this long before it gets a fresh one: long enough for the word of a deliberate change to arrive
   * first (a peer's worker withdrawing, or the initiator's newer pair), whose channels close on
   * their own schedule. Frames go through the page meanwhile.
   */
  lostChannelsRenewalMinMs: 200,
  /** Each further loss in a row doubles the wait, up to this: a pair that keeps failing costs little. */
  lostChannelsRenewalMaxMs: 60_000,
  /** A pair that lasted this long before it was lost starts the doubling over. */
  lostChannelsStableMs: 60_000,
} as const;

function requireRange(name: keyof WebRtcTransportLimits, value: number, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`WebRTC transport limit ${name} must be an integer in ${min} .. ${max}, got ${value}`);
  }
}

const hourMs = 3_600_000;

export function resolveWebRtcTransportLimits(overrides: Partial<WebRtcTransportLimits> = {}): WebRtcTransportLimits {
  // A misspelt limit would otherwise be ignored in silence, its default in force.
  for (const key of Object.keys(overrides)) {
    if (!Object.hasOwn(defaultWebRtcTransportLimits, key)) throw new RangeError(`unknown WebRTC transport limit ${JSON.stringify(key)}; the limits are ${Object.keys(defaultWebRtcTransportLimits).join(', ')}`);
  }
  const limits: WebRtcTransportLimits = { ...defaultWebRtcTransportLimits, ...overrides };
  // 64 KiB is the largest message every WebRTC implementation accepts; a chunk needs room for its header.
  requireRange('chunkBytes', limits.chunkBytes, 64, 64 * 1024);
  requireRange('maxFrameBytes', limits.maxFrameBytes, 1, codecLimits.maxFrameBytes);
  requireRange('controlQueueBytes', limits.controlQueueBytes, limits.chunkBytes, 1024 * 1024 * 1024);
  requireRange('bulkQueueBytes', limits.bulkQueueBytes, limits.chunkBytes, 1024 * 1024 * 1024);
  requireRange('maxQueuedFrames', limits.maxQueuedFrames, 1, 1_000_000);
  // Chromium throws "send queue is full" at 16 MiB buffered: stay well below it.
  requireRange('highWaterMarkBytes', limits.highWaterMarkBytes, limits.chunkBytes, 8 * 1024 * 1024);
  requireRange('lowWaterMarkBytes', limits.lowWaterMarkBytes, 0, limits.highWaterMarkBytes - 1);
  requireRange('drainPollMs', limits.drainPollMs, 1, 10_000);
  requireRange('connectTimeoutMs', limits.connectTimeoutMs, 100, hourMs);
  requireRange('reconnectDelayMinMs', limits.reconnectDelayMinMs, 1, hourMs);
  requireRange('reconnectDelayMaxMs', limits.reconnectDelayMaxMs, limits.reconnectDelayMinMs, hourMs);
  requireRange('iceRestartTimeoutMs', limits.iceRestartTimeoutMs, 100, hourMs);
  requireRange('maxSignalsPerAttempt', limits.maxSignalsPerAttempt, 8, 100_000);
  requireRange('maxIceRestartsPerMinute', limits.maxIceRestartsPerMinute, 1, 1_000);
  return limits;
}
