// A dispatch whose earlier attempt's outcome was unknown (LeadershipLostError, or NotMemberError
// with outcomeUnknown) never ends in a definite error, whatever its last attempt failed with: the
// earlier attempt may have committed. (A review found it on 2026-12-06: the node's RangeError for
// a request id that fell out of the window reached the caller while the command was applied.)
import { describe, expect, it } from 'vitest';
import { LeadershipLostError, NotMemberError, ProposalRejectedError } from '../core/errors.ts';
import type { LogEntry } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { createSimulatedCluster } from '../testing/cluster.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import { proposeWithRetries, readmissionPatienceMs } from './propose-with-retries.ts';
import { createReplicatedStore } from './replicated-store.ts';

type Command = { readonly type: 'add'; readonly amount: number };
interface Counter { readonly total: number }
const add = (state: Counter, command: Command): Counter => ({ total: state.total + command.amount });

describe('proposeWithRetries after an attempt whose outcome was unknown', () => {
  const storeRunning = new AbortController().signal;
  const entry: LogEntry = { index: 4, term: 2, command: new Uint8Array(), isNoOp: false };
  function nodeFailingWith(failures: Error[]): RaftNode {
    return {
      propose: async () => {
        const failure = failures.shift();
        if (failure !== undefined) throw failure;
        return entry;
      },
    } as unknown as RaftNode;
  }
  const settle = async (failures: Error[], maxAttempts = 5): Promise<unknown> => {
    const clock = new VirtualClock();
    const result = proposeWithRetries(nodeFailingWith(failures), new Uint8Array([1]), 1, { maxAttempts, retryDelayMs: 10, clock }, undefined, storeRunning);
    result.catch(() => {});
    await clock.advance(readmissionPatienceMs + 5_000);
    return result.catch((error: unknown) => error);
  };

  it('reports a later definite refusal (RangeError) as LeadershipLostError, naming the refusal', async () => {
    const error = await settle([new LeadershipLostError(), new RangeError('request id out of the window')]);
    expect(error).toBeInstanceOf(LeadershipLostError);
    expect(String(error)).toContain('RangeError: request id out of the window');
  });

  it('reports attempts used up on a full queue as outcome unknown too', async () => {
    const error = await settle([new LeadershipLostError(), new ProposalRejectedError('full')], 2);
    expect(error).toBeInstanceOf(LeadershipLostError);
  });

  it('keeps the NotMemberError form when the unknown attempt was removed while with the leader', async () => {
    const error = await settle([new NotMemberError(true), new NotMemberError(false), new RangeError('refused')]);
    expect(error).toBeInstanceOf(NotMemberError);
    expect((error as NotMemberError).outcomeUnknown).toBe(true);
  });

  it('still reports a definite refusal as it is when no earlier attempt may have committed', async () => {
    const error = await settle([new ProposalRejectedError('full'), new RangeError('refused')]);
    expect(error).toBeInstanceOf(RangeError);
  });

  it('keeps the abort reason when the caller ends it', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    const reason = new Error('user cancelled');
    const node = {
      propose: async (_bytes: Uint8Array, options?: { signal?: AbortSignal }) => {
        if (options?.signal?.aborted === true) throw options.signal.reason;
        controller.abort(reason);
        throw new LeadershipLostError();
      },
    } as unknown as RaftNode;
    const result = proposeWithRetries(node, new Uint8Array([1]), 1, { maxAttempts: 5, retryDelayMs: 10, clock }, controller.signal, storeRunning);
    result.catch(() => {});
    await clock.advance(100);
    await expect(result).rejects.toBe(reason);
  });
});

describe('a dispatch whose first attempt committed under a lost leader', () => {
  it('does not fail with a definite RangeError when the first answer was lost and the retry is refused', async () => {
    const cluster = createSimulatedCluster({ seed: 4841, ids: ['a', 'b', 'c'] });
    await cluster.start();
    await cluster.waitForLeader(2_000);
    const real = cluster.leader()!.node!;
    // The first attempt's answer is lost with the leader's term: LeadershipLostError, though the entry committed.
    let intercepted = false;
    const node: RaftNode = new Proxy(real, {
      get(target, property, receiver) {
        if (property === 'propose') {
          return async (command: Uint8Array, options?: { requestId?: number; signal?: AbortSignal }) => {
            const entry = await target.propose(command, options);
            if (!intercepted && options?.requestId === 1) {
              intercepted = true;
              throw new LeadershipLostError();
            }
            return entry;
          };
        }
        const value = Reflect.get(target, property, receiver) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const store = createReplicatedStore<Counter, Command>({ node, initialState: { total: 0 }, apply: add, clock: cluster.clock, retryDelayMs: 2_000, maxPendingCommands: 1_000 });
    let outcome: { ok: boolean; name?: string } | null = null;
    store.dispatch({ type: 'add', amount: 1_000_000 }).then(() => (outcome = { ok: true }), (error: unknown) => (outcome = { ok: false, name: (error as Error).name }));
    await cluster.runUntil(() => intercepted, 2_000);
    // While it waits 2 s to retry, 1,100 newer request ids are used: the retry's id falls out of the window.
    for (let batch = 0; batch < 2; batch += 1) await cluster.settle(Promise.all(Array.from({ length: 550 }, () => store.dispatch({ type: 'add', amount: 1 }))), 1_000);
    await cluster.runUntil(() => outcome !== null, 10_000);
    await cluster.runFor(500);
    expect(store.state.value.total).toBe(1_000_000 + 1_100);
    expect(outcome).toEqual({ ok: false, name: 'LeadershipLostError' });
    await cluster.close();
  });

  it('does not fail with a definite RangeError when the leader was cut off before it learned the entry committed', async () => {
    const cluster = createSimulatedCluster({ seed: 4842, ids: ['a', 'b', 'c'] });
    await cluster.start();
    await cluster.waitForLeader(2_000);
    const leader = cluster.leader()!;
    const node = leader.node!;
    const store = createReplicatedStore<Counter, Command>({ node, initialState: { total: 0 }, apply: add, clock: cluster.clock, retryDelayMs: 2_000, maxPendingCommands: 1_000 });
    // Followers' acknowledgements are lost: the leader never learns the entry is on a majority,
    // steps down, and the followers' new leader commits it.
    for (const id of cluster.ids.filter((id) => id !== leader.id)) cluster.network.blockOneWay(id, leader.id);
    let outcome: { ok: boolean; name?: string } | null = null;
    store.dispatch({ type: 'add', amount: 1_000_000 }).then(() => (outcome = { ok: true }), (error: unknown) => (outcome = { ok: false, name: (error as Error).name }));
    expect(await cluster.runUntil(() => cluster.leader() !== null && cluster.leader()!.id !== leader.id, 5_000)).toBe(true);
    await cluster.runFor(300);
    cluster.heal();
    await cluster.runFor(300);
    for (let batch = 0; batch < 2; batch += 1) await cluster.settle(Promise.all(Array.from({ length: 550 }, () => store.dispatch({ type: 'add', amount: 1 }))), 1_500);
    await cluster.runUntil(() => outcome !== null, 20_000);
    await cluster.runFor(500);
    expect(store.state.value.total).toBe(1_001_100);
    expect(outcome).not.toBeNull();
    expect(outcome).not.toMatchObject({ ok: false, name: 'RangeError' });
    await cluster.close();
  });
});
