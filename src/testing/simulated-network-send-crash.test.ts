// A crash armed on a send (SimulatedNetwork.armCrashOnSend): the victim's first frames go out,
// the one it strikes on and every later one are lost, frames to it are lost too, and it comes
// back only through setDown(id, false), as a rebooted process does.
import { describe, expect, it } from 'vitest';
import { nodeId, type NodeId } from '../core/types.ts';
import { seededRandom } from './seeded-random.ts';
import { createSimulatedNetwork } from './simulated-network.ts';
import { VirtualClock } from './virtual-clock.ts';

const [a, b, c] = [nodeId('a'), nodeId('b'), nodeId('c')];

function setup() {
  const clock = new VirtualClock();
  const network = createSimulatedNetwork(clock, seededRandom(1), { minDelayMs: 1, maxDelayMs: 1, dropProbability: 0, duplicateProbability: 0 });
  const received = new Map<NodeId, string[]>();
  const transports = new Map([a, b, c].map((id) => [id, network.transport(id)] as const));
  for (const [id, transport] of transports) {
    received.set(id, []);
    transport.incoming.subscribe((envelope) => received.get(id)?.push(`${envelope.from}:${envelope.bytes[0]}`));
  }
  const send = (from: NodeId, to: NodeId, value: number): void => transports.get(from)?.send(to, new Uint8Array([value]));
  return { clock, network, received, send };
}

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
