// The node-level contract of createRaftNode (API.md "The node"), on the deterministic simulator.
import { describe, expect, it } from 'vitest';
import { RaftClosedError } from '../core/errors.ts';
import type { RaftMetric, RaftTraceEvent } from '../core/events.ts';
import { nodeId, type Committed, type LogEntry } from '../core/types.ts';
import { InMemoryRaftStorage } from '../storage/in-memory-storage.ts';
import { createLoopbackNetwork } from '../transport/loopback.ts';
import { createSimulatedCluster } from '../testing/cluster.ts';
import { createRaftNode } from './create-raft-node.ts';
import { CorruptStorageError } from './restore.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (value: Uint8Array): string => new TextDecoder().decode(value);

async function collect(iterable: AsyncIterable<Committed>, count: number): Promise<Committed[]> {
  const items: Committed[] = [];
  for await (const item of iterable) {
    items.push(item);
    if (items.length === count) break;
  }
  return items;
}

describe('createRaftNode: options', () => {
  it('rejects an invalid RaftConfig with a RangeError naming the field, value and rule', async () => {
    const network = createLoopbackNetwork();
    const id = nodeId('a');
    const options = { id, clusterConfig: { voters: [id] }, transport: network.transport(id), storage: new InMemoryRaftStorage() };
    await expect(createRaftNode({ ...options, raftConfig: { heartbeatInterval: 200 } })).rejects.toThrow(/RaftConfig\.heartbeatInterval = 200 .*< electionTimeoutMin \(150\)/);
    await expect(createRaftNode({ ...options, raftConfig: { maxTermJump: 0 } })).rejects.toThrow(RangeError);
    await expect(createRaftNode({ ...options, clusterConfig: { voters: [] } })).rejects.toThrow(/at least one voter/);
    await expect(createRaftNode({ ...options, clusterConfig: { voters: [id], learners: [id] } })).rejects.toThrow(/twice/);
    expect(() => nodeId('')).toThrow(RangeError);
  });

  it('refuses to start on corrupted storage', async () => {
    const storage = new InMemoryRaftStorage();
    await storage.saveTermAndVotedFor(1, null);
    await storage.appendEntries([{ index: 1, term: 5, command: new Uint8Array(0), isNoOp: true }]);
    const network = createLoopbackNetwork();
    const id = nodeId('a');
    await expect(createRaftNode({ id, clusterConfig: { voters: [id] }, transport: network.transport(id), storage })).rejects.toThrow(CorruptStorageError);
  });
});

describe('createRaftNode: a running cluster', () => {
  it('proposes from any role, resolves once committed, and delivers each index once, in order', async () => {
    const cluster = createSimulatedCluster({ seed: 501, size: 3 });
    await cluster.start();
    const leader = (await cluster.waitForLeader(2_000))!;
    const follower = [...cluster.nodes.values()].find((simulated) => simulated !== leader)!;
    await cluster.runFor(100); // the leader's no-op is applied everywhere
    const stream = collect(follower.node!.committed(), 3);
    const proposals = ['one', 'two', 'three'].map((value, position) => (position === 1 ? follower : leader).node!.propose(bytes(value)));
    const entries = (await cluster.settle(Promise.all(proposals))) as LogEntry[];
    expect(entries.map((entry) => text(entry.command))).toEqual(['one', 'two', 'three']);
    expect(new Set(entries.map((entry) => entry.index)).size).toBe(3);
    const delivered = (await cluster.settle(stream))!;
    // The live tail starts after the call: exactly the three entries, in index order.
    const byIndex = [...entries].sort((left, right) => left.index - right.index);
    expect(delivered.map((item) => (item.type === 'entry' ? item.entry.index : -1))).toEqual(byIndex.map((entry) => entry.index));
    const replay = (await cluster.settle(collect(follower.node!.committedFrom(1), 4)))!;
    expect(replay.map((item) => (item.type === 'entry' ? item.entry.index : item.type === 'internal' ? item.index : -1))).toEqual([1, 2, 3, 4]);
    expect(replay[0]).toEqual({ type: 'internal', index: 1 }); // the leader's no-op
    await cluster.close();
  });

  it('publishes role, leader, term and commitIndex to subscribers', async () => {
    const cluster = createSimulatedCluster({ seed: 502, size: 3 });
    await cluster.start();
    const node = cluster.nodes.values().next().value!.node!;
    const terms: number[] = [];
    node.term.subscribe((term) => terms.push(term));
    const leader = (await cluster.waitForLeader(2_000))!;
    await cluster.runFor(100);
    expect(node.leader.value).toBe(leader.id);
    expect(terms.at(-1)).toBe(node.term.value);
    expect(node.commitIndex.value).toBeGreaterThanOrEqual(1);
    expect(['follower', 'leader']).toContain(node.role.value);
    await cluster.close();
  });

  it('an aborted proposal rejects with the signal reason and leaves the node healthy', async () => {
    const cluster = createSimulatedCluster({ seed: 503, size: 3 });
    await cluster.start();
    const leader = (await cluster.waitForLeader(2_000))!;
    const already = AbortSignal.abort(new Error('never mind'));
    await expect(leader.node!.propose(bytes('x'), { signal: already })).rejects.toThrow('never mind');
    cluster.network.isolate(leader.id);
    const controller = new AbortController();
    const stuck = leader.node!.propose(bytes('y'), { signal: controller.signal });
    await cluster.runFor(20);
    controller.abort(new Error('gave up'));
    await expect(stuck).rejects.toThrow('gave up');
    cluster.network.heal();
    const next = (await cluster.waitForLeader(3_000))!;
    const entry = await cluster.settle(next.node!.propose(bytes('z')));
    expect(entry?.command).toEqual(bytes('z'));
    await cluster.close();
  });

  it('close rejects pending calls with RaftClosedError, is idempotent, and later calls reject', async () => {
    const cluster = createSimulatedCluster({ seed: 504, size: 3 });
    await cluster.start();
    const leader = (await cluster.waitForLeader(2_000))!;
    const node = leader.node!;
    cluster.network.isolate(leader.id);
    const pending = node.propose(bytes('pending'));
    const waiting = node.readIndex();
    const closed = node.close();
    await expect(pending).rejects.toBeInstanceOf(RaftClosedError);
    await expect(waiting).rejects.toBeInstanceOf(RaftClosedError);
    // close() resolves once the storage write in flight has landed (on the virtual clock).
    await cluster.settle(Promise.all([closed, node.close()]));
    await expect(node.propose(bytes('late'))).rejects.toBeInstanceOf(RaftClosedError);
    await cluster.close();
  });

  it('reports metrics and, while subscribed, trace events named after the TLA+ actions', async () => {
    const metrics: RaftMetric[] = [];
    const trace: RaftTraceEvent[] = [];
    const network = createLoopbackNetwork();
    const id = nodeId('solo');
    const node = await createRaftNode({ id, clusterConfig: { voters: [id] }, transport: network.transport(id), storage: new InMemoryRaftStorage(), onMetric: (metric) => metrics.push(metric) });
    node.trace.subscribe((event) => trace.push(event));
    await node.awaitLeadership();
    await node.propose(bytes('traced'));
    expect(metrics.map((metric) => metric.type)).toEqual(expect.arrayContaining(['electionStarted', 'electionWon', 'proposeAccepted', 'proposeCommitted', 'proposeApplied']));
    expect(trace.map((event) => event.type)).toEqual(expect.arrayContaining(['clientRequest', 'advanceCommitIndex']));
    expect(trace.every((event) => event.node === id && typeof event.at === 'number')).toBe(true);
    await node.close();
  });

  it('restarts from storage and replays the same committed entries', async () => {
    const storage = new InMemoryRaftStorage();
    const id = nodeId('solo');
    const start = async () => createRaftNode({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage });
    const first = await start();
    await first.awaitLeadership();
    for (const value of ['a', 'b', 'c']) await first.propose(bytes(value));
    await first.close();
    const second = await start();
    await second.awaitLeadership();
    const replay = await collect(second.committedFrom(1), 4);
    expect(replay.filter((item) => item.type === 'entry').map((item) => (item.type === 'entry' ? text(item.entry.command) : ''))).toEqual(['a', 'b', 'c']);
    expect(second.term.value).toBe(2);
    await second.close();
  });

  it('an abort signal in the options closes the node', async () => {
    const controller = new AbortController();
    const id = nodeId('solo');
    const node = await createRaftNode({ id, clusterConfig: { voters: [id] }, transport: createLoopbackNetwork().transport(id), storage: new InMemoryRaftStorage(), signal: controller.signal });
    await node.awaitLeadership();
    controller.abort();
    await expect(node.propose(bytes('after'))).rejects.toBeInstanceOf(RaftClosedError);
  });

  it('counts undecodable frames (unknown type, newer version, garbage) without harm', async () => {
    const metrics: RaftMetric[] = [];
    const trace: RaftTraceEvent[] = [];
    const network = createLoopbackNetwork();
    const id = nodeId('solo');
    const peer = network.transport(nodeId('peer'));
    const node = await createRaftNode({ id, clusterConfig: { voters: [id] }, transport: network.transport(id), storage: new InMemoryRaftStorage(), onMetric: (metric) => metrics.push(metric) });
    node.trace.subscribe((event) => trace.push(event));
    await node.awaitLeadership();
    for (const frame of [new Uint8Array([1, 200]), new Uint8Array([2, 1, 5]), new Uint8Array([0xde, 0xad])]) peer.send(id, frame);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const undecodable = metrics.filter((metric) => metric.type === 'frameUndecodable');
    expect(undecodable.map((metric) => (metric.type === 'frameUndecodable' ? metric.reason : ''))).toEqual(['unknownType', 'unsupportedVersion', 'unsupportedVersion']);
    expect(trace.filter((event) => event.type === 'frameUndecodable')).toHaveLength(3);
    expect((await node.propose(bytes('still fine'))).index).toBe(2);
    await node.close();
  });
});
