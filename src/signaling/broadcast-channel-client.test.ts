// BroadcastChannel signaling in Node (which has a global BroadcastChannel). Heartbeats and
// expiry run on a virtual clock; channel delivery is real, so tests wait for observable states.
import { afterEach, describe, expect, it } from 'vitest';
import type { Watchable } from '../core/observable.ts';
import { nodeId, type NodeId } from '../core/types.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import { broadcastChannelName, createBroadcastChannelSignalingClient } from './broadcast-channel-client.ts';
import type { ReceivedSignal, SignalingClient } from './signaling-client.ts';
import { SignalingRefusedError } from './signaling-client.ts';

const opened: Array<{ close(): void }> = [];
let roomCounter = 0;
const freshRoom = (): string => `room-${process.pid}-${roomCounter++}`;

function client(roomId: string, id: string, clock: VirtualClock, secret?: string): SignalingClient {
  const created = createBroadcastChannelSignalingClient({ roomId, nodeId: nodeId(id), clock, ...(secret === undefined ? {} : { secret }) });
  opened.push(created);
  return created;
}

function until<T>(watchable: Watchable<T>, predicate: (value: T) => boolean): Promise<T> {
  return new Promise((resolve) => {
    if (predicate(watchable.value)) return resolve(watchable.value);
    const unsubscribe = watchable.subscribe((value) => {
      if (!predicate(value)) return;
      unsubscribe();
      resolve(value);
    });
  });
}

const nextSignal = (target: SignalingClient, payload?: string): Promise<ReceivedSignal> =>
  new Promise((resolve) => {
    const unsubscribe = target.signals.subscribe((signal) => {
      if (payload !== undefined && signal.payload !== payload) return;
      unsubscribe();
      resolve(signal);
    });
  });

const hasExactly = (...ids: string[]) => (peers: ReadonlySet<NodeId>) => peers.size === ids.length && ids.every((id) => peers.has(nodeId(id)));

afterEach(() => {
  for (const item of opened.splice(0)) item.close();
});

describe('BroadcastChannel signaling', () => {
  it('shows presence, relays signals with the sender as `from`, and sees a goodbye', async () => {
    const clock = new VirtualClock();
    const room = freshRoom();
    const a = client(room, 'a', clock);
    const b = client(room, 'b', clock);
    await until(a.peers, hasExactly('b'));
    await until(b.peers, hasExactly('a'));
    const received = nextSignal(b);
    a.signal(nodeId('b'), '{"type":"offer"}');
    expect(await received).toEqual({ from: 'a', payload: '{"type":"offer"}' });
    b.close();
    expect(await b.closed).toBeNull();
    await until(a.peers, hasExactly());
  });

  it('admits only tabs with the room secret and refuses the others with a clear error', async () => {
    const clock = new VirtualClock();
    const room = freshRoom();
    const a = client(room, 'a', clock, 'right');
    const b = client(room, 'b', clock, 'right');
    await until(a.peers, hasExactly('b'));
    await until(b.peers, hasExactly('a'));
    const intruder = client(room, 'mallory', clock, 'wrong');
    const reason = await intruder.closed;
    expect(reason).toBeInstanceOf(SignalingRefusedError);
    expect(String(reason)).toMatch(/admission-refused: .*secret does not match/);
    // a heartbeat round later, still only each other
    await clock.advance(2_000);
    const received = nextSignal(a);
    b.signal(nodeId('a'), 'after');
    expect(await received).toEqual({ from: 'b', payload: 'after' });
    expect(a.peers.value).toEqual(new Set(['b']));
  });

  it('expires a peer that stops sending heartbeats (a crashed tab says no goodbye)', async () => {
    const clock = new VirtualClock();
    const room = freshRoom();
    const a = client(room, 'a', clock);
    const ghost = new BroadcastChannel(broadcastChannelName(room));
    opened.push(ghost);
    ghost.postMessage({ type: 'hello', from: 'ghost', instance: 'g', sequence: 0, to: '', payload: '', mac: null });
    await until(a.peers, hasExactly('ghost'));
    await clock.advance(4_000);
    expect(a.peers.value.has(nodeId('ghost'))).toBe(true);
    await clock.advance(6_000);
    await until(a.peers, hasExactly());
  });

  it('drops a replayed envelope and one forged for another room secret', async () => {
    const clock = new VirtualClock();
    const room = freshRoom();
    const a = client(room, 'a', clock, 'right');
    const b = client(room, 'b', clock, 'right');
    await until(a.peers, hasExactly('b'));
    await until(b.peers, hasExactly('a'));
    const recorder = new BroadcastChannel(broadcastChannelName(room));
    opened.push(recorder);
    const recorded = new Promise<unknown>((resolve) => {
      recorder.onmessage = (event: MessageEvent) => {
        if ((event.data as { type?: string }).type === 'signal') resolve(event.data);
      };
    });
    const seen: ReceivedSignal[] = [];
    b.signals.subscribe((signal) => seen.push(signal));
    a.signal(nodeId('b'), 'once');
    const envelope = await recorded;
    recorder.postMessage(envelope);
    recorder.postMessage({ ...(envelope as object), sequence: 1_000, payload: 'forged' });
    const marker = nextSignal(b, 'marker');
    a.signal(nodeId('b'), 'marker');
    await marker;
    expect(seen.map((signal) => signal.payload)).toEqual(['once', 'marker']);
  });
});
