// The store numbers its requests from 1 in every run: exactly-once only under the fresh auto id a
// node mints at each start. A newcomer passed a durable client id through joinRoom's createNode
// (README "Exactly-once" recommends one for a bare node) and, after a reload, dispatches resolved
// with an earlier command's entry while the counter never moved: the session table skipped them as
// the earlier run's replays. dispatch now refuses on such a node; the store still folds the log, so
// an application proposing there with its own request ids gets its state.
import { describe, expect, it } from 'vitest';
import { clientId, type ClientIdentity } from '../index.ts';
import { restartNode, startContractCluster } from '../contract/contract-cluster.test-support.ts';
import { createReplicatedStore } from './replicated-store.ts';

type Command = { readonly amount: number };
interface Counter { readonly total: number }
const counter = { initialState: { total: 0 }, apply: (state: Counter, command: Command): Counter => ({ total: state.total + command.amount }) };

describe('createReplicatedStore on a node with a durable client id', () => {
  it('refuses dispatch, naming the id and the ways to exactly-once across restarts, and applies nothing', async () => {
    const cluster = await startContractCluster({ seed: 77 });
    const leader = await cluster.waitForLeader();
    const identity: ClientIdentity = { type: 'durable', clientId: clientId('counter-client-1') };
    const node = await restartNode(cluster, leader.id, identity);
    const store = createReplicatedStore<Counter, Command>({ node, ...counter, clock: cluster.clock });
    const refusal = await cluster.settle(store.dispatch({ amount: 1 }).then(() => null, (error: unknown) => error), 5_000);
    expect(refusal).toBeInstanceOf(TypeError);
    expect(String(refusal)).toMatch(/durable client id "counter-client-1".*numbers its requests from 1 in every run/);
    expect(String(refusal)).toMatch(/\{ type: "auto" \}.*idempotent.*your own request ids/);
    await cluster.clock.advance(200);
    expect(store.stats.applied).toBe(0);
    expect(store.optimisticState.value.total).toBe(0);
    await cluster.close();
  });

  it('folds what the application proposes on the node under that id with its own request ids, each once', async () => {
    const cluster = await startContractCluster({ seed: 79 });
    const leader = await cluster.waitForLeader();
    const node = await restartNode(cluster, leader.id, { type: 'durable', clientId: clientId('counter-client-2') });
    const store = createReplicatedStore<Counter, Command>({ node, ...counter, clock: cluster.clock });
    const encode = (command: Command): Uint8Array => new TextEncoder().encode(JSON.stringify(command));
    await cluster.settle(node.propose(encode({ amount: 5 }), { requestId: 1 }), 5_000);
    // The replay after an unknown outcome: the same request id again, folded once.
    await cluster.settle(node.propose(encode({ amount: 5 }), { requestId: 1 }), 5_000);
    await cluster.settle(node.propose(encode({ amount: 2 }), { requestId: 2 }), 5_000);
    await cluster.clock.runUntil(() => store.state.value.total === 7, 2_000);
    await cluster.clock.advance(200);
    expect(store.state.value.total).toBe(7);
    await cluster.close();
  });

  it('is accepted with the default auto identity, and counts every increment once', async () => {
    const cluster = await startContractCluster({ seed: 78 });
    const leader = await cluster.waitForLeader();
    const node = await restartNode(cluster, leader.id, { type: 'auto' });
    const store = createReplicatedStore<Counter, Command>({ node, ...counter, clock: cluster.clock });
    for (const amount of [1, 2, 3]) await cluster.settle(store.dispatch({ amount }), 5_000);
    expect(store.state.value.total).toBe(6);
    await cluster.close();
  });
});
