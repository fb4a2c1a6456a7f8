import { describe, expect, it } from 'vitest';
import { createEmitter, createWatchable } from '../core/observable.ts';
import { nodeId, type NodeId } from '../core/types.ts';
import { combineSignalingClients } from './combined-client.ts';
import { collectingRejections } from '../rooms/unhandled-rejections.test-support.ts';
import { SignalingRefusedError, SignalingUnreachableError, type ReceivedSignal, type SignalingClient } from './signaling-client.ts';

function fakeClient(peerIds: string[]) {
  const peers = createWatchable<ReadonlySet<NodeId>>(new Set(peerIds.map(nodeId)));
  const signals = createEmitter<ReceivedSignal>();
  const sent: Array<[string, string]> = [];
  let resolveClosed: (reason: Error | null) => void = () => undefined;
  const client: SignalingClient = {
    selfId: nodeId('me'),
    roomId: 'room',
    peers,
    signals,
    signal: (to, payload) => sent.push([to, payload]),
    close: () => resolveClosed(null),
    closed: new Promise((resolve) => (resolveClosed = resolve)),
  };
  return { client, peers, signals, sent, fail: (error: Error) => resolveClosed(error) };
}

describe('combineSignalingClients', () => {
  it('lists the union of peers and follows changes', () => {
    const server = fakeClient(['a']);
    const tabs = fakeClient(['b']);
    const combined = combineSignalingClients([tabs.client, server.client]);
    expect([...combined.peers.value].sort()).toEqual(['a', 'b']);
    server.peers.set(new Set());
    expect([...combined.peers.value]).toEqual(['b']);
  });

  it('routes a signal through the first client that lists the peer, and drops it for an unknown peer', () => {
    const tabs = fakeClient(['a']);
    const server = fakeClient(['a', 'c']);
    const combined = combineSignalingClients([tabs.client, server.client]);
    combined.signal(nodeId('a'), 'offer-a');
    combined.signal(nodeId('c'), 'offer-c');
    combined.signal(nodeId('z'), 'lost');
    expect(tabs.sent).toEqual([['a', 'offer-a']]);
    expect(server.sent).toEqual([['c', 'offer-c']]);
  });

  it('delivers signals from every client, and closes all of them', async () => {
    const tabs = fakeClient([]);
    const server = fakeClient([]);
    const combined = combineSignalingClients([tabs.client, server.client]);
    const received: string[] = [];
    combined.signals.subscribe((signal) => received.push(`${signal.from}:${signal.payload}`));
    tabs.signals.emit({ from: nodeId('a'), payload: '1' });
    server.signals.emit({ from: nodeId('b'), payload: '2' });
    expect(received).toEqual(['a:1', 'b:2']);
    server.fail(new Error('server refused us'));
    combined.close();
    expect((await combined.closed)?.message).toBe('server refused us');
  });

  it('lists no peers and is not ready once closed, whatever its clients did (room code reads peers.value)', async () => {
    const tabs = fakeClient(['a']);
    const server = fakeClient(['b']);
    // The server client empties its peers as it closes, as the real ones do; the tabs' does not.
    const closingServer = { ...server.client, ready: createWatchable(true), close: () => (server.peers.set(new Set()), server.client.close()) };
    const combined = combineSignalingClients([tabs.client, closingServer]);
    expect([...combined.peers.value].sort()).toEqual(['a', 'b']);
    expect(combined.ready?.value).toBe(true);
    combined.close();
    expect(await combined.closed).toBeNull();
    expect([...combined.peers.value]).toEqual([]);
    expect(combined.ready?.value).toBe(false);
  });

  it('a client that only gave up leaves the rest running; a refusal from any one stops it for good with that reason', async () => {
    const tabs = fakeClient([]);
    const server = fakeClient([]);
    const combined = combineSignalingClients([tabs.client, server.client]);
    let outcome: Error | null | 'running' = 'running';
    void combined.closed.then((reason) => (outcome = reason));
    server.fail(new SignalingUnreachableError('gave up after 10 attempts'));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(outcome).toBe('running'); // the tabs still meet over their channel
    tabs.fail(new SignalingRefusedError('admission-refused', 'the room secret does not match'));
    expect(await combined.closed).toEqual(new SignalingRefusedError('admission-refused', 'the room secret does not match'));
  });

  it('closes the other clients when one is refused', async () => {
    const tabs = fakeClient([]);
    const server = fakeClient([]);
    let tabsClosed = false;
    const combined = combineSignalingClients([{ ...tabs.client, close: () => ((tabsClosed = true), tabs.client.close()) }, server.client]);
    server.fail(new SignalingRefusedError('replaced', 'another connection took this id'));
    expect((await combined.closed)?.name).toBe('SignalingRefusedError');
    expect(tabsClosed).toBe(true);
  });

  it('a client whose closed rejects raises no unhandled rejection of its own (the combined closed reports it)', async () => {
    const rejecting = { ...fakeClient([]).client, closed: Promise.reject(new Error('custom client failed')) };
    const raised = await collectingRejections(async () => {
      const combined = combineSignalingClients([rejecting, fakeClient([]).client]);
      await expect(combined.closed).rejects.toThrow('custom client failed');
    });
    expect(raised).toEqual([]);
  });

  it('refuses clients of different rooms or ids', () => {
    const other = { ...fakeClient([]).client, roomId: 'elsewhere' };
    expect(() => combineSignalingClients([fakeClient([]).client, other])).toThrow(/one room/);
    expect(() => combineSignalingClients([])).toThrow(RangeError);
  });
});
