// Review (second pass over the signaling fixes): sockets refused at the door now count against
// maxConnections until they close (up to the 2 s close grace), but not against their address's
// maxHandshakesPerAddress. One address past its bound, whose refused sockets do not answer the
// close frame, so fills the whole server: every other address is refused server-full, which the
// per-address bound exists to prevent (handshake-counter.ts). Fake sockets, so addresses differ.
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../testing/virtual-clock.ts';
import { resolveServerLimits } from '../signaling/limits.ts';
import { acceptSocket, type SocketTable } from '../signaling/server/accept-socket.ts';
import type { SignalingServerEvent } from '../signaling/server/events.ts';
import { createHandshakeCounter } from '../signaling/server/handshake-counter.ts';
import { createRoomLookup } from '../signaling/server/room-policy.ts';
import { createRoomRegistry } from '../signaling/server/room-registry.ts';

/** A ws socket that never answers a close frame (and never closes). */
class SilentSocket extends EventEmitter {
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: string[] = [];
  send(text: string): void {
    this.sent.push(text);
  }
  close(): void {
    this.readyState = 2;
  }
  terminate(): void {
    this.readyState = 2;
  }
  pong(): void {}
}

describe('one address past maxHandshakesPerAddress', () => {
  it('does not lock every other address out (server-full) with sockets refused at its door', async () => {
    const limits = resolveServerLimits({ maxConnections: 4, maxHandshakesPerAddress: 1 });
    const events: SignalingServerEvent[] = [];
    const sockets: SocketTable = { connections: new Map(), closing: new Set() };
    const context = {
      limits,
      clock: new VirtualClock(),
      lookup: await createRoomLookup(undefined, false),
      registry: createRoomRegistry(limits),
      report: (event: SignalingServerEvent) => events.push(event),
      sockets,
      handshakes: createHandshakeCounter(limits.maxHandshakesPerAddress),
      maxPayload: 256 * 1024,
    };
    const accept = (address: string): SilentSocket => {
      const socket = new SilentSocket();
      acceptSocket(socket as unknown as WebSocket, address, context);
      return socket;
    };
    accept('127.0.0.66'); // holds its address's one handshake
    for (let index = 0; index < 3; index++) accept('127.0.0.66'); // refused rate-limited, inside their close grace
    expect(events.map((event) => event.type === 'refused' && event.code)).toEqual(['rate-limited', 'rate-limited', 'rate-limited']);
    // One socket is served out of four: another address's first socket must get in.
    const other = accept('127.0.0.7');
    expect(events.filter((event) => event.type === 'refused' && event.remoteAddress === '127.0.0.7')).toEqual([]);
    expect(other.sent.some((text) => text.includes('server-full'))).toBe(false);
  });
});
