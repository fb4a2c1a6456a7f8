import { describe, expect, it } from 'vitest';
import { nodeId, type NodeId } from '../core/types.ts';
import { seededRandom } from './seeded-random.ts';
import { createSimulatedNetwork, type NetworkConditions } from './simulated-network.ts';
import { VirtualClock } from './virtual-clock.ts';

const [a, b, c] = [nodeId('a'), nodeId('b'), nodeId('c')];

function setup(conditions: NetworkConditions = { minDelayMs: 1, maxDelayMs: 1, dropProbability: 0, duplicateProbability: 0 }, seed = 1) {
  const clock = new VirtualClock();
  const network = createSimulatedNetwork(clock, seededRandom(seed), conditions);
  const received = new Map<NodeId, string[]>();
  const transports = new Map([a, b, c].map((id) => [id, network.transport(id)] as const));
  for (const [id, transport] of transports) {
    received.set(id, []);
    transport.incoming.subscribe((envelope) => received.get(id)?.push(`${envelope.from}:${envelope.bytes[0]}`));
  }
  const send = (from: NodeId, to: NodeId, value: number): void => transports.get(from)?.send(to, new Uint8Array([value]));
  return { clock, network, received, transports, send };
}

describe('simulated network', () => {
  it('delivers after the virtual delay with `from` set by the network', async () => {
    const { clock, received, send } = setup({ minDelayMs: 5, maxDelayMs: 5, dropProbability: 0, duplicateProbability: 0 });
    send(a, b, 1);
    await clock.advance(4);
    expect(received.get(b)).toEqual([]);
    await clock.advance(1);
    expect(received.get(b)).toEqual(['a:1']);
  });

  it('copies bytes at send time', async () => {
    const { clock, transports, received } = setup();
    const buffer = new Uint8Array([7]);
    transports.get(a)?.send(b, buffer);
    buffer[0] = 8;
    await clock.advance(5);
    expect(received.get(b)).toEqual(['a:7']);
  });

  it('random delays reorder messages; the same seed gives the same order', async () => {
    const orders: string[][] = [];
    for (let run = 0; run < 2; run += 1) {
      const { clock, received, send } = setup({ minDelayMs: 1, maxDelayMs: 50, dropProbability: 0, duplicateProbability: 0 }, 99);
      for (let value = 0; value < 30; value += 1) send(a, b, value);
      await clock.advance(60);
      orders.push(received.get(b) ?? []);
    }
    expect(orders[0]).toEqual(orders[1]);
    expect(orders[0]?.length).toBe(30);
    expect(orders[0]).not.toEqual(Array.from({ length: 30 }, (_, value) => `a:${value}`));
  });

  it('drops and duplicates at the configured rates and counts them', async () => {
    const { clock, network, received, send } = setup({ minDelayMs: 1, maxDelayMs: 2, dropProbability: 0.3, duplicateProbability: 0.2 });
    for (let value = 0; value < 1_000; value += 1) send(a, b, value % 256);
    await clock.advance(10);
    const { sent, delivered, dropped, duplicated } = network.stats;
    expect(sent).toBe(1_000);
    expect(dropped).toBeGreaterThan(230);
    expect(dropped).toBeLessThan(370);
    expect(duplicated).toBeGreaterThan(90);
    expect(delivered).toBe(sent - dropped + duplicated);
    expect(received.get(b)?.length).toBe(delivered);
  });

  it('a symmetric partition cuts both ways between groups, and heal restores it', async () => {
    const { clock, network, received, send, transports } = setup();
    network.partition([[a], [b, c]]);
    expect([...(transports.get(a)?.peers.value ?? [])]).toEqual([]);
    expect([...(transports.get(b)?.peers.value ?? [])]).toEqual([c]);
    send(a, b, 1);
    send(b, a, 2);
    send(b, c, 3);
    await clock.advance(5);
    expect(received.get(a)).toEqual([]);
    expect(received.get(b)).toEqual([]);
    expect(received.get(c)).toEqual(['b:3']);
    network.heal();
    send(a, b, 4);
    await clock.advance(5);
    expect(received.get(b)).toEqual(['a:4']);
  });

  it('a one-way block cuts only from -> to', async () => {
    const { clock, network, received, send } = setup();
    network.blockOneWay(a, b);
    send(a, b, 1);
    send(b, a, 2);
    await clock.advance(5);
    expect(received.get(b)).toEqual([]);
    expect(received.get(a)).toEqual(['b:2']);
  });

  it('unblockOneWay restores only that link: the others stay cut, and the peers lists follow', async () => {
    const { clock, network, received, send, transports } = setup();
    for (const [from, to] of [[a, b], [b, a], [a, c], [c, a]] as const) network.blockOneWay(from, to);
    // The room policy counts a peer missing from this list as unreachable.
    expect([...(transports.get(a)?.peers.value ?? [])]).toEqual([]);
    expect([...(transports.get(b)?.peers.value ?? [])]).toEqual([c]);
    network.unblockOneWay(a, b);
    network.unblockOneWay(b, a);
    expect([...(transports.get(a)?.peers.value ?? [])]).toEqual([b]);
    expect([...(transports.get(b)?.peers.value ?? [])].sort()).toEqual([a, c]);
    send(a, b, 1);
    send(b, a, 2);
    send(a, c, 3);
    send(c, a, 4);
    await clock.advance(5);
    expect({ a: received.get(a), b: received.get(b), c: received.get(c) }).toEqual({ a: ['b:2'], b: ['a:1'], c: [] });
  });

  it('a message in the air when its link is cut is lost', async () => {
    const { clock, network, received, send } = setup({ minDelayMs: 10, maxDelayMs: 10, dropProbability: 0, duplicateProbability: 0 });
    send(a, b, 1);
    await clock.advance(5);
    network.isolate(b);
    await clock.advance(10);
    expect(received.get(b)).toEqual([]);
    expect(network.stats.dropped).toBe(1);
  });

  it('a node set down neither sends nor receives until it is reconnected; heal does not revive it', async () => {
    const { clock, network, received, send } = setup();
    network.setDown(b, true);
    network.heal();
    send(a, b, 1);
    send(b, c, 2);
    await clock.advance(5);
    expect(received.get(b)).toEqual([]);
    expect(received.get(c)).toEqual([]);
    network.setDown(b, false);
    send(a, b, 3);
    await clock.advance(5);
    expect(received.get(b)).toEqual(['a:3']);
  });

  it('sending to an unknown node is dropped, never thrown', () => {
    const { network, transports } = setup();
    expect(() => transports.get(a)?.send(nodeId('ghost'), new Uint8Array([1]))).not.toThrow();
    expect(network.stats.dropped).toBe(1);
  });

  it('refuses conditions outside their ranges', () => {
    const { network } = setup();
    expect(() => (network.conditions = { minDelayMs: 5, maxDelayMs: 1, dropProbability: 0, duplicateProbability: 0 })).toThrow(RangeError);
    expect(() => (network.conditions = { minDelayMs: 0, maxDelayMs: 1, dropProbability: 1.5, duplicateProbability: 0 })).toThrow(/dropProbability/);
  });

  it('a bandwidth-limited link holds a big frame for its size over the rate, and frames queue behind it', async () => {
    const clock = new VirtualClock();
    const network = createSimulatedNetwork(clock, seededRandom(1), { minDelayMs: 1, maxDelayMs: 1, dropProbability: 0, duplicateProbability: 0 }, { linkBytesPerSecond: 1_000_000 });
    const arrivals: string[] = [];
    const [from, to, other] = [network.transport(a), network.transport(b), network.transport(c)];
    to.incoming.subscribe((envelope) => arrivals.push(`${envelope.from}:${envelope.bytes.length}@${clock.now()}`));
    other.incoming.subscribe((envelope) => arrivals.push(`${envelope.from}->c:${envelope.bytes.length}@${clock.now()}`));
    from.send(b, new Uint8Array(16_000)); // 16 ms on the link a -> b
    from.send(b, new Uint8Array(100)); // behind it: 16.1 ms
    from.send(c, new Uint8Array(100)); // another link: 0.1 ms
    await clock.advance(30);
    expect(arrivals).toEqual(['a->c:100@1.1', 'a:16000@17', 'a:100@17.1']);
    expect(() => createSimulatedNetwork(clock, seededRandom(1), undefined, { linkBytesPerSecond: 0 })).toThrow(RangeError);
  });
});

// A crash armed on a send (SimulatedNetwork.armCrashOnSend): the victim's first frames go out,
// the one it strikes on and every later one are lost, frames to it are lost too, and it comes
// back only through setDown(id, false), as a rebooted process does.
describe('an unplugged node', () => {
  it('loses the frames in the air both ways, stays out through a heal, and is back once plugged in', async () => {
    const { clock, network, received, send } = setup();
    send(a, b, 1); // from the node, in the air as it is unplugged
    send(b, a, 2); // to it
    network.setUnplugged(a, true);
    send(a, c, 3);
    network.heal();
    network.partition([[a, b, c]]);
    send(c, a, 4);
    await clock.advance(5);
    expect([received.get(a), received.get(b), received.get(c)]).toEqual([[], [], []]);
    network.setUnplugged(a, false);
    send(a, b, 5);
    send(c, a, 6);
    await clock.advance(5);
    expect([received.get(a), received.get(b)]).toEqual([['c:6'], ['a:5']]);
  });
});

describe('a crash armed on a send', () => {
  it('lets the first frames of a burst out and loses the one it strikes on and the rest, striking once', async () => {
    const { clock, network, received, send } = setup();
    let strikes = 0;
    network.armCrashOnSend(a, 2, () => (strikes += 1));
    send(a, b, 1);
    send(a, c, 2);
    expect(strikes).toBe(0);
    send(a, b, 3);
    expect(strikes).toBe(1);
    send(a, c, 4);
    await clock.advance(5);
    expect(received.get(b)).toEqual(['a:1']);
    expect(received.get(c)).toEqual(['a:2']);
    expect(strikes).toBe(1);
  });

  it('strikes on the very first frame when armed with none to let out', async () => {
    const { clock, network, received, send } = setup();
    let struck = false;
    network.armCrashOnSend(a, 0, () => (struck = true));
    send(a, b, 1);
    expect(struck).toBe(true);
    await clock.advance(5);
    expect(received.get(b)).toEqual([]);
  });

  it('loses the frames to a struck node, those already in the air included, until it is set up again', async () => {
    const { clock, network, received, send } = setup();
    network.armCrashOnSend(a, 0, () => undefined);
    send(b, a, 1);
    send(a, b, 2);
    send(c, a, 3);
    await clock.advance(5);
    expect(received.get(a)).toEqual([]);
    network.setDown(a, true);
    network.setDown(a, false);
    send(b, a, 4);
    send(a, b, 5);
    await clock.advance(5);
    expect(received.get(a)).toEqual(['b:4']);
    expect(received.get(b)).toEqual(['a:5']);
  });

  it('leaves other senders alone, and strikes no more once disarmed', async () => {
    const { clock, network, received, send } = setup();
    let strikes = 0;
    network.armCrashOnSend(a, 1, () => (strikes += 1));
    send(b, c, 1);
    send(c, b, 2);
    network.disarmCrashesOnSend();
    send(a, b, 3);
    send(a, b, 4);
    await clock.advance(5);
    expect(strikes).toBe(0);
    expect(received.get(b)).toEqual(['c:2', 'a:3', 'a:4']);
    expect(received.get(c)).toEqual(['b:1']);
  });

  it('refuses a count that is not a whole number of frames', () => {
    const { network } = setup();
    expect(() => network.armCrashOnSend(a, -1, () => undefined)).toThrow(RangeError);
    expect(() => network.armCrashOnSend(a, 1.5, () => undefined)).toThrow(RangeError);
  });
});
