// A stand-in for a `ws` server socket whose client never answers a close frame and never closes
// its TCP connection: for unit tests of what the server does with sockets it is done with, under
// remote addresses no real test socket could have (tests connect from 127.0.0.1 only).
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';

export class SilentSocket extends EventEmitter {
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: string[] = [];
  /** Close frames asked for, and terminate() calls: what the server did to it. */
  closeCalls = 0;
  terminateCalls = 0;
  send(text: string): void {
    this.sent.push(text);
  }
  close(): void {
    this.closeCalls++;
    this.readyState = this.CLOSING;
  }
  terminate(): void {
    this.terminateCalls++;
    this.readyState = this.CLOSING;
  }
  pong(): void {}
  /** The TCP connection is gone at last (ws's close event). */
  closeNow(): void {
    this.readyState = this.CLOSED;
    this.emit('close', 1006, Buffer.alloc(0));
  }
  get asWebSocket(): WebSocket {
    return this as unknown as WebSocket;
  }
}
