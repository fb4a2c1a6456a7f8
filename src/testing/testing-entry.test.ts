// A black-box audit of raftmesh/testing and the test utilities the root exports: everything here
// is imported the way an application's test suite would (src/testing/index.ts is
// `raftmesh/testing`, src/index.ts is `raftmesh`), and checks what the docs promise.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as root from '../index.ts';
import { createLoopbackNetwork, createRaftNode, InMemoryRaftStorage, nodeId, type Committed, type LogEntry, type NodeId, type RaftNode } from '../index.ts';
import * as testing from './index.ts';
import {
  checkLinearizability,
  createKeyValueStateMachine,
  createSimulatedCluster,
  createSimulatedNetwork,
  deriveSeed,
  drainMicrotasks,
  encodeKvCommand,
  reliableNetwork,
  replayCommand,
  runSimulation,
  SafetyChecker,
  SafetyViolation,
  seededRandom,
  validateConditions,
  VirtualClock,
  type KvOperation,
  type NetworkConditions,
} from './index.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array): string => new TextDecoder().decode(data);

describe('root and raftmesh/testing export the same test utilities', () => {
  it('VirtualClock and seededRandom are one implementation under both entries', () => {
    expect(root.VirtualClock).toBe(testing.VirtualClock);
    expect(root.seededRandom).toBe(testing.seededRandom);
    // The kv example is exported from the testing entry (not necessarily from the root).
    expect(typeof testing.createKeyValueStateMachine).toBe('function');
  });
});

describe('VirtualClock, as a user of raftmesh/testing sees it', () => {
  it('fires timers in time order and, at equal times, in the order they were set', async () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('c@7'), 7);
    clock.setTimeout(() => fired.push('a@3'), 3);
    clock.setTimeout(() => fired.push('d@7'), 7);
    clock.setTimeout(() => fired.push('b@3'), 3);
    await clock.advance(10);
    expect(fired).toEqual(['a@3', 'b@3', 'c@7', 'd@7']);
  });

  it('fires a timer set from a callback for a time already reached within the same advance, after the timers already due then', async () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.setTimeout(() => {
      fired.push(`first@${clock.now()}`);
      clock.setTimeout(() => fired.push(`nested@${clock.now()}`), 0);
    }, 5);
    clock.setTimeout(() => fired.push(`second@${clock.now()}`), 5);
    await clock.advance(5);
    expect(fired).toEqual(['first@5', 'second@5', 'nested@5']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('refuses a start time that is not finite, instead of firing every timer at once', async () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number]) expect(() => new VirtualClock(bad)).toThrow(RangeError);
    const clock = new VirtualClock(-50);
    let fired = false;
    clock.setTimeout(() => (fired = true), 100);
    await clock.advance(1);
    expect(fired).toBe(false);
    expect(clock.now()).toBe(-49);
  });

  it('advance(0) fires what is due now and does not move time', async () => {
    const clock = new VirtualClock(1_000);
    let fired = false;
    clock.setTimeout(() => (fired = true), 0);
    await clock.advance(0);
    expect(fired).toBe(true);
    expect(clock.now()).toBe(1_000);
  });

  it('refuses a negative, NaN or infinite advance with a RangeError, and time stays where it was', async () => {
    const clock = new VirtualClock(10);
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, '5' as unknown as number]) {
      await expect(clock.advance(bad)).rejects.toThrow(RangeError);
      expect(clock.now()).toBe(10);
    }
    // The clock is still usable after a refused call.
    await clock.advance(1);
    expect(clock.now()).toBe(11);
  });

  it('now() is monotonic and exactly the sum of what was advanced (timers fire at their own time)', async () => {
    const clock = new VirtualClock(0);
    const seen: number[] = [];
    for (const delay of [1, 2, 3, 50]) clock.setTimeout(() => seen.push(clock.now()), delay);
    let expected = 0;
    for (const step of [0, 1, 1, 7, 100]) {
      await clock.advance(step);
      expected += step;
      expect(clock.now()).toBe(expected);
    }
    expect(seen).toEqual([1, 2, 3, 50]);
  });

  it('clearTimeout of a fired, cleared, unknown or foreign handle is harmless', async () => {
    const clock = new VirtualClock();
    const other = new VirtualClock();
    const fired: string[] = [];
    // Two clocks each set their first timer: a handle of one must mean nothing to the other.
    const mine = clock.setTimeout(() => fired.push('mine'), 5);
    const foreign = other.setTimeout(() => fired.push('foreign'), 5);
    const early = clock.setTimeout(() => fired.push('early'), 1);
    await clock.advance(1);
    // The other clock's handle, this clock's fired handle, junk, a real timer's handle.
    clock.clearTimeout(foreign);
    clock.clearTimeout(early);
    for (const junk of [undefined, null, 0, -1, 'x', {}, Symbol('s')]) clock.clearTimeout(junk);
    const real = setTimeout(() => undefined, 0);
    clock.clearTimeout(real);
    clearTimeout(real);
    expect(clock.pendingTimers).toBe(1);
    expect(other.pendingTimers).toBe(1);
    await clock.advance(10);
    await other.advance(10);
    expect(fired).toEqual(['early', 'mine', 'foreign']);
    // Its own handle still cancels.
    const cancelled = clock.setTimeout(() => fired.push('cancelled'), 1);
    clock.clearTimeout(cancelled);
    await clock.advance(5);
    expect(fired).toEqual(['early', 'mine', 'foreign']);
    void mine;
  });

  it('refuses a timer callback that is not a function when it is set, not when it would fire', async () => {
    const clock = new VirtualClock();
    expect(() => clock.setTimeout('alert(1)' as unknown as () => void, 1)).toThrow(TypeError);
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(5);
  });

  it('lets awaited code run between timers: a timer that resolves a promise lets its awaiter set the next timer in time', async () => {
    const clock = new VirtualClock();
    const sleep = (ms: number): Promise<void> => new Promise((resolve) => clock.setTimeout(resolve, ms));
    const steps: number[] = [];
    const loop = (async () => {
      for (let step = 0; step < 5; step += 1) {
        await sleep(10);
        steps.push(clock.now());
      }
    })();
    await clock.advance(50);
    await loop;
    expect(steps).toEqual([10, 20, 30, 40, 50]);
  });

  it('a throwing timer rejects advance with its error, and the clock stays usable', async () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    clock.setTimeout(() => {
      throw new Error('boom');
    }, 1);
    clock.setTimeout(() => fired.push(clock.now()), 2);
    await expect(clock.advance(5)).rejects.toThrow('boom');
    await clock.advance(5);
    expect(fired).toEqual([2]);
    expect(clock.now()).toBeGreaterThanOrEqual(5);
  });

  it('runUntil with a predicate that never holds ends on its own (false) after its virtual timeout', async () => {
    const clock = new VirtualClock();
    const started = performance.now();
    expect(await clock.runUntil(() => false, { timeoutMs: 1_000 })).toBe(false);
    expect(clock.now()).toBe(1_000);
    expect(await clock.runUntil(() => false)).toBe(false);
    expect(performance.now() - started).toBeLessThan(5_000);
    // Already true: no time passes.
    const before = clock.now();
    expect(await clock.runUntil(() => true)).toBe(true);
    expect(clock.now()).toBe(before);
  });

  it('handles 100,000 timers at bounded cost', async () => {
    const clock = new VirtualClock();
    let count = 0;
    let last = -1;
    let ordered = true;
    for (let position = 0; position < 100_000; position += 1) {
      const at = (position * 7_919) % 10_000;
      clock.setTimeout(() => {
        if (clock.now() < last) ordered = false;
        last = clock.now();
        count += 1;
      }, at);
    }
    const started = performance.now();
    await clock.advance(10_000);
    expect(count).toBe(100_000);
    expect(ordered).toBe(true);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('drainMicrotasks lets a long promise chain finish', async () => {
    let done = false;
    void (async () => {
      for (let step = 0; step < 100; step += 1) await Promise.resolve();
      done = true;
    })();
    await drainMicrotasks();
    expect(done).toBe(true);
  });
});

describe('seededRandom and deriveSeed', () => {
  it('one seed gives one sequence in [0, 1); different seeds differ', () => {
    const take = (seed: number): number[] => {
      const random = seededRandom(seed);
      return Array.from({ length: 50 }, () => random());
    };
    expect(take(42)).toEqual(take(42));
    expect(take(42)).not.toEqual(take(43));
    expect(take(0)).not.toEqual(take(1));
    for (const value of [...take(0), ...take(2 ** 32 - 1)]) expect(value >= 0 && value < 1).toBe(true);
  });

  it('refuses a seed that is not an integer (NaN, Infinity, 1.5, Math.random()) instead of silently using seed 0 or 1', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1.5, 0.123, '7' as unknown as number, Number.MAX_SAFE_INTEGER + 2]) {
      expect(() => seededRandom(bad)).toThrow(RangeError);
      expect(() => deriveSeed(bad, 'label')).toThrow(RangeError);
    }
  });

  it('takes any safe integer, negative and beyond 2^32 included, modulo 2^32 (documented)', () => {
    const take = (seed: number): number[] => {
      const random = seededRandom(seed);
      return Array.from({ length: 5 }, () => random());
    };
    expect(take(-1)).toEqual(take(2 ** 32 - 1));
    expect(take(2 ** 32 + 5)).toEqual(take(5));
    expect(take(Date.UTC(2026, 11, 2))).toEqual(take(Date.UTC(2026, 11, 2)));
  });

  it('deriveSeed gives a stable 32-bit seed per (seed, label)', () => {
    const derived = deriveSeed(7, 'network');
    expect(Number.isInteger(derived) && derived >= 0 && derived < 2 ** 32).toBe(true);
    expect(deriveSeed(7, 'network')).toBe(derived);
    expect(deriveSeed(7, 'disk')).not.toBe(derived);
    expect(deriveSeed(8, 'network')).not.toBe(derived);
  });
});

describe('createLoopbackNetwork (root)', () => {
  it('delivers copies with `from` set by the network, and never throws for an unknown or closed peer', async () => {
    const network = createLoopbackNetwork();
    const a = network.transport(nodeId('a'));
    const b = network.transport(nodeId('b'));
    const received: { from: string; text: string }[] = [];
    b.incoming.subscribe((envelope) => received.push({ from: envelope.from, text: text(envelope.bytes) }));
    const payload = bytes('hello');
    a.send(nodeId('b'), payload);
    payload.set(bytes('HELLO'));
    expect(() => a.send(nodeId('nobody'), bytes('x'))).not.toThrow();
    await drainMicrotasks();
    expect(received).toEqual([{ from: 'a', text: 'hello' }]);
    b.close();
    expect(() => a.send(nodeId('b'), bytes('late'))).not.toThrow();
    a.close();
    expect(() => a.send(nodeId('b'), bytes('after close'))).not.toThrow();
    await drainMicrotasks();
    expect(received).toHaveLength(1);
  });

  it('peers is a Watchable of the others, updated as transports join and close', () => {
    const network = createLoopbackNetwork();
    const a = network.transport(nodeId('a'));
    const seen: string[][] = [];
    a.peers.subscribe((peers) => seen.push([...peers].sort()));
    expect([...a.peers.value]).toEqual([]);
    const b = network.transport(nodeId('b'));
    network.transport(nodeId('c'));
    expect([...a.peers.value].sort()).toEqual(['b', 'c']);
    b.close();
    expect([...a.peers.value].sort()).toEqual(['c']);
    expect(seen).toEqual([['b'], ['b', 'c'], ['c']]);
    expect(() => network.transport(nodeId('a'))).toThrow(/already/);
  });
});

describe('the simulated network', () => {
  const ids = ['a', 'b', 'c'].map(nodeId);
  const setUp = (conditions: NetworkConditions = reliableNetwork) => {
    const clock = new VirtualClock();
    const network = createSimulatedNetwork(clock, seededRandom(1), conditions);
    const transports = ids.map((id) => network.transport(id));
    const received = new Map<NodeId, string[]>(ids.map((id) => [id, []]));
    transports.forEach((transport) => transport.incoming.subscribe((envelope) => received.get(transport.selfId)?.push(`${envelope.from}:${text(envelope.bytes)}`)));
    return { clock, network, transports, received };
  };

  it('partitions, one-way blocks and heals, in delivery and in peers', async () => {
    const { clock, network, transports, received } = setUp();
    const [a, b, c] = transports as [ReturnType<typeof network.transport>, ReturnType<typeof network.transport>, ReturnType<typeof network.transport>];
    network.partition([[ids[0] as NodeId], [ids[1] as NodeId, ids[2] as NodeId]]);
    expect([...a.peers.value]).toEqual([]);
    expect([...b.peers.value]).toEqual(['c']);
    a.send(b.selfId, bytes('1'));
    b.send(c.selfId, bytes('2'));
    await clock.advance(10);
    expect(received.get(b.selfId)).toEqual([]);
    expect(received.get(c.selfId)).toEqual(['b:2']);
    network.heal();
    network.blockOneWay(a.selfId, b.selfId);
    expect([...a.peers.value].sort()).toEqual(['c']);
    expect([...b.peers.value].sort()).toEqual(['a', 'c']);
    a.send(b.selfId, bytes('3'));
    b.send(a.selfId, bytes('4'));
    await clock.advance(10);
    expect(received.get(b.selfId)).toEqual([]);
    expect(received.get(a.selfId)).toEqual(['b:4']);
    network.heal();
    a.send(b.selfId, bytes('5'));
    await clock.advance(10);
    expect(received.get(b.selfId)).toEqual(['a:5']);
    expect(() => a.send(nodeId('nobody'), bytes('x'))).not.toThrow();
  });

  it('loses a message whose link is cut while it is in flight', async () => {
    const { clock, network, transports, received } = setUp({ minDelayMs: 10, maxDelayMs: 10, dropProbability: 0, duplicateProbability: 0 });
    transports[0]?.send(ids[1] as NodeId, bytes('x'));
    network.isolate(ids[1] as NodeId);
    await clock.advance(20);
    expect(received.get(ids[1] as NodeId)).toEqual([]);
  });

  it('refuses invalid conditions with a RangeError naming the field, at creation and on assignment', () => {
    const bad: NetworkConditions[] = [
      { ...reliableNetwork, minDelayMs: -1 },
      { ...reliableNetwork, minDelayMs: 5, maxDelayMs: 1 },
      { ...reliableNetwork, maxDelayMs: Number.POSITIVE_INFINITY },
      { ...reliableNetwork, minDelayMs: Number.NaN },
      { ...reliableNetwork, dropProbability: 1.5 },
      { ...reliableNetwork, dropProbability: Number.NaN },
      { ...reliableNetwork, duplicateProbability: -0.1 },
    ];
    for (const conditions of bad) {
      expect(() => validateConditions(conditions)).toThrow(RangeError);
      expect(() => createSimulatedNetwork(new VirtualClock(), seededRandom(1), conditions)).toThrow(RangeError);
    }
    expect(() => validateConditions({ ...reliableNetwork, dropProbability: 2 })).toThrow(/dropProbability/);
    expect(() => validateConditions({ ...reliableNetwork, minDelayMs: -1 })).toThrow(/minDelayMs/);
    const { network } = setUp();
    expect(() => (network.conditions = { ...reliableNetwork, duplicateProbability: 3 })).toThrow(/duplicateProbability/);
    expect(network.conditions).toEqual(reliableNetwork);
    expect(validateConditions(reliableNetwork)).toEqual(reliableNetwork);
  });

  it('replays exactly from one seed, with drops, duplicates and reordering', async () => {
    const run = async (seed: number): Promise<string[]> => {
      const clock = new VirtualClock();
      const network = createSimulatedNetwork(clock, seededRandom(seed), { minDelayMs: 0, maxDelayMs: 20, dropProbability: 0.2, duplicateProbability: 0.2 });
      const [a, b] = [network.transport(nodeId('a')), network.transport(nodeId('b'))];
      const log: string[] = [];
      b.incoming.subscribe((envelope) => log.push(`${clock.now()}:${text(envelope.bytes)}`));
      for (let message = 0; message < 50; message += 1) a.send(b.selfId, bytes(String(message)));
      await clock.advance(30);
      return log;
    };
    const first = await run(5);
    expect(await run(5)).toEqual(first);
    expect(await run(6)).not.toEqual(first);
  });
});

describe('createSimulatedCluster', () => {
  const workload = async (seed: number): Promise<string[]> => {
    const cluster = createSimulatedCluster({ seed, size: 3, network: { minDelayMs: 1, maxDelayMs: 8, dropProbability: 0.05, duplicateProbability: 0.05 } });
    const history: string[] = [];
    await cluster.start();
    const leader = await cluster.waitForLeader(5_000);
    history.push(`leader ${leader?.id ?? 'none'} at ${cluster.clock.now()}`);
    for (let request = 0; request < 5; request += 1) {
      const id = cluster.ids[request % 3] as NodeId;
      const entry = await cluster.settle(cluster.propose(id, bytes(`cmd${request}`)));
      history.push(`${id} cmd${request} -> ${entry === undefined ? 'pending' : entry === null ? 'failed' : `${entry.index}/${entry.term}`} at ${cluster.clock.now()}`);
    }
    cluster.partition([[cluster.ids[0] as NodeId], [cluster.ids[1] as NodeId, cluster.ids[2] as NodeId]]);
    await cluster.runFor(1_000);
    cluster.heal();
    await cluster.runFor(1_000);
    history.push(`after heal: leader ${cluster.leader()?.id ?? 'none'}, stats ${JSON.stringify(cluster.network.stats)}`);
    await cluster.close();
    return history;
  };

  it('two runs from one seed give the same observable history', async () => {
    const first = await workload(77);
    expect(first[0]).toMatch(/^leader n\d/);
    expect(await workload(77)).toEqual(first);
  });

  it("a node's process clock (cluster.nodes.get(id).process.clock) ignores a junk or foreign handle in clearTimeout", async () => {
    const cluster = createSimulatedCluster({ seed: 3, size: 1 });
    const processClock = (cluster.nodes.get(cluster.ids[0] as NodeId) as testing.SimulatedNode).process.clock;
    let fired = 0;
    processClock.setTimeout(() => (fired += 1), 5);
    const foreign = cluster.clock.setTimeout(() => undefined, 5);
    for (const junk of [undefined, null, 7, 'x', {}, foreign]) expect(() => processClock.clearTimeout(junk)).not.toThrow();
    await cluster.clock.advance(10);
    expect(fired).toBe(1);
    await cluster.close();
  });

  it('refuses options that would make a cluster that never elects, naming the field', () => {
    expect(() => createSimulatedCluster({ seed: 1, size: 0 })).toThrow(/size/);
    expect(() => createSimulatedCluster({ seed: 1, size: 2.5 })).toThrow(/size/);
    expect(() => createSimulatedCluster({ seed: 1, ids: [] })).toThrow(/ids/);
    expect(() => createSimulatedCluster({ seed: 1, ids: ['a', 'a'] })).toThrow(/ids names "a" twice/);
    expect(() => createSimulatedCluster({ seed: 1, ids: ['a', 'b'], voters: ['a', 'c'] })).toThrow(/voters names "c"/);
    expect(() => createSimulatedCluster({ seed: 1, ids: ['a', 'b'], voters: [] })).toThrow(/voters/);
    expect(() => createSimulatedCluster({ seed: 1, ids: ['a', 'b'], witnesses: ['w'] })).toThrow(/witnesses names "w"/);
    expect(() => createSimulatedCluster({ seed: 1, size: 2, ids: ['a', 'b', 'c'] })).toThrow(/disagree/);
    expect(() => createSimulatedCluster({ seed: Number.NaN })).toThrow(RangeError);
    expect(createSimulatedCluster({ seed: 1, size: 2, ids: ['a', 'b'] }).ids).toEqual(['a', 'b']);
  });

  it('start() twice is refused instead of running a second engine on every node', async () => {
    const cluster = createSimulatedCluster({ seed: 4, size: 1 });
    await cluster.start();
    await expect(cluster.start()).rejects.toThrow(/twice/);
    await cluster.close();
  });

  it('runSimulation refuses a node count or duration that is not a run', async () => {
    await expect(runSimulation({ seed: 1, nodes: 0 })).rejects.toThrow(/nodes/);
    await expect(runSimulation({ seed: 1, nodes: 1.5 })).rejects.toThrow(/nodes/);
    await expect(runSimulation({ seed: 1, nodes: 3, durationMs: -5 })).rejects.toThrow(/durationMs/);
    await expect(runSimulation({ seed: 1, nodes: 3, durationMs: Number.NaN })).rejects.toThrow(/durationMs/);
  });

  it('replayCommand names the seed', () => {
    expect(replayCommand(123, 5)).toContain('123');
  });
});

describe('an app test, written the way a user would: three nodes on a virtual clock', () => {
  /**
   * Real timers set while a test runs and still pending (neither fired nor cleared): this test's
   * own, unlike a process-wide count of Timeout resources, which other code in the worker changes
   * (that count made these tests fail on a loaded machine).
   */
  const trackRealTimers = (): { pending: () => number; restore: () => void } => {
    const pending = new Set<unknown>();
    const { setTimeout: realSet, clearTimeout: realClear } = globalThis;
    globalThis.setTimeout = ((callback: (...values: unknown[]) => void, ms?: number, ...values: unknown[]) => {
      const handle = realSet(() => {
        pending.delete(handle);
        callback(...values);
      }, ms);
      pending.add(handle);
      return handle;
    }) as typeof setTimeout;
    globalThis.clearTimeout = ((handle: Parameters<typeof clearTimeout>[0]) => {
      pending.delete(handle);
      realClear(handle);
    }) as typeof clearTimeout;
    return {
      pending: () => pending.size,
      restore: () => {
        globalThis.setTimeout = realSet;
        globalThis.clearTimeout = realClear;
      },
    };
  };
  let realTimers: ReturnType<typeof trackRealTimers>;
  beforeEach(() => {
    realTimers = trackRealTimers();
  });
  afterEach(() => realTimers.restore());
  /** Virtual time moves only when the test moves it: awaiting a proposal alone would wait forever. */
  const settle = async <T>(clock: VirtualClock, promise: Promise<T>, timeoutMs = 5_000): Promise<T> => {
    let outcome: { value: T } | { error: unknown } | null = null;
    promise.then(
      (value) => (outcome = { value }),
      (error: unknown) => (outcome = { error }),
    );
    if (!(await clock.runUntil(() => outcome !== null, timeoutMs))) throw new Error(`not settled after ${timeoutMs} ms of virtual time`);
    const settled = outcome as unknown as { value: T } | { error: unknown };
    if ('error' in settled) throw settled.error;
    return settled.value;
  };

  it('elects, replicates, survives a partitioned leader, and leaves no real timer behind', async () => {
    const wallStart = performance.now();
    const clock = new VirtualClock();
    const network = createSimulatedNetwork(clock, seededRandom(deriveSeed(2026, 'network')));
    const ids = ['a', 'b', 'c'].map(nodeId);
    const nodes = new Map<NodeId, RaftNode>();
    for (const id of ids) {
      nodes.set(id, await createRaftNode({ id, clusterConfig: { voters: ids }, transport: network.transport(id), storage: new InMemoryRaftStorage(), raftConfig: { clock, random: seededRandom(deriveSeed(2026, id)) } }));
    }
    const leaderOf = (): RaftNode | undefined => [...nodes.values()].find((node) => node.role.value === 'leader');
    expect(await clock.runUntil(() => leaderOf() !== undefined, 5_000)).toBe(true);
    const oldLeader = leaderOf() as RaftNode;
    const firstEntry = await settle(clock, oldLeader.propose(bytes('one')));

    // Cut the leader off; its next proposal cannot commit while it is alone.
    network.isolate(oldLeader.id);
    let outcome: { entry: LogEntry } | { error: unknown } | null = null;
    oldLeader.propose(bytes('orphan')).then(
      (entry) => (outcome = { entry }),
      (error: unknown) => (outcome = { error }),
    );
    const others = ids.filter((id) => id !== oldLeader.id).map((id) => nodes.get(id) as RaftNode);
    expect(await clock.runUntil(() => others.some((node) => node.role.value === 'leader' && node.term.value > oldLeader.term.value - 1 && node.id !== oldLeader.id), 5_000)).toBe(true);
    const newLeader = others.find((node) => node.role.value === 'leader') as RaftNode;
    const secondEntry = await settle(clock, newLeader.propose(bytes('two')));
    expect(outcome).toBeNull(); // the isolated leader could not commit it

    network.heal();
    await clock.runUntil(() => outcome !== null, 5_000);
    await clock.advance(1_000);
    // Whatever happened to the orphan, every node applied the same log.
    const logs = await Promise.all(
      [...nodes.values()].map(async (node) => {
        const applied: string[] = [];
        const iterator = node.committedFrom(1)[Symbol.asyncIterator]();
        while (applied.length < node.commitIndex.value) {
          const item: IteratorResult<Committed> = await settle(clock, iterator.next());
          if (item.done === true) break;
          applied.push(item.value.type === 'entry' ? text(item.value.entry.command) : item.value.type);
        }
        await iterator.return?.();
        return applied;
      }),
    );
    expect(logs[1]).toEqual(logs[0]);
    expect(logs[2]).toEqual(logs[0]);
    expect(logs[0]).toContain('two');
    const settled = outcome as { entry: LogEntry } | { error: unknown } | null;
    if (settled !== null && 'entry' in settled) expect(logs[0]?.[settled.entry.index - 1]).toBe('orphan');
    else expect(logs[0]).not.toContain('orphan');
    expect(secondEntry.index).toBeGreaterThan(firstEntry.index);

    await Promise.all([...nodes.values()].map((node) => node.close()));
    await clock.advance(100);
    expect(clock.pendingTimers).toBe(0);
    expect(realTimers.pending()).toBe(0);
    // Seconds of virtual time took far less wall time: nothing waited on real timers.
    expect(clock.now()).toBeGreaterThan(1_000);
    expect(performance.now() - wallStart).toBeLessThan(clock.now());
  });

  it('on the root loopback network: propose, read back, close, no virtual or real timer left', async () => {
    const clock = new VirtualClock();
    const network = createLoopbackNetwork();
    const ids = ['a', 'b', 'c'].map(nodeId);
    const nodes = await Promise.all(ids.map((id, position) => createRaftNode({ id, clusterConfig: { voters: ids }, transport: network.transport(id), storage: new InMemoryRaftStorage(), raftConfig: { clock, random: seededRandom(position + 1) } })));
    const entry = await settle(clock, (nodes[1] as RaftNode).propose(encodeKvCommand({ type: 'put', key: 'k', value: 'v' })));
    const machine = createKeyValueStateMachine();
    const iterator = (nodes[2] as RaftNode).committedFrom(1)[Symbol.asyncIterator]();
    while (machine.appliedIndex < entry.index) {
      const item = await settle(clock, iterator.next());
      if (item.done === true) break;
      machine.apply(item.value);
    }
    await iterator.return?.();
    expect(machine.get('k')).toBe('v');
    await Promise.all(nodes.map((node) => node.close()));
    await clock.advance(100);
    expect(clock.pendingTimers).toBe(0);
    expect(realTimers.pending()).toBe(0);
  });
});

describe('the checkers catch hand-built violations and accept good histories', () => {
  const entry = (index: number, term: number, command: string): LogEntry => ({ index, term, command: bytes(command), isNoOp: false });

  it('SafetyChecker: two leaders in one term, two entries at one index, an acknowledged entry lost', () => {
    const good = new SafetyChecker(1);
    good.leaderElected(nodeId('a'), 1);
    good.leaderElected(nodeId('a'), 1);
    good.leaderElected(nodeId('b'), 2);
    good.entryApplied(nodeId('a'), { index: 1, term: 1, command: bytes('x') });
    good.entryApplied(nodeId('b'), { index: 1, term: 1, command: bytes('x') });
    good.proposalAcknowledged(entry(1, 1, 'x'), bytes('x'));
    good.checkAcknowledgedApplied();
    expect(() => good.throwIfViolated()).not.toThrow();

    const twoLeaders = new SafetyChecker(9);
    twoLeaders.leaderElected(nodeId('a'), 3);
    twoLeaders.leaderElected(nodeId('b'), 3);
    expect(() => twoLeaders.throwIfViolated()).toThrow(SafetyViolation);
    expect(() => twoLeaders.throwIfViolated()).toThrow(/Election Safety.*seed 9/);

    const diverged = new SafetyChecker(2);
    diverged.entryApplied(nodeId('a'), { index: 1, term: 1, command: bytes('x') });
    diverged.entryApplied(nodeId('b'), { index: 1, term: 1, command: bytes('y') });
    expect(() => diverged.throwIfViolated()).toThrow(/State Machine Safety/);

    const lost = new SafetyChecker(3);
    lost.proposalAcknowledged(entry(4, 2, 'z'), bytes('z'));
    lost.checkAcknowledgedApplied();
    expect(() => lost.throwIfViolated()).toThrow(/Acknowledged proposal kept/);
  });

  it('checkLinearizability: a stale read after a completed write fails; a concurrent one passes', () => {
    const put: KvOperation = { clientId: 'w', input: { type: 'put', key: 'k', value: '1' }, output: { type: 'written' }, call: 0, return: 10 };
    const staleRead: KvOperation = { clientId: 'r', input: { type: 'get', key: 'k' }, output: { type: 'read', value: null }, call: 20, return: 30 };
    const bad = checkLinearizability([put, staleRead]);
    expect(bad.ok).toBe(false);
    if (bad.ok === false) expect(bad.key).toBe('k');
    const concurrentRead: KvOperation = { ...staleRead, call: 5, return: 30 };
    expect(checkLinearizability([put, concurrentRead]).ok).toBe(true);
    const unknownWrite: KvOperation = { ...put, output: 'unknown', return: 0 };
    expect(checkLinearizability([unknownWrite, { ...staleRead, output: { type: 'read', value: '1' } }]).ok).toBe(true);
    expect(() => checkLinearizability([{ ...put, return: -1 }])).toThrow(RangeError);
  });
});
