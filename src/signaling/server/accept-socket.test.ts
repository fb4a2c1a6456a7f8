// Sockets at the door, under remote addresses no real test socket could have (tests connect from
// 127.0.0.1 only): stand-in sockets whose clients never answer the close frame.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../testing/virtual-clock.ts';
import { resolveServerLimits } from '../limits.ts';
import { acceptSocket, type AcceptContext } from './accept-socket.ts';
import { createClosingSockets } from './closing-sockets.ts';
import type { SignalingServerEvent } from './events.ts';
import { createHandshakeCounter } from './handshake-counter.ts';
import { createRoomLookup } from './room-policy.ts';
import { createRoomRegistry } from './room-registry.ts';
import { SilentSocket } from './silent-socket.test-support.ts';

describe('one address past maxHandshakesPerAddress', () => {
  it('does not lock every other address out (server-full) with sockets refused at its door, and its first refusals still get the error frame', async () => {
    const limits = resolveServerLimits({ maxConnections: 4, maxHandshakesPerAddress: 1 });
    const events: SignalingServerEvent[] = [];
    const clock = new VirtualClock();
    const context: AcceptContext = {
      limits,
      clock,
      lookup: await createRoomLookup(undefined, false),
      registry: createRoomRegistry(limits),
      report: (event) => events.push(event),
      sockets: { connections: new Map(), closing: createClosingSockets(limits.maxHandshakesPerAddress, 2_000, clock) },
      handshakes: createHandshakeCounter(limits.maxHandshakesPerAddress),
      maxPayload: 256 * 1024,
    };
    const accept = (address: string): SilentSocket => {
      const socket = new SilentSocket();
      acceptSocket(socket.asWebSocket, address, context);
      return socket;
    };
    accept('198.51.100.66'); // holds its address's one handshake
    const refused = [1, 2, 3].map(() => accept('198.51.100.66')); // none answers the close frame
    expect(events.map((event) => event.type === 'refused' && event.code)).toEqual(['rate-limited', 'rate-limited', 'rate-limited']);
    // Each was told why and sent a close frame; past the first (its address's one closing place)
    // they were cut off at once rather than given the grace.
    for (const socket of refused) {
      expect(socket.sent).toEqual([expect.stringContaining('"rate-limited"')]);
      expect(socket.closeCalls).toBe(1);
    }
    expect(refused.map((socket) => socket.terminateCalls)).toEqual([0, 1, 1]);
    // One socket is served out of four: another address's first socket gets in.
    const other = accept('203.0.113.7');
    expect(events.filter((event) => event.type === 'refused' && event.remoteAddress === '203.0.113.7')).toEqual([]);
    expect(other.sent.some((text) => text.includes('server-full'))).toBe(false);
    expect(context.sockets.connections.size).toBe(2);
  });
});
