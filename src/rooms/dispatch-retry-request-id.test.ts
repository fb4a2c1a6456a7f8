// Which request id a dispatch's retry carries (propose-with-retries.ts): after attempts that were
// all refused before reaching the log, a fresh one, since the old id may have fallen below every
// session table's window while other dispatches went on during the backoff (the node then refused
// it for good with a RangeError, though the command had never been in the log); after an attempt
// whose outcome was unknown, that attempt's id, or the command could apply twice.
import { describe, expect, it } from 'vitest';
import { LeadershipLostError, NotMemberError, ProposalRejectedError } from '../core/errors.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { createSimulatedCluster } from '../testing/cluster.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import { proposeWithRetries } from './propose-with-retries.ts';
import { createReplicatedStore } from './replicated-store.ts';
import { appendedEntry, flakyProposer, storeRunning } from './flaky-proposer.test-support.ts';

describe('proposeWithRetries with a source of fresh request ids', () => {

  async function run(failures: Error[]): Promise<{ requestIds: (number | undefined)[]; refusedIds: number[]; result: unknown }> {
    const clock = new VirtualClock();
    const { node, requestIds } = flakyProposer(failures);
    let next = 100;
    const refusedIds: number[] = [];
    const result = proposeWithRetries(node, new Uint8Array([1]), 7, { maxAttempts: 10, retryDelayMs: 10, clock }, undefined, storeRunning, (refused) => {
      refusedIds.push(refused);
      return next++;
    });
    result.catch(() => {});
    await clock.advance(60_000);
    return { requestIds, refusedIds, result: await result.catch((error: unknown) => error) };
  }

  it('takes a fresh id for each retry while every attempt was refused before the log (a full queue, a node outside the cluster that never sent it)', async () => {
    const outcome = await run([new ProposalRejectedError('full'), new NotMemberError(false), new ProposalRejectedError('full')]);
    expect(outcome.result).toBe(appendedEntry);
    expect(outcome.requestIds).toEqual([7, 100, 101, 102]);
    expect(outcome.refusedIds).toEqual([7, 100, 101]);
  });

  it('keeps the id of an attempt whose outcome was unknown for every later retry, whatever they fail with', async () => {
    const lost = await run([new LeadershipLostError(), new ProposalRejectedError('full'), new ProposalRejectedError('full')]);
    expect(lost.result).toBe(appendedEntry);
    expect(lost.requestIds).toEqual([7, 7, 7, 7]);
    const removedInFlight = await run([new NotMemberError(true), new NotMemberError(false)]);
    expect(removedInFlight.requestIds).toEqual([7, 7, 7]);
  });

  it('switches to a fresh id only before the first attempt that may reach the log, and keeps that one after', async () => {
    const outcome = await run([new ProposalRejectedError('full'), new LeadershipLostError(), new ProposalRejectedError('full')]);
    expect(outcome.result).toBe(appendedEntry);
    expect(outcome.requestIds).toEqual([7, 100, 100, 100]);
  });

  it('counts an error it cannot place (NotLeaderError from another RaftNode) as possibly appended, and keeps the id', async () => {
    const notLeader = Object.assign(new Error('not the leader'), { name: 'NotLeaderError' });
    const outcome = await run([notLeader, new ProposalRejectedError('full')]);
    expect(outcome.requestIds).toEqual([7, 7, 7]);
  });
});

describe('a store dispatch refused once by a busy leader', () => {
  it('is retried under a fresh request id and applies, though newer dispatches used 1,024 ids during its backoff (it never reached the log)', async () => {
    const cluster = createSimulatedCluster({ seed: 5252, ids: ['a', 'b', 'c'] });
    await cluster.start();
    await cluster.waitForLeader(2_000);
    const real = cluster.leader()!.node!;
    // The first attempt of request 1 meets a full leader queue: a definite refusal, retried by design.
    let refused = false;
    const node: RaftNode = new Proxy(real, {
      get(target, property, receiver) {
        if (property === 'propose') {
          return async (command: Uint8Array, options?: { requestId?: number; signal?: AbortSignal }) => {
            if (!refused && options?.requestId === 1) {
              refused = true;
              throw new ProposalRejectedError('the leader has too many uncommitted proposals; retry later');
            }
            return target.propose(command, options);
          };
        }
        const value = Reflect.get(target, property, receiver) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    type Command = { readonly amount: number };
    const store = createReplicatedStore<{ total: number }, Command>({ node, initialState: { total: 0 }, apply: (state, command) => ({ total: state.total + command.amount }), clock: cluster.clock, retryDelayMs: 2_000, maxPendingCommands: 1_000 });
    let outcome: { ok: boolean; name?: string } | null = null;
    store.dispatch({ amount: 1_000_000 }).then(() => (outcome = { ok: true }), (error: unknown) => (outcome = { ok: false, name: (error as Error).name }));
    await cluster.runUntil(() => refused, 2_000);
    // A busy app: while the refused command backs off (2 s), 1,100 other commands go through.
    for (let batch = 0; batch < 2; batch += 1) await cluster.settle(Promise.all(Array.from({ length: 550 }, () => store.dispatch({ amount: 1 }))), 1_000);
    await cluster.runUntil(() => outcome !== null, 10_000);
    await cluster.runFor(500);
    // The command was never appended, so retrying it under a fresh id is safe; under its old
    // one the node refused it for good (a RangeError: below every table's window).
    expect(outcome).toEqual({ ok: true });
    expect(store.state.value.total).toBe(1_001_100);
    expect(store.pendingCount).toBe(0);
    await cluster.close();
  });
});
