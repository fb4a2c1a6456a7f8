// An application usually holds its room secret as `string | undefined` (from a URL parameter or an
// environment variable). Under `exactOptionalPropertyTypes`, which this project and many strict
// applications compile with, an option declared `secret?: string` refuses such a value, so the
// README's quick start did not compile there. `npm run typecheck` checks this file; the runtime
// test only confirms that an undefined secret means "no secret", as an absent one does.
import { describe, expect, it } from 'vitest';
import { nodeId } from '../core/types.ts';
import { createBroadcastChannelSignalingClient } from '../signaling/broadcast-channel-client.ts';
import { createWebSocketSignalingClient } from '../signaling/websocket-client.ts';
import type { SignalingClient } from '../signaling/signaling-client.ts';
import { createWebRtcTransport } from '../transport/webrtc/webrtc-transport.ts';
import type { JoinRoomOptions, SignalingContext } from './join-room-options.ts';

const secretFromUrl: string | undefined = new URLSearchParams('room=board').get('secret') ?? undefined;

// Types only: each call is built, never run.
export function buildsWithAnOptionalSecret(signaling: SignalingClient): void {
  createWebRtcTransport({ signaling, iceServers: [], secret: secretFromUrl });
  createWebSocketSignalingClient({ url: 'ws://127.0.0.1:1', roomId: 'board', nodeId: nodeId('a'), secret: secretFromUrl });
  createBroadcastChannelSignalingClient({ roomId: 'board', nodeId: nodeId('a'), secret: secretFromUrl });
  const context: SignalingContext = { roomId: 'board', nodeId: nodeId('a'), secret: secretFromUrl };
  const room: Pick<JoinRoomOptions<number, number>, 'room' | 'secret' | 'signal'> = { room: 'board', secret: secretFromUrl, signal: undefined };
  void context;
  void room;
}

describe('room secrets typed string | undefined', () => {
  it('an undefined secret is no secret', () => {
    expect(secretFromUrl).toBeUndefined();
    expect(typeof buildsWithAnOptionalSecret).toBe('function');
  });
});
