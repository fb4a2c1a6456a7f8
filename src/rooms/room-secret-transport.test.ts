// A room secret given to joinRoom reaches the transport (createTransport's context), and joinRoom
// refuses a WebRTC transport that does not use it. Before, the secret reached the signaling
// client only: on an open signaling server pages A and B with secret 's' and page C with 'wrong'
// all met, and C became a voter and read the state (a newcomer's review, step4b). Real
// transports here, over fake peer connections and an in-memory signaling hub, with the real
// handshake (WebCrypto).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { nodeId, type NodeId } from '../core/types.ts';
import { createBroadcastChannelSignalingClient } from '../signaling/broadcast-channel-client.ts';
import { combineSignalingClients } from '../signaling/combined-client.ts';
import type { SignalingClient } from '../signaling/signaling-client.ts';
import { createWebSocketSignalingClient } from '../signaling/websocket-client.ts';
import { FakeConnectionNetwork } from '../transport/webrtc/fake-connection.test-support.ts';
import { createSignalingHub } from '../transport/webrtc/signaling-hub.test-support.ts';
import { createWebRtcTransport, type WebRtcTransport } from '../transport/webrtc/webrtc-transport.ts';
import type { RaftTransport } from '../transport/raft-transport.ts';
import { joinRoom, type JoinRoomOptions, type Room, type TransportContext } from './join-room.ts';
import { memoryKeyValueStore } from './room-identity.ts';
import type { RoomEvent } from './room-events.ts';
import { manualVisibility } from './visibility.ts';

type Counter = { readonly total: number };
const wait = { timeout: 30_000, interval: 10 };
const limits = { reconnectDelayMinMs: 5, reconnectDelayMaxMs: 50, connectTimeoutMs: 5_000 };
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function options(signaling: SignalingClient, createTransport: JoinRoomOptions<Counter, number>['createTransport'], extra: Partial<JoinRoomOptions<Counter, number>> = {}): JoinRoomOptions<Counter, number> {
  return {
    room: 'test-room',
    signaling,
    createTransport,
    identityStore: memoryKeyValueStore(),
    visibility: manualVisibility(true),
    discoveryMs: 200,
    gossipIntervalMs: 100,
    store: { initialState: { total: 0 }, apply: (state, command) => ({ total: state.total + command }) },
    ...extra,
  };
}

/** Joins in the background: its events, the transport it made, and the join itself (aborted at cleanup). */
function join(signaling: SignalingClient, secret: string | undefined, createTransport: (signaling: SignalingClient, context: TransportContext) => WebRtcTransport) {
  const events: RoomEvent[] = [];
  const abort = new AbortController();
  const transports: WebRtcTransport[] = [];
  const joining = joinRoom(
    options(signaling, (client, context) => {
      const transport = createTransport(client, context);
      transports.push(transport);
      return transport;
    }, { ...(secret === undefined ? {} : { secret }), onEvent: (event) => events.push(event), signal: abort.signal }),
  );
  let room: Room<Counter, number> | null = null;
  joining.then((joined) => (room = joined), () => undefined);
  cleanup.push(async () => {
    abort.abort(new Error('the test is over'));
    await joining.then((joined) => joined.leave(), () => undefined);
  });
  return { events, joining, transports, room: () => room };
}

// Types only, never run: the README's forms compile with both contexts spread in (the signaling
// context's onRetry and the transport context's onAuthenticationFailure are options of the
// clients and the transport they are spread into).
export function buildsTheReadmeForms(url: string): JoinRoomOptions<Counter, number> {
  return {
    room: 'board',
    secret: 's',
    signaling: (context) => combineSignalingClients([createBroadcastChannelSignalingClient(context), createWebSocketSignalingClient({ url, ...context })]),
    createTransport: (signaling, context) => createWebRtcTransport({ signaling, ...context, iceServers: [] }),
    store: { initialState: { total: 0 }, apply: (state, command) => ({ total: state.total + command }) },
  };
}

const authenticationFailures = (events: readonly RoomEvent[]): NodeId[] => [...new Set(events.flatMap((event) => (event.type === 'peerAuthenticationFailed' ? [event.peer] : [])))].sort();

describe('joinRoom: the room secret and the transport', () => {
  it("a WebRTC transport made without the room secret is refused at once, saying how to pass it, and the join closes what it opened", async () => {
    const hub = createSignalingHub();
    const network = new FakeConnectionNetwork();
    const signaling = hub.client(nodeId('a'));
    const closed: string[] = [];
    const attempt = joinRoom(
      options(signaling, (client) => {
        const transport = createWebRtcTransport({ signaling: client, openConnection: network.openConnection, limits });
        return { ...transport, close: () => closed.push('transport') };
      }, { secret: 's' }),
    );
    await expect(attempt).rejects.toThrow(TypeError);
    await expect(attempt).rejects.toThrow(/the room has a secret, but the WebRTC transport createTransport returned was given no secret[\s\S]*\(signaling, context\) => createWebRtcTransport\(\{ signaling, \.\.\.context/);
    expect(closed).toEqual(['transport']);
    expect(await signaling.closed).toBeNull();
  });

  it('so is one made with another secret', async () => {
    const hub = createSignalingHub();
    const network = new FakeConnectionNetwork();
    const attempt = joinRoom(options(hub.client(nodeId('a')), (client) => createWebRtcTransport({ signaling: client, secret: 'another', openConnection: network.openConnection, limits }), { secret: 's' }));
    await expect(attempt).rejects.toThrow(/was given another secret/);
  });

  it('a transport of its own that cannot say which secret it uses is taken as it is (the option says so)', async () => {
    const hub = createSignalingHub();
    const network = new FakeConnectionNetwork();
    const room = await joinRoom(
      options(hub.client(nodeId('a')), (client): RaftTransport => {
        const { selfId, peers, incoming, send, close } = createWebRtcTransport({ signaling: client, openConnection: network.openConnection, limits });
        return { selfId, peers, incoming, send, close };
      }, { secret: 's' }),
    );
    await room.leave();
  });

  it('pages A and B with the secret, C with another, all through the context: A and B form the room, C never enters it, and each side hears which peer failed the secret check', async () => {
    const hub = createSignalingHub();
    const network = new FakeConnectionNetwork();
    // The README's one-liner: the context spread into the transport's options.
    const make = (client: SignalingClient, context: TransportContext): WebRtcTransport => createWebRtcTransport({ signaling: client, ...context, openConnection: network.openConnection, limits });
    const a = join(hub.client(nodeId('a')), 's', make);
    await a.joining;
    const b = join(hub.client(nodeId('b')), 's', make);
    await b.joining;
    await vi.waitFor(() => expect(b.room()?.node.leader.value).toBe(nodeId('a')), wait);
    const c = join(hub.client(nodeId('c')), 'wrong', make);
    await vi.waitFor(() => {
      expect(authenticationFailures(a.events)).toEqual([nodeId('c')]);
      expect(authenticationFailures(b.events)).toEqual([nodeId('c')]);
      expect(authenticationFailures(c.events)).toEqual([nodeId('a'), nodeId('b')]);
    }, wait);
    // C waits: it cannot reach the peers signaling lists, and will not start a room beside them.
    await vi.waitFor(() => expect(c.events.some((event) => event.type === 'peersUnreachable' && event.waiting && event.count === 2)).toBe(true), wait);
    expect(c.room()).toBeNull();
    const membership = a.room()!.node.membership.value;
    expect([...membership.voters, ...(membership.learners ?? [])]).not.toContain(nodeId('c'));
    expect(c.transports[0]!.counters.framesReceived).toBe(0);
    const reported = c.events.find((event) => event.type === 'peerAuthenticationFailed');
    expect(reported).toMatchObject({ failures: 1, reason: expect.any(String) });
  });
});
