// Review: the exactly-once simulation records a client's next operation as called at the very
// virtual millisecond its previous one returned (runClient: `call = cluster.clock.now()` right
// after pushing the previous operation with `return: cluster.clock.now()`), and the
// linearizability checker treats a call at time t and a return at time t as concurrent
// (buildEventList sorts calls before returns at equal times). So every pair of consecutive
// operations of one client is checked as if they overlapped: a client's own program order is
// lost, and a read that misses the client's own acknowledged write passes.
import { describe, expect, it } from 'vitest';
import { runExactlyOnceSimulation } from '../testing/exactly-once-simulation.ts';
import { checkLinearizability, type KvOperation } from '../testing/linearizability.ts';

describe('linearizability of one client’s sequential operations (review)', () => {
  it('rejects a read that misses the same client’s write acknowledged before the read was issued', () => {
    // c1: put(x, "a") acknowledged at 10, then get(x) issued at 10 (after the put returned: the
    // client is sequential) answers "nothing". No order respecting c1's program order explains it.
    const history: KvOperation[] = [
      { clientId: 'c1', input: { type: 'put', key: 'x', value: 'a' }, output: { type: 'written' }, call: 0, return: 10 },
      { clientId: 'c1', input: { type: 'get', key: 'x' }, output: { type: 'read', value: null }, call: 10, return: 20 },
    ];
    expect(checkLinearizability(history).ok).toBe(false);
  });

  it('the exactly-once simulation records each client’s operations so that the checker sees them in program order', async () => {
    let history: readonly KvOperation[] = [];
    await runExactlyOnceSimulation({ seed: 1, nodes: 3, onHistory: (recorded) => (history = recorded) });
    // History is pushed in completion order per client (runClient is sequential).
    const byClient = new Map<string, KvOperation[]>();
    for (const operation of history) byClient.set(operation.clientId, [...(byClient.get(operation.clientId) ?? []), operation]);
    const overlapping: string[] = [];
    for (const [client, operations] of byClient) {
      for (let position = 1; position < operations.length; position += 1) {
        const previous = operations[position - 1] as KvOperation;
        const next = operations[position] as KvOperation;
        if (previous.output === 'unknown') continue;
        // The checker counts call === return as concurrent: program order survives only if the
        // next call is strictly later than the previous return.
        if (!(next.call > previous.return)) overlapping.push(`${client} #${position}: call ${next.call} <= previous return ${previous.return}`);
      }
    }
    expect(overlapping.length, overlapping.slice(0, 3).join('; ')).toBe(0);
  });
});
