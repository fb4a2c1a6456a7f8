import { describe, expect, it } from 'vitest';
import { LeadershipLostError, NotMemberError, ProposalRejectedError, RaftClosedError } from '../core/errors.ts';
import type { LogEntry } from '../core/types.ts';
import { clientId, nodeId } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { createSimulatedCluster, type SimulatedCluster } from '../testing/cluster.ts';
import { drainMicrotasks, VirtualClock } from '../testing/virtual-clock.ts';
import { proposeWithRetries, readmissionPatienceMs } from './propose-with-retries.ts';
import { createReplicatedStore, type ReplicatedStore } from './replicated-store.ts';
import { appendedEntry, flakyProposer, storeRunning } from './flaky-proposer.test-support.ts';
import { jsonSerializer } from './serializer.ts';

type Command = { readonly type: 'add'; readonly amount: number } | { readonly type: 'fail' };
interface Counter {
  readonly total: number;
  readonly history: readonly number[];
}

const reducer = (state: Counter, command: Command): Counter => {
  if (command.type === 'fail') throw new Error('refused by the reducer');
  return { total: state.total + command.amount, history: [...state.history, command.amount] };
};

function storeOn(cluster: SimulatedCluster, id: string, snapshotEvery = 1_000): ReplicatedStore<Counter, Command> {
  return createReplicatedStore<Counter, Command>({ node: cluster.nodes.get(nodeId(id))!.node!, initialState: { total: 0, history: [] }, apply: reducer, snapshotEvery, clock: cluster.clock });
}

async function startedCluster(seed: number, snapshotEvery = 1_000): Promise<{ cluster: SimulatedCluster; stores: Map<string, ReplicatedStore<Counter, Command>> }> {
  const cluster = createSimulatedCluster({ seed, ids: ['a', 'b', 'c'], raftConfig: { snapshotTrailingEntries: 0 } });
  await cluster.start();
  await cluster.waitForLeader(2_000);
  const stores = new Map(['a', 'b', 'c'].map((id) => [id, storeOn(cluster, id, snapshotEvery)] as const));
  return { cluster, stores };
}

describe('createReplicatedStore', () => {
  it('applies dispatched commands in log order on every peer and resolves with the state after apply', async () => {
    const { cluster, stores } = await startedCluster(701);
    const results = await cluster.settle(Promise.all(['a', 'b', 'c', 'a'].map((id, position) => stores.get(id)!.dispatch({ type: 'add', amount: position + 1 }))));
    expect(results!.every((result) => result.state.total >= 1)).toBe(true);
    await cluster.runFor(200);
    const states = [...stores.values()].map((store) => store.state.value);
    expect(states.every((state) => state.total === 10)).toBe(true);
    expect(new Set(states.map((state) => JSON.stringify(state.history))).size).toBe(1);
    await cluster.close();
  });

  it('shows pending commands in the optimistic state until they apply, and drops failed ones', async () => {
    const { cluster, stores } = await startedCluster(702);
    const store = stores.get('b')!;
    const seen: number[] = [];
    store.subscribe((state) => seen.push(state.total));
    const dispatched = store.dispatch({ type: 'add', amount: 5 });
    expect(store.optimisticState.value.total).toBe(5);
    expect(store.state.value.total).toBe(0);
    expect(store.pendingCount).toBe(1);
    await cluster.settle(dispatched);
    expect(store.state.value.total).toBe(5);
    expect(store.optimisticState.value.total).toBe(5);
    expect(store.pendingCount).toBe(0);
    // Never counted twice on the way (dropped in the same step that confirmed it).
    expect(Math.max(...seen)).toBe(5);
    const controller = new AbortController();
    const aborted = store.dispatch({ type: 'add', amount: 100 }, { signal: controller.signal });
    expect(store.optimisticState.value.total).toBe(105);
    controller.abort(new Error('user cancelled'));
    await expect(aborted).rejects.toThrow('user cancelled');
    expect(store.optimisticState.value.total).toBe(store.state.value.total);
    await cluster.close();
  });

  it('rejects a dispatch whose reducer throws, leaving the state unchanged on every peer', async () => {
    const { cluster, stores } = await startedCluster(703);
    const failing = stores.get('a')!.dispatch({ type: 'fail' });
    failing.catch(() => {});
    await cluster.runFor(300);
    await expect(failing).rejects.toThrow('refused by the reducer');
    for (const store of stores.values()) {
      expect(store.state.value.total).toBe(0);
      expect(store.stats.failed).toBe(1);
    }
    await cluster.close();
  });

  it('applies a request committed twice under one dedup key only once (a retry after an unknown outcome)', async () => {
    // Every command is followed by a snapshot, and then every member restarts (the group's tabs all
    // closed and opened again): no member's log holds the first entry, and none remembers its key
    // (a member remembers the keys it compacted only while it runs: src/core/compacted-keys.ts),
    // so the retry is appended again, the one case left where a leader does.
    const client = clientId('durable-c');
    const cluster = createSimulatedCluster({ seed: 704, ids: ['a', 'b', 'c'], raftConfig: { snapshotTrailingEntries: 0 }, identities: new Map([[nodeId('c'), client]]) });
    await cluster.start();
    await cluster.waitForLeader(2_000);
    let stores = new Map(['a', 'b', 'c'].map((id) => [id, storeOn(cluster, id, 1)] as const));
    const bytes = jsonSerializer<Command>().encode({ type: 'add', amount: 7 });
    const first = await cluster.settle(cluster.nodes.get(nodeId('c'))!.node!.propose(bytes, { requestId: 900 }));
    await cluster.runFor(200);
    for (const id of cluster.ids) expect(cluster.nodes.get(id)!.node!.compactionFloor.value).toBeGreaterThanOrEqual(first!.index);
    for (const id of cluster.ids) cluster.crash(id);
    for (const id of cluster.ids) await cluster.restart(id);
    stores = new Map(['a', 'b', 'c'].map((id) => [id, storeOn(cluster, id, 1)] as const));
    await cluster.waitForLeader(2_000);
    const second = await cluster.settle(cluster.nodes.get(nodeId('c'))!.node!.propose(bytes, { requestId: 900 }));
    expect(second!.index).toBeGreaterThan(first!.index);
    await cluster.runFor(200);
    for (const store of stores.values()) {
      expect(store.state.value.total).toBe(7);
      expect(store.stats.duplicates).toBe(1);
    }
    await cluster.close();
  });

  it('publishes snapshots every N commands and a peer that restarts restores from install', async () => {
    const { cluster, stores } = await startedCluster(705, 4);
    for (let amount = 1; amount <= 12; amount += 1) await cluster.settle(stores.get('a')!.dispatch({ type: 'add', amount }));
    await cluster.runFor(200);
    expect(stores.get('a')!.stats.snapshotsPublished).toBeGreaterThanOrEqual(2);
    const node = cluster.nodes.get(nodeId('b'))!.node!;
    expect(node.compactionFloor.value).toBeGreaterThan(0);
    cluster.crash(nodeId('b'));
    await cluster.restart(nodeId('b'));
    const restarted = storeOn(cluster, 'b', 4);
    await cluster.runUntil(() => restarted.state.value.total === 78, 2_000);
    expect(restarted.state.value.history).toEqual(stores.get('a')!.state.value.history);
    expect(restarted.stats.snapshotsInstalled).toBe(1);
    await cluster.close();
  });

  it('reads linearizably: a read on another peer sees every write that finished before it', async () => {
    const { cluster, stores } = await startedCluster(706);
    for (let round = 1; round <= 5; round += 1) {
      const writer = stores.get(['a', 'b', 'c'][round % 3]!)!;
      const reader = stores.get(['a', 'b', 'c'][(round + 1) % 3]!)!;
      const written = (await cluster.settle(writer.dispatch({ type: 'add', amount: round })))!;
      const read = (await cluster.settle(reader.read()))!;
      expect(read.total).toBeGreaterThanOrEqual(written.state.total);
    }
    await cluster.close();
  });

  it('rejects pending dispatches and reads once the node closes', async () => {
    const { cluster, stores } = await startedCluster(707);
    cluster.crash(nodeId('a'));
    await cluster.runFor(10);
    await expect(stores.get('a')!.dispatch({ type: 'add', amount: 1 })).rejects.toBeInstanceOf(RaftClosedError);
    await cluster.close();
  });
});

/** How a promise has settled so far, readable without waiting for it. */
function track<T>(promise: Promise<T>): { status: 'pending' | 'fulfilled' | 'rejected'; value: T | undefined; reason: unknown } {
  const tracked: { status: 'pending' | 'fulfilled' | 'rejected'; value: T | undefined; reason: unknown } = { status: 'pending', value: undefined, reason: undefined };
  promise.then(
    (value) => Object.assign(tracked, { status: 'fulfilled', value }),
    (reason: unknown) => Object.assign(tracked, { status: 'rejected', reason }),
  );
  return tracked;
}

describe('store.read() on a peer outside the cluster', () => {
  /** A node the room has removed: nothing commits, and every read index fails with a new NotMemberError until `readmit()`. */
  function nodeOutsideTheCluster(): { node: RaftNode; refusals: NotMemberError[]; readmit(): void } {
    const refusals: NotMemberError[] = [];
    let readmitted = false;
    const node = {
      id: nodeId('outside'),
      readIndex: async () => {
        if (readmitted) return 0;
        const refusal = new NotMemberError(false);
        refusals.push(refusal);
        throw refusal;
      },
      committedFrom: () => ({ [Symbol.asyncIterator]: () => ({ next: () => new Promise<never>(() => {}) }) }),
      publishSnapshot: () => {},
    } as unknown as RaftNode;
    return { node, refusals, readmit: () => (readmitted = true) };
  }

  function storeOutside(clock: VirtualClock) {
    const outside = nodeOutsideTheCluster();
    const store = createReplicatedStore<Counter, Command>({ node: outside.node, initialState: { total: 3, history: [3] }, apply: reducer, clock });
    return { ...outside, store };
  }

  it('retries until the room takes the peer back, then answers', async () => {
    const clock = new VirtualClock();
    const { store, refusals, readmit } = storeOutside(clock);
    const read = track(store.read());
    await clock.advance(5_000);
    expect(read.status).toBe('pending');
    expect(refusals.length).toBeGreaterThan(1);
    readmit();
    await clock.advance(2_000);
    expect(read.status).toBe('fulfilled');
    expect(read.value).toEqual({ total: 3, history: [3] });
  });

  it('gives up with the last NotMemberError after the readmission patience, with bounded backoff', async () => {
    const clock = new VirtualClock();
    const { store, refusals } = storeOutside(clock);
    const read = track(store.read());
    await clock.advance(readmissionPatienceMs - 1);
    expect(read.status).toBe('pending');
    // The last wait before giving up is at most the 2 s backoff cap.
    await clock.advance(2_001);
    expect(read.status).toBe('rejected');
    expect(read.reason).toBe(refusals.at(-1));
    expect(refusals.length).toBeLessThan(40);
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects at once with the reason when its signal aborts during the wait', async () => {
    const clock = new VirtualClock();
    const { store, refusals } = storeOutside(clock);
    const controller = new AbortController();
    const read = track(store.read({ signal: controller.signal }));
    await clock.advance(1_000);
    const attempts = refusals.length;
    const reason = new Error('user cancelled');
    controller.abort(reason);
    await drainMicrotasks();
    expect(read.status).toBe('rejected');
    expect(read.reason).toBe(reason);
    await clock.advance(5_000);
    expect(refusals).toHaveLength(attempts);
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects at once, with the error a dispatch gets, when the store closes during the wait', async () => {
    const clock = new VirtualClock();
    const { store, refusals } = storeOutside(clock);
    const read = track(store.read());
    await clock.advance(1_000);
    const attempts = refusals.length;
    store.close();
    await drainMicrotasks();
    expect(read.status).toBe('rejected');
    expect(read.reason).toBeInstanceOf(RaftClosedError);
    expect(read.reason).toBe(await store.dispatch({ type: 'add', amount: 1 }).catch((error: unknown) => error));
    await clock.advance(5_000);
    expect(refusals).toHaveLength(attempts);
    expect(clock.pendingTimers).toBe(0);
  });

  it('does not retry other errors: a read that loses its leader rejects at once, as before', async () => {
    const clock = new VirtualClock();
    let attempts = 0;
    const node = {
      id: nodeId('follower'),
      readIndex: async () => {
        attempts += 1;
        throw new LeadershipLostError();
      },
      committedFrom: () => ({ [Symbol.asyncIterator]: () => ({ next: () => new Promise<never>(() => {}) }) }),
    } as unknown as RaftNode;
    const store = createReplicatedStore<Counter, Command>({ node, initialState: { total: 0, history: [] }, apply: reducer, clock });
    await expect(store.read()).rejects.toBeInstanceOf(LeadershipLostError);
    expect(attempts).toBe(1);
  });
});

describe('store.close() during a wait between attempts or for the applied index', () => {
  /** A node whose proposals and read indexes answer as the test says; nothing ever commits, so nothing is ever applied here. */
  function scriptedNode(answers: { propose?: () => Promise<LogEntry>; readIndex?: () => Promise<number> }): { node: RaftNode; calls: { propose: number; readIndex: number } } {
    const calls = { propose: 0, readIndex: 0 };
    const node = {
      id: nodeId('scripted'),
      propose: () => {
        calls.propose += 1;
        return answers.propose!();
      },
      readIndex: () => {
        calls.readIndex += 1;
        return answers.readIndex!();
      },
      committedFrom: () => ({ [Symbol.asyncIterator]: () => ({ next: () => new Promise<never>(() => {}) }) }),
      publishSnapshot: () => {},
    } as unknown as RaftNode;
    return { node, calls };
  }

  function storeOn(node: RaftNode, clock: VirtualClock): ReplicatedStore<Counter, Command> {
    return createReplicatedStore<Counter, Command>({ node, initialState: { total: 0, history: [] }, apply: reducer, clock, retryDelayMs: 1_000 });
  }

  /** The store's own close error: what a call made after close rejects with. */
  const closeError = (store: ReplicatedStore<Counter, Command>): Promise<unknown> => store.read().catch((error: unknown) => error);

  it('rejects a dispatch waiting to be readmitted at once with the close error, and makes no further attempt', async () => {
    const clock = new VirtualClock();
    const { node, calls } = scriptedNode({ propose: () => Promise.reject(new NotMemberError(false)) });
    const store = storeOn(node, clock);
    const dispatched = track(store.dispatch({ type: 'add', amount: 1 }));
    await clock.advance(5_000);
    expect(dispatched.status).toBe('pending');
    const attempts = calls.propose;
    expect(attempts).toBeGreaterThan(1);
    store.close();
    await drainMicrotasks();
    expect(dispatched.status).toBe('rejected');
    expect(dispatched.reason).toBeInstanceOf(RaftClosedError);
    expect(dispatched.reason).toBe(await closeError(store));
    await clock.advance(readmissionPatienceMs);
    expect(calls.propose).toBe(attempts);
    expect(clock.pendingTimers).toBe(0);
  });

  it.each([
    ['LeadershipLostError', () => new LeadershipLostError()],
    ['ProposalRejectedError (the leader queue full)', () => new ProposalRejectedError('the leader queue is full')],
  ])('rejects a dispatch in the backoff after %s at once with the close error, and makes no further attempt', async (_name, failure) => {
    const clock = new VirtualClock();
    const { node, calls } = scriptedNode({ propose: () => Promise.reject(failure()) });
    const store = storeOn(node, clock);
    const dispatched = track(store.dispatch({ type: 'add', amount: 1 }));
    await clock.advance(1);
    expect(calls.propose).toBe(1);
    expect(clock.pendingTimers).toBe(1);
    store.close();
    await drainMicrotasks();
    expect(dispatched.status).toBe('rejected');
    expect(dispatched.reason).toBe(await closeError(store));
    await clock.advance(10_000);
    expect(calls.propose).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('lets the attempt in flight at close settle at the node, then starts no new one', async () => {
    const clock = new VirtualClock();
    let failInFlight: (error: Error) => void = () => {};
    const { node, calls } = scriptedNode({ propose: () => new Promise<LogEntry>((_resolve, reject) => (failInFlight = reject)) });
    const store = storeOn(node, clock);
    const dispatched = track(store.dispatch({ type: 'add', amount: 1 }));
    await drainMicrotasks();
    store.close();
    failInFlight(new LeadershipLostError());
    await drainMicrotasks();
    expect(dispatched.status).toBe('rejected');
    expect(dispatched.reason).toBe(await closeError(store));
    await clock.advance(10_000);
    expect(calls.propose).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects a read past its read index, waiting to apply that index here, at once with the close error', async () => {
    const clock = new VirtualClock();
    const { node, calls } = scriptedNode({ readIndex: () => Promise.resolve(5) });
    const store = storeOn(node, clock);
    const read = track(store.read());
    await drainMicrotasks();
    expect(calls.readIndex).toBe(1);
    expect(read.status).toBe('pending');
    store.close();
    await drainMicrotasks();
    expect(read.status).toBe('rejected');
    expect(read.reason).toBeInstanceOf(RaftClosedError);
    expect(read.reason).toBe(await store.dispatch({ type: 'add', amount: 1 }).catch((error: unknown) => error));
    expect(calls.readIndex).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('proposeWithRetries', () => {

  it('retries after LeadershipLostError with the same request id, with backoff on the clock', async () => {
    const clock = new VirtualClock();
    const { node, requestIds } = flakyProposer([new LeadershipLostError(), new LeadershipLostError()]);
    const result = proposeWithRetries(node, new Uint8Array([1]), 42, { maxAttempts: 5, retryDelayMs: 10, clock }, undefined, storeRunning);
    await clock.advance(100);
    await expect(result).resolves.toBe(appendedEntry);
    expect(requestIds).toEqual([42, 42, 42]);
  });

  it('gives up after maxAttempts and never retries other errors', async () => {
    const clock = new VirtualClock();
    const bounded = flakyProposer([new LeadershipLostError(), new LeadershipLostError(), new LeadershipLostError()]);
    const gaveUp = proposeWithRetries(bounded.node, new Uint8Array([1]), 1, { maxAttempts: 2, retryDelayMs: 10, clock }, undefined, storeRunning);
    gaveUp.catch(() => {});
    await clock.advance(100);
    await expect(gaveUp).rejects.toBeInstanceOf(LeadershipLostError);
    expect(bounded.requestIds).toHaveLength(2);
    const other = flakyProposer([new RangeError('too big')]);
    await expect(proposeWithRetries(other.node, new Uint8Array([1]), 1, { maxAttempts: 5, retryDelayMs: 10, clock }, undefined, storeRunning)).rejects.toBeInstanceOf(RangeError);
    expect(other.requestIds).toHaveLength(1);
  });

  it('retries NotMemberError beyond maxAttempts under the same request id while the room may take the peer back', async () => {
    const clock = new VirtualClock();
    const { node, requestIds } = flakyProposer([new NotMemberError(true), ...Array.from({ length: 6 }, () => new NotMemberError(false))]);
    const result = proposeWithRetries(node, new Uint8Array([1]), 7, { maxAttempts: 2, retryDelayMs: 10, clock }, undefined, storeRunning);
    await clock.advance(readmissionPatienceMs / 2);
    await expect(result).resolves.toBe(appendedEntry);
    expect(requestIds).toEqual(Array.from({ length: 8 }, () => 7));
  });

  it('gives up on NotMemberError after the readmission patience, saying the outcome is unknown if an earlier attempt was sent', async () => {
    const clock = new VirtualClock();
    const { node, requestIds } = flakyProposer([new NotMemberError(true), ...Array.from({ length: 1_000 }, () => new NotMemberError(false))]);
    const result = proposeWithRetries(node, new Uint8Array([1]), 7, { maxAttempts: 2, retryDelayMs: 10, clock }, undefined, storeRunning);
    result.catch(() => {});
    await clock.advance(readmissionPatienceMs + 5_000);
    const error: unknown = await result.catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(NotMemberError);
    expect((error as NotMemberError).outcomeUnknown).toBe(true);
    // Bounded: backoff up to 2 s for 30 s, not a busy loop.
    expect(requestIds.length).toBeLessThan(40);
  });

  it('an abort during the backoff rejects at once with the reason', async () => {
    const clock = new VirtualClock();
    const { node } = flakyProposer([new LeadershipLostError()]);
    const controller = new AbortController();
    const result = proposeWithRetries(node, new Uint8Array([1]), 1, { maxAttempts: 5, retryDelayMs: 1_000, clock }, controller.signal, storeRunning);
    result.catch(() => {});
    await clock.advance(1);
    controller.abort(new Error('stop'));
    await expect(result).rejects.toThrow('stop');
  });
});
