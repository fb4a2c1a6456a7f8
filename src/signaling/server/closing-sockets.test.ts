// The server's sockets it is done with: cut off after the close grace whatever state ws has them
// in, and no more of one address at once than its bound.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../testing/virtual-clock.ts';
import { createClosingSockets } from './closing-sockets.ts';
import { SilentSocket } from './silent-socket.test-support.ts';

describe('closing sockets', () => {
  it('cut one off after the grace even when ws has it CLOSING already (no close timer of ws\'s), and free its place', async () => {
    const clock = new VirtualClock();
    const closing = createClosingSockets(10, 2_000, clock);
    const socket = new SilentSocket();
    socket.readyState = socket.CLOSING; // its client sent a FIN without a close frame
    closing.add(socket.asWebSocket, '198.51.100.1');
    expect(closing.size).toBe(1);
    await clock.advance(1_999);
    expect(socket.terminateCalls).toBe(0);
    await clock.advance(1);
    expect(socket.terminateCalls).toBe(1);
    expect(closing.size).toBe(0); // even if its close event never comes
  });

  it('forget one that closes within the grace, and do not cut it off later', async () => {
    const clock = new VirtualClock();
    const closing = createClosingSockets(10, 2_000, clock);
    const socket = new SilentSocket();
    closing.add(socket.asWebSocket, '198.51.100.1');
    socket.closeNow();
    expect(closing.size).toBe(0);
    await clock.advance(5_000);
    expect(socket.terminateCalls).toBe(0);
  });

  it('take no socket closed already, and none twice', () => {
    const closing = createClosingSockets(10, 2_000, new VirtualClock());
    const closed = new SilentSocket();
    closed.readyState = closed.CLOSED;
    closing.add(closed.asWebSocket, '198.51.100.1');
    const open = new SilentSocket();
    closing.add(open.asWebSocket, '198.51.100.1');
    closing.add(open.asWebSocket, '198.51.100.1');
    expect(closing.size).toBe(1);
  });

  it('cut off at once the sockets of an address beyond its bound, leaving other addresses their grace', () => {
    const closing = createClosingSockets(2, 2_000, new VirtualClock());
    const crowd = [1, 2, 3, 4].map(() => new SilentSocket());
    for (const socket of crowd) closing.add(socket.asWebSocket, '198.51.100.1');
    expect(crowd.map((socket) => socket.terminateCalls)).toEqual([0, 0, 1, 1]);
    const other = new SilentSocket();
    closing.add(other.asWebSocket, '203.0.113.9');
    expect(other.terminateCalls).toBe(0);
    expect(closing.size).toBe(3);
    crowd[0]!.closeNow(); // a place of its address frees up
    const next = new SilentSocket();
    closing.add(next.asWebSocket, '198.51.100.1');
    expect(next.terminateCalls).toBe(0);
  });

  it('at shutdown cut off those waiting, and give those added after the grace whatever their address', async () => {
    const clock = new VirtualClock();
    const closing = createClosingSockets(1, 2_000, clock);
    const waiting = new SilentSocket();
    closing.add(waiting.asWebSocket, '198.51.100.1');
    closing.shutDown();
    expect(waiting.terminateCalls).toBe(1);
    const told = [1, 2].map(() => new SilentSocket());
    for (const socket of told) closing.add(socket.asWebSocket, '198.51.100.1');
    expect(told.map((socket) => socket.terminateCalls)).toEqual([0, 0]);
    await clock.advance(2_000);
    expect(told.map((socket) => socket.terminateCalls)).toEqual([1, 1]);
  });
});
