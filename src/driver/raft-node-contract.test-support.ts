// The node-level contract of RaftNode (API.md "The node"), written once and run against every
// implementation: createRaftNode in Node on the deterministic simulator (raft-node.test.ts) and
// createWorkerRaftNode in headless Chromium with real time, engines in workers
// (src/worker/worker-node.browser.test.ts). Passing both proves the two interchangeable.
//
// A harness hides how time passes: on the simulator `runFor` advances a virtual clock and
// `settle` drives it until a promise settles; in the browser both simply wait in real time.
// Waits are conditions with generous deadlines, never timed assertions.
import { describe, expect, it } from 'vitest';
import type { RaftConfig } from '../core/config.ts';
import { RaftClosedError } from '../core/errors.ts';
import type { RaftMetric, RaftTraceEvent } from '../core/events.ts';
import { nodeId, type ClusterConfig, type Committed, type LogEntry, type NodeId } from '../core/types.ts';
import type { LoopbackNetwork } from '../transport/loopback.ts';
import type { RaftNode } from './node-options.ts';

export interface ContractCluster {
  readonly nodes: readonly RaftNode[];
  /** The live node leading the highest term, once there is one (fails after a generous wait). */
  waitForLeader(): Promise<RaftNode>;
  runFor(ms: number): Promise<void>;
  /** Lets time pass until the predicate holds (fails after a generous wait). */
  runUntil(predicate: () => boolean): Promise<void>;
  settle<T>(promise: Promise<T>): Promise<T>;
  /** Cuts every link to and from the node. */
  isolate(node: RaftNode): void;
  heal(): void;
  close(): Promise<void>;
}

export interface SoloOptions {
  /** Nodes started with the same name share durable storage (a restart). Default: fresh storage. */
  readonly storageName?: string;
  readonly clusterConfig?: (id: NodeId) => ClusterConfig;
  readonly raftConfig?: Omit<RaftConfig, 'clock' | 'random'>;
  readonly onMetric?: (metric: RaftMetric) => void;
  readonly signal?: AbortSignal;
}

export interface RaftNodeHarness {
  /** Three nodes, all voters, on a reliable network; `seed` fixes the simulator's choices. */
  cluster(seed: number): Promise<ContractCluster>;
  /** One node on real time, reachable on `network` (so a test can send it raw frames). */
  solo(id: NodeId, options?: SoloOptions): Promise<{ node: RaftNode; network: LoopbackNetwork }>;
}

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

/** Real-time wait for a condition; the deadline is generous (the machine is shared), never asserted on. */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** What a promise settled with within `ms` real milliseconds, or 'still pending' (a hang fails fast and says so). */
async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | 'still pending'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'still pending'>((resolve) => (timer = setTimeout(() => resolve('still pending'), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

const indexOf = (item: Committed): number => (item.type === 'entry' ? item.entry.index : item.type === 'internal' ? item.index : -1);

export function describeRaftNodeContract(name: string, harness: RaftNodeHarness): void {
  describe(`${name}: options`, () => {
    it('rejects an invalid RaftConfig with a RangeError naming the field, value and rule', async () => {
      const id = nodeId('a');
      await expect(harness.solo(id, { raftConfig: { heartbeatInterval: 200 } })).rejects.toThrow(/RaftConfig\.heartbeatInterval = 200 .*< electionTimeoutMin \(150\)/);
      await expect(harness.solo(id, { raftConfig: { maxTermJump: 0 } })).rejects.toThrow(RangeError);
      await expect(harness.solo(id, { clusterConfig: () => ({ voters: [] }) })).rejects.toThrow(/at least one voter/);
      await expect(harness.solo(id, { clusterConfig: (self) => ({ voters: [self], learners: [self] }) })).rejects.toThrow(/twice/);
      expect(() => nodeId('')).toThrow(RangeError);
    });
  });

  describe(`${name}: a running cluster`, () => {
    it('proposes from any role, resolves once committed, and delivers each index once, in order', async () => {
      const cluster = await harness.cluster(501);
      const leader = await cluster.waitForLeader();
      const follower = cluster.nodes.find((node) => node !== leader)!;
      // The leader's no-op is committed and known everywhere before the live tail starts.
      await cluster.runUntil(() => cluster.nodes.every((node) => node.commitIndex.value >= 1));
      await cluster.runFor(100);
      const stream = collect(follower.committed(), 3);
      const proposals = ['one', 'two', 'three'].map((value, position) => (position === 1 ? follower : leader).propose(bytes(value)));
      const entries: LogEntry[] = await cluster.settle(Promise.all(proposals));
      expect(entries.map((entry) => text(entry.command))).toEqual(['one', 'two', 'three']);
      expect(new Set(entries.map((entry) => entry.index)).size).toBe(3);
      const delivered = await cluster.settle(stream);
      // The live tail starts after the call: exactly the three entries, in index order.
      const byIndex = [...entries].sort((left, right) => left.index - right.index);
      expect(delivered.map(indexOf)).toEqual(byIndex.map((entry) => entry.index));
      const replay = await cluster.settle(collect(follower.committedFrom(1), 4));
      expect(replay.map(indexOf)).toEqual([1, 2, 3, 4]);
      expect(replay[0]).toEqual({ type: 'internal', index: 1 }); // the leader's no-op
      await cluster.close();
    });

    it('a command buffer the caller reuses as soon as propose returns does not change what was proposed, on any node', async () => {
      const cluster = await harness.cluster(502);
      const leader = await cluster.waitForLeader();
      const follower = cluster.nodes.find((node) => node !== leader)!;
      const buffer = new Uint8Array(3);
      const proposals: Array<Promise<LogEntry>> = [];
      for (const [round, node] of [leader, follower, leader].entries()) {
        buffer.fill(round + 1); // an encoder reusing its output buffer within one synchronous run
        proposals.push(node.propose(buffer));
      }
      buffer.fill(9);
      const entries = await cluster.settle(Promise.all(proposals));
      expect(entries.map((entry) => [...entry.command])).toEqual([
        [1, 1, 1],
        [2, 2, 2],
        [3, 3, 3],
      ]);
      const replayed = await cluster.settle(collect(follower.committedFrom(1), 4));
      expect(replayed.flatMap((item) => (item.type === 'entry' ? [[...item.entry.command]] : [])).sort()).toEqual([
        [1, 1, 1],
        [2, 2, 2],
        [3, 3, 3],
      ]);
      await cluster.close();
    });

    it('publishes role, leader, term and commitIndex to subscribers', async () => {
      const cluster = await harness.cluster(502);
      const node = cluster.nodes[0]!;
      const terms: number[] = [];
      node.term.subscribe((term) => terms.push(term));
      const leader = await cluster.waitForLeader();
      await cluster.runUntil(() => node.leader.value === leader.id && node.commitIndex.value >= 1);
      await cluster.runFor(100);
      expect(node.leader.value).toBe(leader.id);
      expect(terms.at(-1)).toBe(node.term.value);
      expect(node.commitIndex.value).toBeGreaterThanOrEqual(1);
      expect(['follower', 'leader']).toContain(node.role.value);
      expect(node.stopped.value).toBe(null);
      await cluster.close();
    });

    it('a listener of one value reads the others of the same moment: the leader role comes with its term', async () => {
      const cluster = await harness.cluster(503);
      const seen: { role: string; term: number; leader: string | null }[] = [];
      for (const node of cluster.nodes) node.role.subscribe((role) => seen.push({ role, term: node.term.value, leader: node.leader.value }));
      const leader = await cluster.waitForLeader();
      await cluster.runUntil(() => seen.some((moment) => moment.role === 'leader'));
      // Before every value was stored ahead of the announcements, a role listener read the term
      // before the election (the simulator's checker then saw two leaders in one term).
      expect(seen.filter((moment) => moment.role === 'leader')).toContainEqual({ role: 'leader', term: leader.term.value, leader: leader.id });
      await cluster.close();
    });

    it('an aborted proposal rejects with the signal reason and leaves the node healthy', async () => {
      const cluster = await harness.cluster(503);
      const leader = await cluster.waitForLeader();
      const already = AbortSignal.abort(new Error('never mind'));
      await expect(leader.propose(bytes('x'), { signal: already })).rejects.toThrow('never mind');
      cluster.isolate(leader);
      const controller = new AbortController();
      const stuck = leader.propose(bytes('y'), { signal: controller.signal });
      await cluster.runFor(20);
      controller.abort(new Error('gave up'));
      await expect(stuck).rejects.toThrow('gave up');
      cluster.heal();
      const next = await cluster.waitForLeader();
      const entry = await cluster.settle(next.propose(bytes('z')));
      expect(entry.command).toEqual(bytes('z'));
      await cluster.close();
    });

    it('close rejects pending calls with RaftClosedError, is idempotent, and later calls reject', async () => {
      const cluster = await harness.cluster(504);
      const node = await cluster.waitForLeader();
      cluster.isolate(node);
      const pending = node.propose(bytes('pending'));
      const waiting = node.readIndex();
      const closed = node.close();
      await expect(pending).rejects.toBeInstanceOf(RaftClosedError);
      await expect(waiting).rejects.toBeInstanceOf(RaftClosedError);
      // close() resolves once the storage write in flight has landed (on the simulator's clock).
      await cluster.settle(Promise.all([closed, node.close()]));
      await expect(node.propose(bytes('late'))).rejects.toBeInstanceOf(RaftClosedError);
      expect(node.stopped.value).toBeInstanceOf(RaftClosedError);
      await cluster.close();
    });
  });

  describe(`${name}: one node`, () => {
    it('reports metrics and, while subscribed, trace events named after the TLA+ actions', async () => {
      const metrics: RaftMetric[] = [];
      const trace: RaftTraceEvent[] = [];
      const id = nodeId('solo');
      const { node } = await harness.solo(id, { onMetric: (metric) => metrics.push(metric) });
      node.trace.subscribe((event) => trace.push(event));
      await node.awaitLeadership();
      await node.propose(bytes('traced'));
      expect(metrics.map((metric) => metric.type)).toEqual(expect.arrayContaining(['electionStarted', 'electionWon', 'proposeAccepted', 'proposeCommitted', 'proposeApplied']));
      expect(trace.map((event) => event.type)).toEqual(expect.arrayContaining(['clientRequest', 'advanceCommitIndex']));
      expect(trace.every((event) => event.node === id && typeof event.at === 'number')).toBe(true);
      await node.close();
    });

    it('a trace listener may unsubscribe after close, and a new one subscribe, without a throw', async () => {
      const { node } = await harness.solo(nodeId('solo'));
      const unsubscribe = node.trace.subscribe(() => {});
      await node.close();
      // The usual teardown order of a UI: close the node, then drop the listeners it had.
      expect(() => unsubscribe()).not.toThrow();
      expect(() => node.trace.subscribe(() => {})()).not.toThrow();
    });

    it('a committed iterator returned early is done: a next() pending at return() settles, later ones too, and none reopens it', async () => {
      const { node } = await harness.solo(nodeId('solo'));
      await node.awaitLeadership();
      const iterator = node.committedFrom(2)[Symbol.asyncIterator]();
      const pending = iterator.next(); // nothing at index 2 yet: it waits
      await new Promise((resolve) => setTimeout(resolve, 50));
      await iterator.return?.();
      await node.propose(bytes('after return'));
      expect(await iterator.next()).toEqual({ done: true, value: undefined });
      // Returned before its first next(): done, not a stream opened afresh.
      const unopened = node.committedFrom(1)[Symbol.asyncIterator]();
      await unopened.return?.();
      expect(await unopened.next()).toEqual({ done: true, value: undefined });
      await node.close();
      expect(await settledWithin(pending, 2_000)).toEqual({ done: true, value: undefined });
    });

    it('next() called again before the previous one settled: each settles, with the items in call order', async () => {
      const { node } = await harness.solo(nodeId('solo'));
      await node.awaitLeadership();
      const iterator = node.committedFrom(1)[Symbol.asyncIterator]();
      // Three pulls at once (a consumer that prefetches): the leader's no-op is there, the rest not yet.
      const pulls = [iterator.next(), iterator.next(), iterator.next()];
      await node.propose(bytes('second'));
      await node.propose(bytes('third'));
      const results = await settledWithin(Promise.all(pulls), 5_000);
      expect(results === 'still pending' ? results : results.map((result) => (result.done === true ? 'done' : indexOf(result.value)))).toEqual([1, 2, 3]);
      await iterator.return?.();
      await node.close();
    });

    it('a membership listener hears of a new configuration, not of every commit that leaves it as it was', async () => {
      const { node } = await harness.solo(nodeId('solo'));
      await node.awaitLeadership();
      const heard: ClusterConfig[] = [];
      node.membership.subscribe((config) => heard.push(config));
      for (const value of ['a', 'b', 'c']) await node.propose(bytes(value));
      expect(node.commitIndex.value).toBeGreaterThanOrEqual(4);
      expect(heard).toEqual([]);
      await node.close();
    });

    it('takes configurations held in proxies (the objects of a reactive store) as their values', async () => {
      // Vue's reactive() and MobX observables hand out Proxies, which structured cloning refuses.
      const reactive = <T extends object>(value: T): T => new Proxy(value, {});
      const id = nodeId('solo');
      const { node } = await harness.solo(id, { clusterConfig: (self) => reactive({ voters: reactive([self]) }) });
      await node.awaitLeadership();
      const target = reactive({ voters: reactive([id]), learners: reactive([nodeId('watcher')]) });
      const changed = await node.changeMembership(target);
      expect({ voters: [...changed.voters], learners: [...(changed.learners ?? [])] }).toEqual({ voters: [id], learners: ['watcher'] });
      await node.close();
    });

    it('a proposal keeps the request id it was given; an invalid one rejects with RangeError and spares the others of its burst', async () => {
      const { node } = await harness.solo(nodeId('solo'));
      await node.awaitLeadership();
      // One synchronous burst: on a worker node they cross the boundary in one message.
      const given = node.propose(bytes('given'), { requestId: 2 ** 40 });
      // Their outcomes are taken at once: they reject at the call, as createRaftNode's do, while
      // the test waits for the others.
      const invalid = [-1, 1.5, Number.NaN, 0].map((requestId) => node.propose(bytes('invalid'), { requestId }).then(() => 'resolved', (error: unknown) => error));
      const issued = node.propose(bytes('issued'));
      const entries = await Promise.all([given, issued]);
      expect(entries.map((entry) => [text(entry.command), entry.dedupKey?.requestId])).toEqual([
        ['given', 2 ** 40],
        ['issued', 2 ** 40 + 1],
      ]);
      for (const outcome of await Promise.all(invalid)) expect(outcome).toBeInstanceOf(RangeError);
      await node.close();
    });

    it('restarts from storage and replays the same committed entries', async () => {
      const id = nodeId('solo');
      const storageName = `restart-${Math.random().toString(36).slice(2)}`;
      const first = (await harness.solo(id, { storageName })).node;
      await first.awaitLeadership();
      for (const value of ['a', 'b', 'c']) await first.propose(bytes(value));
      await first.close();
      const second = (await harness.solo(id, { storageName })).node;
      await second.awaitLeadership();
      const replay = await collect(second.committedFrom(1), 4);
      expect(replay.filter((item) => item.type === 'entry').map((item) => (item.type === 'entry' ? text(item.entry.command) : ''))).toEqual(['a', 'b', 'c']);
      expect(second.term.value).toBe(2);
      await second.close();
    });

    it('names the client id its proposals carry, a new one after a restart', async () => {
      const id = nodeId('solo');
      const storageName = `client-id-${Math.random().toString(36).slice(2)}`;
      const first = (await harness.solo(id, { storageName })).node;
      await first.awaitLeadership();
      const before = (await first.propose(bytes('a'))).dedupKey?.clientId;
      expect(before).toBeDefined();
      expect(first.clientId?.value).toBe(before);
      await first.close();
      const second = (await harness.solo(id, { storageName })).node;
      await second.awaitLeadership();
      // Known before this incarnation proposes anything: what tells its entries from the last one's.
      const named = second.clientId?.value;
      expect(named).toBeDefined();
      expect(named).not.toBe(before);
      expect((await second.propose(bytes('b'))).dedupKey?.clientId).toBe(named);
      await second.close();
    });

    it('an abort signal in the options closes the node', async () => {
      const controller = new AbortController();
      const { node } = await harness.solo(nodeId('solo'), { signal: controller.signal });
      await node.awaitLeadership();
      controller.abort();
      await expect(node.propose(bytes('after'))).rejects.toBeInstanceOf(RaftClosedError);
    });

    it('a node that stops lets go of its abort signal (one signal may outlive many nodes)', async () => {
      const controller = new AbortController();
      const signal = controller.signal;
      // The abort listeners the node leaves on the signal, watched through the signal's own methods.
      const listening = new Set<unknown>();
      const add = signal.addEventListener.bind(signal);
      const remove = signal.removeEventListener.bind(signal);
      signal.addEventListener = ((type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions) => {
        if (type === 'abort') listening.add(listener);
        add(type, listener, options);
      }) as typeof signal.addEventListener;
      signal.removeEventListener = ((type: string, listener: EventListenerOrEventListenerObject, options?: boolean | EventListenerOptions) => {
        if (type === 'abort') listening.delete(listener);
        remove(type, listener, options);
      }) as typeof signal.removeEventListener;
      const { node } = await harness.solo(nodeId('solo'), { signal });
      await node.awaitLeadership();
      expect(listening.size).toBeGreaterThan(0);
      await node.close();
      expect(listening.size).toBe(0);
    });

    it('counts undecodable frames (unknown type, newer version, garbage) without harm', async () => {
      const metrics: RaftMetric[] = [];
      const trace: RaftTraceEvent[] = [];
      const id = nodeId('solo');
      const { node, network } = await harness.solo(id, { onMetric: (metric) => metrics.push(metric) });
      const peer = network.transport(nodeId('peer'));
      node.trace.subscribe((event) => trace.push(event));
      await node.awaitLeadership();
      for (const frame of [new Uint8Array([1, 200]), new Uint8Array([2, 1, 5]), new Uint8Array([0xde, 0xad])]) peer.send(id, frame);
      const undecodable = (): RaftMetric[] => metrics.filter((metric) => metric.type === 'frameUndecodable');
      await waitFor(() => undecodable().length >= 3, 'three frameUndecodable metrics');
      expect(undecodable().map((metric) => (metric.type === 'frameUndecodable' ? metric.reason : ''))).toEqual(['unknownType', 'unsupportedVersion', 'unsupportedVersion']);
      await waitFor(() => trace.filter((event) => event.type === 'frameUndecodable').length >= 3, 'three frameUndecodable trace events');
      expect(trace.filter((event) => event.type === 'frameUndecodable')).toHaveLength(3);
      expect((await node.propose(bytes('still fine'))).index).toBe(2);
      await node.close();
    });
  });
}
