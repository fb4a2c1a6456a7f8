// Guards program order in linearizability checking. The exactly-once simulation recorded a
// client's next operation as called at the very virtual millisecond its previous one returned, and
// the checker counts a call and a return at one time as concurrent, so every pair of consecutive
// operations of one client was checked as if they overlapped: a read that missed the client's own
// acknowledged write passed. Now the checker orders one client's operations at touching times, and
// the simulation stamps its history with strictly increasing times (history-stamps.ts). An outside
// review found it (2026-12-07, third session).
import { describe, expect, it } from 'vitest';
import { runExactlyOnceSimulation } from './exactly-once-simulation.ts';
import { createHistoryStamps, nextAbove } from './history-stamps.ts';
import { checkLinearizability, type KvOperation } from './linearizability.ts';

const putThenStaleGet = (reader: string): KvOperation[] => [
  { clientId: 'c1', input: { type: 'put', key: 'x', value: 'a' }, output: { type: 'written' }, call: 0, return: 10 },
  { clientId: reader, input: { type: 'get', key: 'x' }, output: { type: 'read', value: null }, call: 10, return: 20 },
];

describe('linearizability of one client’s sequential operations', () => {
  it('rejects a read that misses the same client’s write acknowledged when the read was issued', () => {
    // c1: put(x, "a") acknowledged at 10, then get(x) issued at 10 answers "nothing".
    expect(checkLinearizability(putThenStaleGet('c1')).ok).toBe(false);
  });

  it('still counts another client’s call at the return time as concurrent (a coarse clock cannot order them)', () => {
    expect(checkLinearizability(putThenStaleGet('c2')).ok).toBe(true);
  });

  it('lets the read of a later operation of the client come in any order with another client’s concurrent write', () => {
    const history: KvOperation[] = [
      { clientId: 'c1', input: { type: 'put', key: 'x', value: 'a' }, output: { type: 'written' }, call: 0, return: 10 },
      { clientId: 'c2', input: { type: 'put', key: 'x', value: 'b' }, output: { type: 'written' }, call: 5, return: 30 },
      { clientId: 'c1', input: { type: 'get', key: 'x' }, output: { type: 'read', value: 'a' }, call: 10, return: 20 },
      { clientId: 'c1', input: { type: 'get', key: 'x' }, output: { type: 'read', value: 'b' }, call: 20, return: 25 },
    ];
    expect(checkLinearizability(history).ok).toBe(true);
    // ...but not a read of the older value after the client saw the newer one.
    expect(checkLinearizability([...history, { clientId: 'c1', input: { type: 'get', key: 'x' }, output: { type: 'read', value: 'a' }, call: 25, return: 26 }]).ok).toBe(false);
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
        if (!(next.call > previous.return)) overlapping.push(`${client} #${position}: call ${next.call} <= previous return ${previous.return}`);
      }
    }
    expect(history.length).toBe(36);
    expect(overlapping.length, overlapping.slice(0, 3).join('; ')).toBe(0);
  });
});

describe('history stamps', () => {
  it('are the clock’s readings, made strictly increasing in the order they were taken', () => {
    let now = 10;
    const stamp = createHistoryStamps(() => now);
    const first = stamp();
    const second = stamp();
    const third = stamp();
    now = 10.5;
    const fourth = stamp();
    expect(first).toBe(10);
    expect(second).toBe(nextAbove(10));
    expect(third).toBeGreaterThan(second);
    expect(third - 10).toBeLessThan(1e-12);
    expect(fourth).toBe(10.5);
  });

  it('nextAbove gives the next double up', () => {
    expect(nextAbove(1)).toBe(1 + Number.EPSILON);
    expect(nextAbove(0)).toBe(Number.MIN_VALUE);
    expect(nextAbove(-1)).toBeGreaterThan(-1);
    expect(() => nextAbove(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});
