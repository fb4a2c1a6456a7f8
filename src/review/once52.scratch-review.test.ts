// Outside review (exactly-once proposals and linearizable reads), session 52. Each `it` either
// FAILS on the code as reviewed (a defect, named in its title) or is marked "confirmed correct"
// (a regression guard for behaviour found right).
import { describe, expect, it } from 'vitest';
import { ProposalRejectedError } from '../core/errors.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { createReplicatedStore } from '../rooms/replicated-store.ts';
import { createSimulatedCluster } from '../testing/cluster.ts';
import { ClientSessionTable } from '../core/client-session-table.ts';
import { createCoreHarness, type HarnessNode } from '../core/core-harness.test-support.ts';
import { bytes, committedIndexOf, settledOf } from '../core/dedup-scenarios.test-support.ts';
import type { ForwardPropose } from '../core/messages.ts';
import { clientId, type DedupKey, type NodeId } from '../core/types.ts';

/** Folds a node's committed log through a fresh session table: the indexes it applies. */
function appliedIndexes(node: HarnessNode): Set<number> {
  const table = new ClientSessionTable();
  const applied = new Set<number>();
  for (let index = node.core.compactionFloor + 1; index <= node.core.commitIndex; index += 1) {
    const entry = node.core.entryAt(index);
    if (entry === undefined || entry.isNoOp) continue;
    if (table.shouldApply(entry.dedupKey)) applied.add(index);
  }
  return applied;
}

describe('auto client ids: a straggler of an incarnation the table never saw', () => {
  it('DEFECT: a dead incarnation’s forward that lands after the next incarnation’s first entry retires the live id, whose later committed commands are never applied', () => {
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const proposer = [...harness.nodes.values()].find((node) => node !== leader)!;
    // Incarnation 1 of the proposer node (auto id <node>-<16 hex>) forwards one command, then
    // the process dies; the frame is still on the wire (a relay's queue, a congested link).
    const first: DedupKey = { clientId: clientId(`${proposer.id}-1111111111111111`), requestId: 1 };
    const stashed: Array<{ from: NodeId; message: ForwardPropose }> = [];
    harness.dropWhen = (from, _to, message) => {
      if (message.type === 'forwardPropose' && message.dedupKey?.clientId === first.clientId) {
        stashed.push({ from, message });
        return true;
      }
      return false;
    };
    proposer.core.propose(harness.now, 1, bytes('from incarnation 1'), first);
    harness.advance(5);
    expect(stashed).toHaveLength(1);
    // Incarnation 2 (fresh suffix) proposes; its first command commits.
    const second = clientId(`${proposer.id}-2222222222222222`);
    proposer.core.propose(harness.now, 2, bytes('set x=1'), { clientId: second, requestId: 1 });
    harness.advance(50);
    expect(committedIndexOf(proposer.outcomes, 2)).toBeDefined();
    // The dead incarnation's frame arrives now, and the leader appends it (nothing refuses it).
    harness.dropWhen = null;
    const late = stashed[0]!;
    leader.core.receive(harness.now, late.from, late.message);
    harness.advance(50);
    // The live incarnation goes on proposing; the core tells its caller each one committed.
    proposer.core.propose(harness.now, 3, bytes('set x=2'), { clientId: second, requestId: 2 });
    harness.advance(50);
    const third = committedIndexOf(proposer.outcomes, 3);
    expect(third).toBeDefined();
    // Every replica's session table must apply a command its caller was told committed.
    expect(appliedIndexes(leader).has(third!)).toBe(true);
  });
});

describe('ClientSessionTable bytes carry every decision', () => {
  it('confirmed correct: a table restored from its bytes before every entry decides exactly as one never serialized (random auto, durable and closed sessions)', () => {
    let seed = 52;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const ids = [
      'alice',
      'bob',
      ...['n1', 'n2'].flatMap((node) => ['1', '2', '3', '4'].map((digit) => `${node}-${digit.repeat(16)}`)),
    ];
    for (let run = 0; run < 2; run += 1) {
      const live = new ClientSessionTable();
      let restored = new ClientSessionTable();
      for (let step = 0; step < 120; step += 1) {
        restored = ClientSessionTable.fromBytes(restored.toBytes());
        const id = clientId(pick(ids));
        if (random() < 0.05) {
          live.closeSession(id);
          restored.closeSession(id);
        } else {
          const requestId = random() < 0.1 ? Math.floor(random() * 5_000) : Math.floor(random() * 40);
          const key: DedupKey = { clientId: id, requestId };
          expect(restored.shouldApply(key), `run ${run} step ${step} ${id}#${requestId}`).toBe(live.shouldApply(key));
        }
        expect(restored.toBytes()).toEqual(live.toBytes());
      }
    }
  });
});

describe('reads on a deposed leader', () => {
  it('confirmed correct: a leader cut off from the rest never serves a local read below a write the next leader acknowledged first', () => {
    const harness = createCoreHarness(['a', 'b', 'c']);
    harness.advance(400);
    const oldLeader = harness.leaders()[0]!;
    harness.isolate(oldLeader.id);
    harness.advance(1_500);
    const newLeader = harness.leaders().find((node) => node !== oldLeader)!;
    expect(newLeader).toBeDefined();
    newLeader.core.propose(harness.now, 1, bytes('write'), { clientId: clientId('w'), requestId: 1 });
    harness.advance(50);
    const written = committedIndexOf(newLeader.outcomes, 1)!;
    expect(written).toBeDefined();
    // The write is acknowledged; now the old leader's caller reads. Whatever it answers, and
    // whenever (before or after the partition heals), the index must cover the write.
    oldLeader.core.requestRead(harness.now, 7);
    harness.advance(300);
    harness.heal();
    harness.advance(2_000);
    const read = oldLeader.reads.find((outcome) => outcome.readId === 7);
    expect(read).toBeDefined();
    expect(read !== undefined && 'readIndex' in read ? read.readIndex : -1).toBeGreaterThanOrEqual(written);
    expect(settledOf(newLeader.outcomes, 1)?.type).toBe('committed');
  });
});

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
