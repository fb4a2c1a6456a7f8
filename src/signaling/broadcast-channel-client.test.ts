// BroadcastChannel signaling in Node (which has a global BroadcastChannel). Heartbeats and
// expiry run on a virtual clock; channel delivery is real, so tests wait for observable states.
import { afterEach, describe, expect, it } from 'vitest';
import type { Watchable } from '../core/observable.ts';
import { nodeId, type NodeId } from '../core/types.ts';
import { VirtualClock, drainMicrotasks } from '../testing/virtual-clock.ts';
import { deriveAdmissionKey, importAdmissionKey } from './admission.ts';
import { broadcastChannelName, createBroadcastChannelSignalingClient, type BroadcastChannelLike } from './broadcast-channel-client.ts';
import { sealEnvelope, type BroadcastEnvelope } from './broadcast-envelope.ts';
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

/** Waits for `promise` while moving the clock on (a refused tab waits a heartbeat interval for a peer of its own secret). */
async function settledWhileTicking<T>(promise: Promise<T>, clock: VirtualClock): Promise<T> {
  let settled = false;
  void promise.then(() => (settled = true));
  for (let round = 0; round < 1_000 && !settled; round++) {
    await new Promise((resolve) => setTimeout(resolve, 2)); // WebCrypto settles off the microtask queue
    await clock.advance(100);
  }
  return promise;
}

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
    const reason = await settledWhileTicking(intruder.closed, clock);
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

describe('a tab with the right secret, in a room where tabs of two secrets meet', () => {
  /** Delivers what a test hands it, and records what the client posts. */
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

  /**
   * Tab b (secret "right") says hello; tab c (secret "other") refuses it, then tab a (secret
   * "right") answers it with a heartbeat. Which comes first is only whose HMAC finished first:
   * here c's.
   */
  async function refusedByOtherThenHeardByRight() {
    const clock = new VirtualClock();
    const b = createBroadcastChannelSignalingClient({ roomId: 'room', nodeId: nodeId('b'), secret: 'right', clock, BroadcastChannel: ScriptedChannel });
    opened.push(b);
    const channel = ScriptedChannel.last!;
    const outcome: { closedWith: unknown } = { closedWith: 'still running' };
    void b.closed.then((reason) => (outcome.closedWith = reason));
    await settle();
    const hello = channel.posted.find((envelope) => envelope.type === 'hello');
    expect(hello).toBeDefined();
    const otherKey = await importAdmissionKey(await deriveAdmissionKey('other', 'room'));
    const rightKey = await importAdmissionKey(await deriveAdmissionKey('right', 'room'));
    channel.deliver(await sealEnvelope(otherKey, 'room', { type: 'refused', from: 'c', instance: 'c'.repeat(32), sequence: 5, to: hello!.instance, payload: 'the room secret does not match' }));
    channel.deliver(await sealEnvelope(rightKey, 'room', { type: 'heartbeat', from: 'a', instance: 'a'.repeat(32), sequence: 7, to: '', payload: '' }));
    return { clock, b, channel, rightKey, outcome };
  }

  it('is admitted by a tab of its own secret even when another secret\'s refusal comes first', async () => {
    const { clock, b, outcome } = await refusedByOtherThenHeardByRight();
    await settle();
    await clock.advance(2_000); // a heartbeat interval later
    await settle();
    expect(outcome.closedWith).toBe('still running');
    expect([...b.peers.value]).toEqual(['a']);
  });

  it('is not stopped as refused when a tab of its own secret welcomed it and left within the interval', async () => {
    // Tab a welcomes b, then closes. What counts is that a tab of b's secret was heard within the
    // interval, not that one is still there when it ends.
    const { clock, b, channel, rightKey, outcome } = await refusedByOtherThenHeardByRight();
    await settle();
    expect([...b.peers.value]).toEqual(['a']);
    channel.deliver(await sealEnvelope(rightKey, 'room', { type: 'goodbye', from: 'a', instance: 'a'.repeat(32), sequence: 8, to: '', payload: '' }));
    await settle();
    expect([...b.peers.value]).toEqual([]);
    await clock.advance(2_000); // the heartbeat interval the refusal waits
    await settle();
    expect(outcome.closedWith).toBe('still running');
  });
});
