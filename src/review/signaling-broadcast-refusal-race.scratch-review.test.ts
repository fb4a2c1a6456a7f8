// A BroadcastChannel tab with the RIGHT secret stops for good (SignalingRefusedError, terminal:
// joinRoom and combineSignalingClients stop with it) when a tab of another secret answers its
// hello with `refused` a moment before a tab of its own secret answers with a heartbeat.
// "If no peer has admitted it" is judged as `known.size === 0` at the instant the refusal is
// processed, and which answer comes first is only which tab finished its HMAC first.
import { describe, expect, it } from 'vitest';
import { nodeId } from '../core/types.ts';
import { VirtualClock, drainMicrotasks } from '../testing/virtual-clock.ts';
import { deriveAdmissionKey, importAdmissionKey } from '../signaling/admission.ts';
import { sealEnvelope, type BroadcastEnvelope } from '../signaling/broadcast-envelope.ts';
import { createBroadcastChannelSignalingClient, type BroadcastChannelLike } from '../signaling/broadcast-channel-client.ts';

async function settle(): Promise<void> {
  for (let round = 0; round < 20; round++) {
    await drainMicrotasks();
    await new Promise((resolve) => setTimeout(resolve, 1)); // WebCrypto settles off the microtask queue
  }
}

describe('a tab with the right secret, in a room where tabs of two secrets meet', () => {
  it('is admitted by the peer of its own secret even if another secret\'s refusal arrives first', async () => {
    const clock = new VirtualClock();
    const posted: BroadcastEnvelope[] = [];
    let channel: FakeChannel | null = null;
    class FakeChannel implements BroadcastChannelLike {
      onmessage: ((event: MessageEvent) => void) | null = null;
      constructor(_name: string) {
        channel = this;
      }
      postMessage(message: unknown): void {
        posted.push(message as BroadcastEnvelope);
      }
      close(): void {}
      deliver(data: unknown): void {
        this.onmessage?.({ data } as MessageEvent);
      }
    }
    const b = createBroadcastChannelSignalingClient({ roomId: 'room', nodeId: nodeId('b'), secret: 'right', clock, BroadcastChannel: FakeChannel });
    let closedWith: unknown = 'still running';
    void b.closed.then((reason) => (closedWith = reason));
    await settle();
    const hello = posted.find((envelope) => envelope.type === 'hello');
    expect(hello).toBeDefined();
    // Tab c (secret "other", with peers of its own) refuses b's hello; tab a (secret "right")
    // answers it with a heartbeat. c's HMAC happened to finish first.
    const otherKey = await importAdmissionKey(await deriveAdmissionKey('other', 'room'));
    const rightKey = await importAdmissionKey(await deriveAdmissionKey('right', 'room'));
    const refused = await sealEnvelope(otherKey, 'room', { type: 'refused', from: 'c', instance: 'c'.repeat(32), sequence: 5, to: hello!.instance, payload: 'the room secret does not match' });
    const heartbeat = await sealEnvelope(rightKey, 'room', { type: 'heartbeat', from: 'a', instance: 'a'.repeat(32), sequence: 7, to: '', payload: '' });
    channel!.deliver(refused);
    channel!.deliver(heartbeat);
    await settle();
    await clock.advance(2_000); // a heartbeat round later
    await settle();
    expect(closedWith).toBe('still running');
    expect([...b.peers.value]).toEqual(['a']);
    b.close();
  });
});
