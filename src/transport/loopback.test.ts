import { describe, expect, it } from 'vitest';
import { nodeId, type RaftEnvelope } from '../core/types.ts';
import { createLoopbackNetwork } from './loopback.ts';

const a = nodeId('a');
const b = nodeId('b');
const c = nodeId('c');
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('loopback network', () => {
  it('delivers asynchronously, in order, with `from` set by the hub', async () => {
    const network = createLoopbackNetwork();
    const sender = network.transport(a);
    const receiver = network.transport(b);
    const received: RaftEnvelope[] = [];
    receiver.incoming.subscribe((envelope) => received.push(envelope));
    sender.send(b, new Uint8Array([1]));
    sender.send(b, new Uint8Array([2]));
    expect(received).toEqual([]);
    await settle();
    expect(received.map((envelope) => [envelope.from, [...envelope.bytes]])).toEqual([
      [a, [1]],
      [a, [2]],
    ]);
  });

  it('copies the bytes: the sender mutating its buffer after send changes nothing', async () => {
    const network = createLoopbackNetwork();
    const sender = network.transport(a);
    const receiver = network.transport(b);
    const received: Uint8Array[] = [];
    receiver.incoming.subscribe((envelope) => received.push(envelope.bytes));
    const buffer = new Uint8Array([1, 2, 3]);
    sender.send(b, buffer);
    buffer.fill(9);
    await settle();
    expect([...(received[0] ?? [])]).toEqual([1, 2, 3]);
  });

  it('peers shows the other connected transports and follows joins and closes', () => {
    const network = createLoopbackNetwork();
    const first = network.transport(a);
    expect([...first.peers.value]).toEqual([]);
    const second = network.transport(b);
    network.transport(c);
    expect([...first.peers.value].sort()).toEqual([b, c]);
    const seen: string[][] = [];
    first.peers.subscribe((peers) => seen.push([...peers].sort()));
    second.close();
    expect([...first.peers.value]).toEqual([c]);
    expect(seen.at(-1)).toEqual([c]);
    expect([...second.peers.value]).toEqual([]);
  });

  it('silently drops sends to an unknown or closed peer, and sends from a closed transport', async () => {
    const network = createLoopbackNetwork();
    const sender = network.transport(a);
    const receiver = network.transport(b);
    const received: RaftEnvelope[] = [];
    receiver.incoming.subscribe((envelope) => received.push(envelope));
    expect(() => sender.send(nodeId('nobody'), new Uint8Array([1]))).not.toThrow();
    sender.send(b, new Uint8Array([1]));
    receiver.close();
    expect(() => sender.send(b, new Uint8Array([2]))).not.toThrow();
    await settle();
    expect(received).toEqual([]);
    sender.close();
    const reborn = network.transport(b);
    reborn.incoming.subscribe((envelope) => received.push(envelope));
    sender.send(b, new Uint8Array([3]));
    await settle();
    expect(received).toEqual([]);
  });

  it('refuses two live transports with one id, but allows the id again after close', () => {
    const network = createLoopbackNetwork();
    const first = network.transport(a);
    expect(() => network.transport(a)).toThrow(/already has a transport for a: close\(\) that transport first/);
    first.close();
    expect(() => network.transport(a)).not.toThrow();
  });
});
