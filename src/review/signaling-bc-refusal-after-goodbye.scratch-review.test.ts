// Review (second pass over the signaling fixes): a BroadcastChannel tab refused by a tab of
// another secret waits a heartbeat interval for a tab of its own, and then stops only if `known`
// is empty at that moment, not if none was heard. A tab of its own secret that welcomed it and
// then said goodbye inside the interval leaves it stopped for good, with a refusal it never had.
import { describe, expect, it } from 'vitest';
import { nodeId } from '../core/types.ts';
import { VirtualClock, drainMicrotasks } from '../testing/virtual-clock.ts';
import { deriveAdmissionKey, importAdmissionKey } from '../signaling/admission.ts';
import { createBroadcastChannelSignalingClient, type BroadcastChannelLike } from '../signaling/broadcast-channel-client.ts';
import { sealEnvelope, type BroadcastEnvelope } from '../signaling/broadcast-envelope.ts';

class ScriptedChannel implements BroadcastChannelLike {
  static last: ScriptedChannel | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  readonly posted: BroadcastEnvelope[] = [];
  constructor(_name: string) {
    ScriptedChannel.last = this;
  }
  postMessage(message: unknown): void {
    this.posted.push(message as BroadcastEnvelope);
  }
  close(): void {}
  deliver(data: unknown): void {
    this.onmessage?.({ data } as MessageEvent);
  }
}

async function settle(): Promise<void> {
  for (let round = 0; round < 20; round++) {
    await drainMicrotasks();
    await new Promise((resolve) => setTimeout(resolve, 1)); // WebCrypto settles off the microtask queue
  }
}

describe('a tab of the right secret, refused by another secret\'s tab', () => {
  it('is not stopped as refused when a tab of its own secret welcomed it and then left within the interval', async () => {
    const clock = new VirtualClock();
    const b = createBroadcastChannelSignalingClient({ roomId: 'room', nodeId: nodeId('b'), secret: 'right', clock, BroadcastChannel: ScriptedChannel });
    const channel = ScriptedChannel.last!;
    let closedWith: unknown = 'still running';
    void b.closed.then((reason) => (closedWith = reason));
    await settle();
    const hello = channel.posted.find((envelope) => envelope.type === 'hello');
    expect(hello).toBeDefined();
    const otherKey = await importAdmissionKey(await deriveAdmissionKey('other', 'room'));
    const rightKey = await importAdmissionKey(await deriveAdmissionKey('right', 'room'));
    // c (secret "other") refuses b's hello; a (secret "right") welcomes b, then closes its tab.
    channel.deliver(await sealEnvelope(otherKey, 'room', { type: 'refused', from: 'c', instance: 'c'.repeat(32), sequence: 5, to: hello!.instance, payload: 'the room secret does not match' }));
    channel.deliver(await sealEnvelope(rightKey, 'room', { type: 'heartbeat', from: 'a', instance: 'a'.repeat(32), sequence: 7, to: '', payload: '' }));
    await settle();
    expect([...b.peers.value]).toEqual(['a']); // admitted by a tab of its own secret
    channel.deliver(await sealEnvelope(rightKey, 'room', { type: 'goodbye', from: 'a', instance: 'a'.repeat(32), sequence: 8, to: '', payload: '' }));
    await settle();
    await clock.advance(2_000); // the heartbeat interval the refusal waits
    await settle();
    expect(closedWith).toBe('still running');
    b.close();
  });
});
