// Outside review (exactly-once proposals and linearizable reads), session 52. Each `it` either
// FAILS on the code as reviewed (a defect, named in its title) or is marked "confirmed correct"
// (a regression guard for behaviour found right).
import { describe, expect, it } from 'vitest';
import { ProposalRejectedError } from '../core/errors.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { createReplicatedStore } from '../rooms/replicated-store.ts';
import { createSimulatedCluster } from '../testing/cluster.ts';

describe('a store dispatch refused once by a busy leader', () => {
  it('DEFECT: its retry is refused for good (RangeError) once newer dispatches used 1,024 ids during its backoff, though it never reached the log', async () => {
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
    // The store promises retries under the same request id; the command was never appended, so
    // retrying it is safe, and it should apply.
    expect(outcome).toEqual({ ok: true });
    expect(store.state.value.total).toBe(1_001_100);
    await cluster.close();
  });
});
