// Client-side lifecycle: what a closed combined client still claims, and what a joined WebSocket
// client keeps for as long as it stays joined.
import { describe, expect, it } from 'vitest';
import { createEmitter, createWatchable } from '../core/observable.ts';
import { nodeId, type NodeId } from '../core/types.ts';
import type { Clock } from '../signaling/clock.ts';
import { combineSignalingClients } from '../signaling/combined-client.ts';
import type { ReceivedSignal, SignalingClient } from '../signaling/signaling-client.ts';
import { createWebSocketSignalingClient, type WebSocketLike } from '../signaling/websocket-client.ts';

/** Like the real clients: close() empties `peers` and resolves `closed` with null. */
function closingClient(peerIds: string[]): SignalingClient {
  const peers = createWatchable<ReadonlySet<NodeId>>(new Set(peerIds.map(nodeId)));
  let resolveClosed: (reason: Error | null) => void = () => undefined;
  return {
    selfId: nodeId('me'),
    roomId: 'room',
    peers,
    signals: createEmitter<ReceivedSignal>(),
    signal: () => undefined,
    close: () => {
      peers.set(new Set());
      resolveClosed(null);
    },
    closed: new Promise((resolve) => (resolveClosed = resolve)),
  };
}

describe('combineSignalingClients after close()', () => {
  it('lists no peers, as each of its clients does (room code reads signaling.peers.value)', async () => {
    const tabs = closingClient(['a']);
    const server = closingClient(['b']);
    const combined = combineSignalingClients([tabs, server]);
    expect([...combined.peers.value].sort()).toEqual(['a', 'b']);
    combined.close();
    expect(await combined.closed).toBeNull();
    expect([...tabs.peers.value]).toEqual([]);
    expect([...server.peers.value]).toEqual([]);
    expect([...combined.peers.value]).toEqual([]);
  });
});

class FakeClock implements Clock {
  time = 0;
  private next = 1;
  readonly pending = new Map<number, { at: number; fn: () => void }>();
  readonly fired = new Set<number>();
  clearedAfterFiring = 0;
  now = (): number => this.time;
  setTimeout = (fn: () => void, ms: number): unknown => {
    const handle = this.next++;
    this.pending.set(handle, { at: this.time + ms, fn });
    return handle;
  };
  clearTimeout = (handle: unknown): void => {
    if (this.fired.has(handle as number)) this.clearedAfterFiring++;
    this.pending.delete(handle as number);
  };
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.pending.entries()].filter(([, timer]) => timer.at <= end).sort((x, y) => x[1].at - y[1].at)[0];
      if (due === undefined) break;
      this.pending.delete(due[0]);
      this.fired.add(due[0]);
      this.time = due[1].at;
      due[1].fn();
    }
    this.time = end;
  }
}

describe('a WebSocket signaling client joined for a long time', () => {
  it('does not keep every keepalive timer it ever set (one per ping interval, for as long as it stays joined)', () => {
    const clock = new FakeClock();
    const sockets: FakeSocket[] = [];
    class FakeSocket implements WebSocketLike {
      readonly listeners = new Map<string, Array<(event: { readonly data: unknown }) => void>>();
      readonly sent: string[] = [];
      constructor(_url: string) {
        sockets.push(this);
      }
      send(data: string): void {
        this.sent.push(data);
        // The server answers every ping, so the client never sees silence.
        if (JSON.parse(data).type === 'ping') this.emit('message', { data: JSON.stringify({ type: 'pong' }) });
      }
      close(): void {}
      addEventListener(type: string, listener: (event: { readonly data: unknown }) => void): void {
        this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
      }
      emit(type: string, event: { readonly data: unknown } = { data: undefined }): void {
        for (const listener of this.listeners.get(type) ?? []) listener(event);
      }
    }
    const client = createWebSocketSignalingClient({ url: 'ws://127.0.0.1:9', roomId: 'room', nodeId: nodeId('a'), WebSocket: FakeSocket, clock });
    const socket = sockets[0]!;
    socket.emit('open');
    socket.emit('message', { data: JSON.stringify({ type: 'joined', roomId: 'room', nodeId: 'a', peers: [] }) });
    expect(client.status.value).toBe('joined');
    clock.advance(1_000 * 20_000); // 1000 ping intervals: about 5.5 hours joined
    expect(socket.sent.filter((text) => JSON.parse(text).type === 'ping')).toHaveLength(1_000);
    client.close();
    // close() clears every timer the client still holds: the fired ones should be long gone.
    expect(clock.clearedAfterFiring).toBeLessThan(10);
  });
});
