import { describe, expect, it } from 'vitest';
import { createEmitter, createWatchable, nodeId, type NodeId, type RaftEnvelope, type RaftTransport } from 'raftmesh';
import { createPartitionSwitch, statusFrameTag, type PeerStatus } from './partition-switch.ts';

const [bo, cy, dee] = ['peer-bo', 'peer-cy', 'peer-dee'].map(nodeId) as [NodeId, NodeId, NodeId];

/** A transport joinRoom could have made: its peers, frames to deliver, and what was sent on it. */
function fakeTransport(self: string, reachable: NodeId[]) {
  const peers = createWatchable<ReadonlySet<NodeId>>(new Set(reachable));
  const incoming = createEmitter<RaftEnvelope>();
  const sent: { to: NodeId; bytes: Uint8Array }[] = [];
  let closed = false;
  const transport: RaftTransport = {
    selfId: nodeId(self),
    peers,
    incoming,
    send: (to, bytes) => void sent.push({ to, bytes }),
    close: () => {
      closed = true;
    },
  };
  return { transport, peers, deliver: (from: NodeId, bytes: Uint8Array) => incoming.emit({ from, bytes }), sent, closed: () => closed };
}

const status = (name: string): PeerStatus => ({ role: 'follower', term: 2, commitIndex: 7, appliedIndex: 7, leader: null, visible: true, name });
const statusFrame = (value: PeerStatus): Uint8Array => {
  const text = new TextEncoder().encode(JSON.stringify(value));
  return Uint8Array.of(statusFrameTag, ...text);
};

describe('the demo partition switch', () => {
  it('drops frames both ways and reports nobody reachable while disconnected, and passes them again once reconnected', () => {
    const partition = createPartitionSwitch();
    const inner = fakeTransport('peer-ana', [bo, cy]);
    const transport = partition.attach(inner.transport);
    const received: RaftEnvelope[] = [];
    transport.incoming.subscribe((envelope) => received.push(envelope));

    partition.setConnected(false);
    transport.send(bo, Uint8Array.of(1, 2));
    inner.deliver(bo, Uint8Array.of(1, 3));
    expect(inner.sent).toEqual([]);
    expect(received).toEqual([]);
    expect(transport.peers.value.size).toBe(0);
    expect(partition.peers.value.size).toBe(0);

    partition.setConnected(true);
    transport.send(bo, Uint8Array.of(1, 4));
    inner.deliver(cy, Uint8Array.of(1, 5));
    expect(inner.sent.map((frame) => frame.to)).toEqual([bo]);
    expect(received.map((envelope) => envelope.from)).toEqual([cy]);
    expect([...partition.peers.value]).toEqual([bo, cy]);
  });

  it('switches the reachable peers and the connected flag together: a listener of either reads the other already switched', () => {
    const partition = createPartitionSwitch();
    partition.attach(fakeTransport('peer-ana', [bo, cy]).transport);
    const seen: string[] = [];
    const both = (): string => `connected ${partition.connected.value}, ${partition.peers.value.size} reachable`;
    partition.connected.subscribe(() => seen.push(`connected listener: ${both()}`));
    partition.peers.subscribe(() => seen.push(`peers listener: ${both()}`));
    partition.setConnected(false);
    partition.setConnected(true);
    expect(seen).toEqual([
      'peers listener: connected false, 0 reachable',
      'connected listener: connected false, 0 reachable',
      'peers listener: connected true, 2 reachable',
      'connected listener: connected true, 2 reachable',
    ]);
    // Switching to the state it is in announces nothing.
    partition.setConnected(true);
    expect(seen).toHaveLength(4);
  });

  it('keeps status frames from Raft and hands them to the panel', () => {
    const partition = createPartitionSwitch();
    const inner = fakeTransport('peer-ana', [bo]);
    const transport = partition.attach(inner.transport);
    const raftFrames: RaftEnvelope[] = [];
    transport.incoming.subscribe((envelope) => raftFrames.push(envelope));
    const heard: string[] = [];
    partition.statuses.subscribe(({ from, status: value }) => heard.push(`${from}:${value.name}`));
    inner.deliver(bo, statusFrame(status('Bo')));
    inner.deliver(bo, Uint8Array.of(statusFrameTag, 0x7b)); // malformed JSON: ignored
    expect(heard).toEqual([`${bo}:Bo`]);
    expect(raftFrames).toEqual([]);
  });

  it('ignores a status frame whose JSON lacks a field the panel reads or has one of another type', () => {
    const partition = createPartitionSwitch();
    const inner = fakeTransport('peer-ana', [bo]);
    partition.attach(inner.transport);
    const heard: string[] = [];
    partition.statuses.subscribe(({ status: value }) => heard.push(value.name));
    const json = (value: unknown): Uint8Array => Uint8Array.of(statusFrameTag, ...new TextEncoder().encode(JSON.stringify(value)));
    const { name: _name, ...nameless } = status('Bo');
    for (const malformed of [nameless, { ...status('Bo'), name: 7 }, { ...status('Bo'), term: '2' }, { ...status('Bo'), commitIndex: -1 }, { ...status('Bo'), leader: 5 }, { ...status('Bo'), visible: 'yes' }, [status('Bo')], null, 'Bo']) {
      inner.deliver(bo, json(malformed));
    }
    inner.deliver(bo, statusFrame(status('Bo')));
    expect(heard).toEqual(['Bo']);
  });

  it('carries each page’s release in its status: what one page broadcasts, another reads back, and a status without one reads as unknown', () => {
    const sender = createPartitionSwitch();
    const senderTransport = fakeTransport('peer-ana', [bo]);
    sender.attach(senderTransport.transport);
    const receiver = createPartitionSwitch();
    const receiverTransport = fakeTransport('peer-bo', [nodeId('peer-ana')]);
    receiver.attach(receiverTransport.transport);
    const heard: PeerStatus[] = [];
    receiver.statuses.subscribe(({ status: value }) => heard.push(value));
    const outdated: PeerStatus = { ...status('Ana'), release: { version: 1, outdated: { seenVersion: 2, index: 14 } } };
    const folding: PeerStatus = { ...status('Ana'), release: { version: 2, outdated: null } };
    for (const sent of [outdated, folding, status('Ana')]) sender.broadcastStatus(sent);
    for (const frame of senderTransport.sent) receiverTransport.deliver(nodeId('peer-ana'), frame.bytes);
    expect(heard).toEqual([outdated, folding, status('Ana')]);
    expect(heard[2]!.release).toBeUndefined();
  });

  it('ignores a status whose release is malformed, as it ignores any other malformed field', () => {
    const partition = createPartitionSwitch();
    const inner = fakeTransport('peer-ana', [bo]);
    partition.attach(inner.transport);
    const heard: PeerStatus[] = [];
    partition.statuses.subscribe(({ status: value }) => heard.push(value));
    const json = (value: unknown): Uint8Array => Uint8Array.of(statusFrameTag, ...new TextEncoder().encode(JSON.stringify(value)));
    for (const release of [null, 1, 'release 1', { version: -1, outdated: null }, { version: 2 ** 31, outdated: null }, { version: 1, outdated: { seenVersion: 2, index: 0 } }, { version: 1, outdated: { seenVersion: 1, index: 14 } }, { version: 1, outdated: { seenVersion: 2 ** 40, index: 14 } }]) {
      inner.deliver(bo, json({ ...status('Bo'), release }));
    }
    expect(heard).toEqual([]);
    inner.deliver(bo, json({ ...status('Bo'), release: { version: 1, outdated: null } }));
    expect(heard).toEqual([{ ...status('Bo'), release: { version: 1, outdated: null } }]);
  });

  it('reports the sender of every frame it lets through, Raft or status, and of none while disconnected', () => {
    const partition = createPartitionSwitch();
    const inner = fakeTransport('peer-ana', [bo, cy]);
    partition.attach(inner.transport);
    const heard: NodeId[] = [];
    partition.frames.subscribe((from) => heard.push(from));
    inner.deliver(bo, Uint8Array.of(1, 2));
    inner.deliver(cy, statusFrame(status('Cy')));
    partition.setConnected(false);
    inner.deliver(bo, Uint8Array.of(1, 3));
    inner.deliver(cy, statusFrame(status('Cy')));
    expect(heard).toEqual([bo, cy]);
    partition.setConnected(true);
    inner.deliver(cy, Uint8Array.of(1, 4));
    expect(heard).toEqual([bo, cy, cy]);
  });

  it('after a rejoin under a fresh id, follows the new transport: the cut stays, and peers and gossip are the new one’s', () => {
    const partition = createPartitionSwitch();
    const first = fakeTransport('peer-ana-1', [bo, cy]);
    const firstWrapped = partition.attach(first.transport);
    partition.setConnected(false);

    // joinRoom gives the wedged id up: it closes the transport it made for it, then asks for another.
    firstWrapped.close?.();
    expect(first.closed()).toBe(true);
    const second = fakeTransport('peer-ana-2', [cy, dee]);
    const secondWrapped = partition.attach(second.transport);

    // Still cut off: the page was disconnected before the rejoin, and nothing reconnected it.
    expect(partition.connected.value).toBe(false);
    secondWrapped.send(cy, Uint8Array.of(1, 9));
    expect(second.sent).toEqual([]);
    expect(secondWrapped.peers.value.size).toBe(0);

    partition.setConnected(true);
    expect([...partition.peers.value]).toEqual([cy, dee]);
    expect([...secondWrapped.peers.value]).toEqual([cy, dee]);
    partition.broadcastStatus(status('Ana'));
    expect(second.sent.map((frame) => frame.to)).toEqual([cy, dee]);
    expect(first.sent).toEqual([]);
    second.peers.set(new Set([dee]));
    expect([...partition.peers.value]).toEqual([dee]);
    // The closed transport's peers no longer reach the switch.
    first.peers.set(new Set([bo]));
    expect([...partition.peers.value]).toEqual([dee]);
  });

  it('an earlier transport not yet closed still obeys the switch, but the panel shows the latest', () => {
    const partition = createPartitionSwitch();
    const first = fakeTransport('peer-ana-1', [bo]);
    const firstWrapped = partition.attach(first.transport);
    const second = fakeTransport('peer-ana-2', [cy]);
    partition.attach(second.transport);
    expect([...partition.peers.value]).toEqual([cy]);
    partition.setConnected(false);
    firstWrapped.send(bo, Uint8Array.of(1, 1));
    expect(first.sent).toEqual([]);
    expect(firstWrapped.peers.value.size).toBe(0);
    partition.setConnected(true);
    expect([...firstWrapped.peers.value]).toEqual([bo]);
    expect([...partition.peers.value]).toEqual([cy]);
  });

  it('reports nobody reachable once the latest transport closes', () => {
    const partition = createPartitionSwitch();
    const only = partition.attach(fakeTransport('peer-ana', [bo]).transport);
    expect(partition.peers.value.size).toBe(1);
    only.close?.();
    expect(partition.peers.value.size).toBe(0);
    partition.broadcastStatus(status('Ana'));
  });
});
