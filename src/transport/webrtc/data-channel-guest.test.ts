// The worker's end of the data channel hand-off (data-channel-guest.ts), over FakeChannel pairs
// and a virtual clock for the counters report: what it holds before the page says the peer is
// verified, when it sends itself and when the caller must go through the page, which messages of
// the page it ignores, what it tells the page (channels taken, counters) and when its report
// timer runs.
import { afterEach, describe, expect, it } from 'vitest';
import { nodeId, type NodeId, type RaftEnvelope } from '../../core/types.ts';
import { VirtualClock } from '../../testing/virtual-clock.ts';
import type { WebRtcTransportCounters } from './counters.ts';
import { createDataChannelGuest, type DataChannelGuest } from './data-channel-guest.ts';
import type { DataChannelGuestMessage, DataChannelHandOff } from './data-channel-hand-off.ts';
import { FakeChannel } from './fake-connection.test-support.ts';
import { chunkKind, createReassembler, encodeChunk, splitBundle } from './framing.ts';
import { handOffLimits, resolveWebRtcTransportLimits, type WebRtcTransportLimits } from './limits.ts';

const peerB = nodeId('b');
const limits = resolveWebRtcTransportLimits();
const { maxEarlyMessages, counterReportIntervalMs: reportIntervalMs } = handOffLimits;
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const step of cleanup.splice(0)) step();
});

/**
 * FakeChannel delivers on a zero-delay real timer, queued from the send queue's microtask: this
 * lets every message in flight arrive. Rounds of zero-delay timers, not a 5 ms wait: a timer runs
 * after every zero-delay timer queued before it, however loaded the machine, whereas a loaded
 * machine could run the send queue's microtask (and queue the delivery) more than 5 ms after the
 * wait began, and the wait ended first (seen once under load).
 */
const settle = async (): Promise<void> => {
  for (let round = 0; round < 10; round++) await new Promise((resolve) => setTimeout(resolve, 0));
};

function channelPair(open = true): { readonly here: FakeChannel; readonly there: FakeChannel } {
  const here = new FakeChannel();
  const there = new FakeChannel();
  here.other = there;
  there.other = here;
  if (open) {
    here.open();
    there.open();
  }
  return { here, there };
}

function createTestGuest(self = nodeId('a')) {
  const clock = new VirtualClock();
  const delivered: RaftEnvelope[] = [];
  /** Everything said to the page; `reports` are the counters reports among them. */
  const said: DataChannelGuestMessage[] = [];
  const reports: WebRtcTransportCounters[] = [];
  const guest = createDataChannelGuest({
    clock,
    deliver: (envelope) => delivered.push(envelope),
    report: (message) => {
      said.push(message);
      if (message.type === 'dataChannelCounters') reports.push(message.counters);
    },
  });
  cleanup.push(() => guest.close());
  return { self, clock, delivered, said, reports, guest, received: () => delivered.map(({ from, bytes }) => [from, [...bytes]]) };
}

/** Hands `guest` a fresh pair of channels for `peer`; the `remote` ends are the peer's. */
function handOver(guest: DataChannelGuest, options: { peer?: NodeId; session?: string; limits?: WebRtcTransportLimits; open?: boolean } = {}) {
  const control = channelPair(options.open ?? true);
  const bulk = channelPair(options.open ?? true);
  const session = options.session ?? 'session-1';
  guest.accept({ type: 'dataChannels', peer: options.peer ?? peerB, session, control: control.here, bulk: bulk.here, limits: options.limits ?? limits });
  return { session, control: control.here, bulk: bulk.here, remoteControl: control.there, remoteBulk: bulk.there };
}

const allow = (session: string, deliver: boolean, send: boolean, peer = peerB): DataChannelHandOff => ({ type: 'dataChannelsState', peer, session, deliver, send });
const closed = (session: string, peer = peerB): DataChannelHandOff => ({ type: 'dataChannelsClosed', peer, session });

/** Sends `frame` as the peer's page or worker would: one `whole` chunk. */
const sendWhole = (channel: FakeChannel, frame: readonly number[]): void => channel.send(encodeChunk(Uint8Array.from(frame), 0, limits.chunkBytes).chunk);

/** The frames a channel carried, decoded (bundles split, chunks reassembled). */
function framesSentOn(channel: FakeChannel): number[][] {
  const reassembler = createReassembler({ maxFrameBytes: limits.maxFrameBytes, allowMultipleChunks: true });
  const frames: number[][] = [];
  for (const message of channel.sent) {
    if (typeof message === 'string') continue;
    if (message[0] === chunkKind.bundle) frames.push(...(splitBundle(message, limits.maxFrameBytes) ?? []).map((frame) => [...frame]));
    else {
      const { frame } = reassembler.accept(message);
      if (frame !== null) frames.push([...frame]);
    }
  }
  return frames;
}

describe('data channel guest: receiving', () => {
  it('holds what arrives before the page allows delivery, then delivers it in order, from the peer', async () => {
    const { guest, received } = createTestGuest();
    const link = handOver(guest);
    sendWhole(link.remoteControl, [1]);
    sendWhole(link.remoteBulk, [2, 2]);
    sendWhole(link.remoteControl, [3]);
    await settle();
    guest.accept(allow(link.session, false, true));
    expect(received()).toEqual([]);
    guest.accept(allow(link.session, true, false));
    expect(received()).toEqual([
      [peerB, [1]],
      [peerB, [2, 2]],
      [peerB, [3]],
    ]);
    sendWhole(link.remoteControl, [4]);
    await settle();
    expect(received().at(-1)).toEqual([peerB, [4]]);
  });

  it(`holds at most ${maxEarlyMessages} early messages, and drops and counts the rest as unauthenticated`, async () => {
    const { guest, clock, delivered, reports } = createTestGuest();
    const link = handOver(guest);
    for (let index = 0; index < maxEarlyMessages + 3; index++) sendWhole(link.remoteControl, [index]);
    await settle();
    guest.accept(allow(link.session, true, false));
    expect(delivered.map((envelope) => envelope.bytes[0])).toEqual(Array.from({ length: maxEarlyMessages }, (_, index) => index));
    await clock.advance(reportIntervalMs);
    expect(reports.at(-1)).toMatchObject({ framesDroppedUnauthenticated: 3, framesReceived: maxEarlyMessages });
  });

  it('drops and counts an early message larger than one chunk (an honest peer never sends one), holding one of a chunk', async () => {
    const { guest, clock, delivered, reports } = createTestGuest();
    const link = handOver(guest);
    /** A `whole` message of `bytes` bytes, header included: deliverable, whatever its size. */
    const wholeOf = (bytes: number) => encodeChunk(new Uint8Array(bytes - 1).fill(bytes % 251), 0, bytes).chunk;
    link.remoteBulk.send(wholeOf(limits.chunkBytes + 1));
    link.remoteBulk.send(wholeOf(limits.chunkBytes));
    link.remoteControl.send('not a chunk');
    await settle();
    guest.accept(allow(link.session, true, false));
    expect(delivered.map(({ bytes }) => bytes.length)).toEqual([limits.chunkBytes - 1]);
    await clock.advance(reportIntervalMs);
    expect(reports.at(-1)).toMatchObject({ framesDroppedUnauthenticated: 2, framesReceived: 1 });
  });

  it('two guests exchange small and multi-chunk frames over one channel pair', async () => {
    const here = createTestGuest(nodeId('a'));
    const there = createTestGuest(peerB);
    const control = channelPair();
    const bulk = channelPair();
    here.guest.accept({ type: 'dataChannels', peer: peerB, session: 's', control: control.here, bulk: bulk.here, limits });
    there.guest.accept({ type: 'dataChannels', peer: here.self, session: 's', control: control.there, bulk: bulk.there, limits });
    here.guest.accept(allow('s', true, true));
    there.guest.accept(allow('s', true, true, here.self));
    const large = Uint8Array.from({ length: limits.chunkBytes * 2 + 10 }, (_, index) => index & 0xff);
    expect(here.guest.send(peerB, Uint8Array.of(1, 2))).toBe(true);
    expect(here.guest.send(peerB, large)).toBe(true);
    await settle();
    // Two channels: the large frame may overtake the small one (data-path.ts says why).
    expect(there.delivered.map(({ from, bytes }) => [from, bytes.length]).sort((left, right) => Number(left[1]) - Number(right[1]))).toEqual([
      [here.self, 2],
      [here.self, large.length],
    ]);
    expect(there.delivered.find((envelope) => envelope.bytes.length === large.length)?.bytes).toEqual(large);
    expect(bulk.here.sent.length).toBe(3);
  });
});

describe('data channel guest: sending', () => {
  it('sends only once the page allows it: false before, true after, with the frame framed on the control channel', async () => {
    const { guest } = createTestGuest();
    const link = handOver(guest);
    expect(guest.send(peerB, Uint8Array.of(9))).toBe(false);
    guest.accept(allow(link.session, true, false));
    expect(guest.send(peerB, Uint8Array.of(9))).toBe(false);
    guest.accept(allow(link.session, true, true));
    expect(guest.send(peerB, Uint8Array.of(1, 2, 3))).toBe(true);
    await settle();
    expect(framesSentOn(link.control)).toEqual([[1, 2, 3]]);
    expect(link.control.sent).toEqual([Uint8Array.of(chunkKind.whole, 1, 2, 3)]);
    expect(link.bulk.sent).toEqual([]);
  });

  it('returns false while either channel is not open yet, and for a peer it holds no channels of', () => {
    const { guest } = createTestGuest();
    const link = handOver(guest, { open: false });
    guest.accept(allow(link.session, true, true));
    expect(guest.send(peerB, Uint8Array.of(1))).toBe(false);
    link.control.open();
    expect(guest.send(peerB, Uint8Array.of(1))).toBe(false);
    link.bulk.open();
    expect(guest.send(peerB, Uint8Array.of(1))).toBe(true);
    expect(guest.send(nodeId('c'), Uint8Array.of(1))).toBe(false);
  });

  it('after dataChannelsClosed: send returns false and both channels are closed', () => {
    const { guest } = createTestGuest();
    const link = handOver(guest);
    guest.accept(allow(link.session, true, true));
    guest.accept(closed(link.session));
    expect(guest.send(peerB, Uint8Array.of(1))).toBe(false);
    expect([link.control.readyState, link.bulk.readyState]).toEqual(['closed', 'closed']);
  });

  it('a channel closing (the connection went) closes the link: send falls back to the page', async () => {
    const { guest } = createTestGuest();
    const link = handOver(guest);
    guest.accept(allow(link.session, true, true));
    link.remoteBulk.close();
    await settle();
    expect(guest.send(peerB, Uint8Array.of(1))).toBe(false);
    expect(link.control.closed).toBe(true);
  });

  it('a channel closing under the worker tells the page it lost the pair, once (the page counts it)', async () => {
    const { guest, said } = createTestGuest();
    const link = handOver(guest);
    guest.accept(allow(link.session, true, true));
    link.remoteBulk.close();
    link.remoteControl.close();
    await settle();
    expect(said.filter((message) => message.type === 'dataChannelsLost')).toEqual([{ type: 'dataChannelsLost', peer: peerB, session: link.session }]);
  });

  it('a send that fails tells the page it lost the pair, and later frames go through the page', async () => {
    const { guest, said } = createTestGuest();
    const link = handOver(guest);
    guest.accept(allow(link.session, true, true));
    link.control.send = () => {
      throw new Error('OperationError: the send queue is full');
    };
    expect(guest.send(peerB, Uint8Array.of(1))).toBe(true);
    await settle();
    expect(said.filter((message) => message.type === 'dataChannelsLost')).toEqual([{ type: 'dataChannelsLost', peer: peerB, session: link.session }]);
    expect(guest.send(peerB, Uint8Array.of(2))).toBe(false);
  });

  it('reports no loss of a pair the page released, a newer pair replaced, or the worker closed with itself', async () => {
    const { guest, said } = createTestGuest();
    const released = handOver(guest, { session: 'released' });
    guest.accept(closed(released.session));
    const replaced = handOver(guest, { session: 'replaced' });
    handOver(guest, { session: 'replacing' });
    handOver(guest, { session: 'other', peer: nodeId('c') });
    guest.close();
    await settle();
    expect([released.control.closed, replaced.control.closed]).toEqual([true, true]);
    expect(said.filter((message) => message.type === 'dataChannelsLost')).toEqual([]);
  });

  it('counts a frame over maxFrameBytes as oversized and sends nothing', async () => {
    const { guest, clock, reports } = createTestGuest();
    const link = handOver(guest, { limits: resolveWebRtcTransportLimits({ maxFrameBytes: 100 }) });
    guest.accept(allow(link.session, true, true));
    guest.send(peerB, new Uint8Array(101));
    guest.send(peerB, new Uint8Array(100));
    await settle();
    expect(framesSentOn(link.control)).toEqual([Array.from({ length: 100 }, () => 0)]);
    await clock.advance(reportIntervalMs);
    expect(reports.at(-1)).toMatchObject({ framesDroppedOversized: 1, framesSent: 1, bytesSent: 100 });
  });
});

describe('data channel guest: sessions', () => {
  it('ignores state and closed messages that name an older session', () => {
    const { guest } = createTestGuest();
    const older = handOver(guest, { session: 'older' });
    const newer = handOver(guest, { session: 'newer' });
    guest.accept(allow(older.session, true, true));
    expect(guest.send(peerB, Uint8Array.of(1))).toBe(false);
    guest.accept(allow(newer.session, true, true));
    guest.accept(closed(older.session));
    expect(guest.send(peerB, Uint8Array.of(1))).toBe(true);
  });

  it('a newer session for the same peer replaces the previous pair, closing it', async () => {
    const { guest, received } = createTestGuest();
    const older = handOver(guest, { session: 'older' });
    guest.accept(allow(older.session, true, true));
    const newer = handOver(guest, { session: 'newer' });
    expect([older.control.readyState, older.bulk.readyState]).toEqual(['closed', 'closed']);
    // The new pair starts with nothing allowed, whatever the old one had.
    expect(guest.send(peerB, Uint8Array.of(1))).toBe(false);
    guest.accept(allow(newer.session, true, true));
    expect(guest.send(peerB, Uint8Array.of(2))).toBe(true);
    sendWhole(newer.remoteControl, [3]);
    await settle();
    // The old pair's close events arrive late: they must not close the new link.
    expect(guest.send(peerB, Uint8Array.of(4))).toBe(true);
    await settle();
    expect(framesSentOn(newer.control)).toEqual([[2], [4]]);
    expect(received()).toEqual([[peerB, [3]]]);
  });

  it('tells the page it took each session’s channels when handed them, and nothing of channels it refuses', () => {
    const { guest, said } = createTestGuest();
    const first = handOver(guest, { session: 'first' });
    expect(said).toEqual([{ type: 'dataChannelsTaken', peer: peerB, session: first.session }]);
    handOver(guest, { session: 'invalid', limits: { ...limits, chunkBytes: 10 } });
    const second = handOver(guest, { session: 'second', peer: nodeId('c') });
    expect(said).toEqual([
      { type: 'dataChannelsTaken', peer: peerB, session: first.session },
      { type: 'dataChannelsTaken', peer: nodeId('c'), session: second.session },
    ]);
    guest.close();
    handOver(guest, { session: 'after close' });
    expect(said.filter((message) => message.type === 'dataChannelsTaken')).toHaveLength(2);
  });

  it('refuses channels whose limits do not validate: no link, and both closed so the peer falls back to its page', async () => {
    const { guest } = createTestGuest();
    const link = handOver(guest, { limits: { ...limits, chunkBytes: 10 } });
    guest.accept(allow(link.session, true, true));
    expect(guest.send(peerB, Uint8Array.of(1))).toBe(false);
    expect(link.control.sent).toEqual([]);
    expect([link.control.readyState, link.bulk.readyState]).toEqual(['closed', 'closed']);
    await settle();
    expect([link.remoteControl.readyState, link.remoteBulk.readyState]).toEqual(['closed', 'closed']);
  });
});

describe('data channel guest: counters and close', () => {
  it('reports counters on the interval only when they changed', async () => {
    const { guest, clock, reports } = createTestGuest();
    const link = handOver(guest);
    guest.accept(allow(link.session, true, true));
    await clock.advance(reportIntervalMs);
    const first = reports.length;
    guest.send(peerB, Uint8Array.of(1, 2));
    await clock.advance(reportIntervalMs - 1);
    expect(reports.length).toBe(first);
    await clock.advance(1);
    expect(reports.length).toBe(first + 1);
    expect(reports.at(-1)).toMatchObject({ framesSent: 1, bytesSent: 2, messagesSent: 1 });
    await clock.advance(reportIntervalMs * 10);
    expect(reports.length).toBe(first + 1);
  });

  it('runs no report timer while it holds no channels: one from the first hand-over until a last tick after the last closed', async () => {
    const { guest, clock, reports } = createTestGuest();
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(3_600_000);
    expect(reports).toEqual([]);
    const link = handOver(guest);
    expect(clock.pendingTimers).toBe(1);
    guest.accept(allow(link.session, true, true));
    guest.send(peerB, Uint8Array.of(1));
    await clock.advance(reportIntervalMs);
    expect(reports).toEqual([expect.objectContaining({ framesSent: 1 })]);
    expect(clock.pendingTimers).toBe(1);
    // Queued (the control queue sends on a microtask) when the session ends: dropped, and reported once more.
    guest.send(peerB, Uint8Array.of(2));
    guest.accept(closed(link.session));
    await clock.advance(reportIntervalMs);
    expect(reports.at(-1)).toMatchObject({ framesSent: 2, framesDroppedOnDisconnect: 1 });
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(3_600_000);
    expect(reports).toHaveLength(2);
  });

  it('close() closes every channel and reports what changed since the last report; afterwards it does nothing', async () => {
    const { guest, clock, reports } = createTestGuest();
    const link = handOver(guest);
    guest.accept(allow(link.session, true, true));
    guest.send(peerB, Uint8Array.of(1));
    await settle();
    guest.close();
    expect(reports.at(-1)).toMatchObject({ framesSent: 1, messagesSent: 1 });
    expect([link.control.readyState, link.bulk.readyState]).toEqual(['closed', 'closed']);
    expect(clock.pendingTimers).toBe(0);
    const count = reports.length;
    await clock.advance(reportIntervalMs * 4);
    expect(reports.length).toBe(count);
  });

  it('after close(), channels handed over are not taken: nothing is sent on them or delivered from them', async () => {
    const { guest, delivered } = createTestGuest();
    guest.close();
    const later = handOver(guest, { session: 'later' });
    guest.accept(allow(later.session, true, true));
    expect(guest.send(peerB, Uint8Array.of(1))).toBe(false);
    sendWhole(later.remoteControl, [2]);
    await settle();
    expect([later.control.sent, delivered]).toEqual([[], []]);
    expect([later.control.readyState, later.bulk.readyState]).toEqual(['closed', 'closed']);
  });
});
