// The request ids of a node's unresolved proposals span less than the ClientSessionTable's
// anti-replay window (1,024), whatever the ids and however the forwards are reordered: an
// acknowledged proposal is always applied. A count of unresolved proposals does not give that:
// while one forward is lost and waits for its retry, later ones commit, resolve and free their
// slots, and once a window of ids had been issued past the lost one its retry committed below
// every table's window, resolved, and was applied nowhere (found by a review, 2026-12-06; these
// are its reproductions, each failing before the fix). The proposal tracker now admits a
// proposal only while its id is less than a window above the lowest unresolved one, and checks a
// caller's id again when the proposal enters (src/driver/proposal-tracker.ts).
import { describe, expect, it } from 'vitest';
import {
  clientId,
  ClientSessionTable,
  createRaftNode,
  InMemoryRaftStorage,
  nodeId,
  seededRandom,
  VirtualClock,
  type ClientIdentity,
  type Committed,
  type LogEntry,
  type RaftNode,
} from '../index.ts';
import { createPartitionableNetwork, restartNode, startContractCluster, type ContractCluster } from './contract-cluster.test-support.ts';
import { rewritingTransport } from '../driver/rewriting-transport.test-support.ts';

const cmd = (value: number): Uint8Array => new Uint8Array(new Uint32Array([value]).buffer);
const valueOf = (command: Uint8Array): number => new Uint32Array(command.slice().buffer)[0]!;

/** What an application applying `node`'s committed log through a ClientSessionTable applies, in order. */
async function appliedOnVirtualClock(clock: VirtualClock, node: RaftNode): Promise<number[]> {
  const table = new ClientSessionTable();
  const applied: number[] = [];
  const iterator = node.committedFrom(1)[Symbol.asyncIterator]();
  for (let index = 1; index <= node.commitIndex.value; index += 1) {
    let next: IteratorResult<Committed> | null = null;
    void iterator.next().then((value) => (next = value));
    await clock.runUntil(() => next !== null, 1_000);
    const item = (next as unknown as IteratorResult<Committed>).value;
    if (item.type === 'entry' && table.shouldApply(item.entry.dedupKey)) applied.push(valueOf(item.entry.command));
  }
  await iterator.return?.();
  return applied;
}

async function run(loseEveryCopy: boolean): Promise<{ firstOutcome: string; firstKey: unknown; laterResolved: number; applied: Set<number>; droppedForwards: number; maxInFlight: number }> {
  const clock = new VirtualClock();
  const network = createPartitionableNetwork(() => clock.now());
  const voters = ['a', 'b', 'c'].map((name) => nodeId(name));
  const nodes = new Map<string, RaftNode>();
  let droppedForwards = 0;
  let losing = true;
  for (const name of ['a', 'b', 'c', 'x']) {
    const inner = network.transport(nodeId(name));
    // x (a learner, so it never leads) loses its forward of request 1: the first copy only, or
    // every copy until the later proposals are done (a link that drops that one frame again).
    const transport = name !== 'x' ? inner : rewritingTransport(inner, (_to, message) => {
      if (message.type === 'forwardPropose' && message.dedupKey?.requestId === 1 && losing && (loseEveryCopy || droppedForwards === 0)) {
        droppedForwards += 1;
        return null;
      }
      return message;
    });
    nodes.set(name, await createRaftNode({
      id: nodeId(name),
      clusterConfig: { voters, learners: [nodeId('x')] },
      transport,
      storage: new InMemoryRaftStorage(),
      raftConfig: { clock, random: seededRandom(9_000 + name.charCodeAt(0)) },
    }));
  }
  const leaderOf = (): RaftNode | null => [...nodes.values()].find((node) => node.role.value === 'leader') ?? null;
  await clock.runUntil(() => leaderOf() !== null, 20_000);
  const x = nodes.get('x')!;
  await clock.runUntil(() => x.leader.value !== null, 5_000);

  let firstOutcome = 'pending';
  let firstKey: unknown;
  void x.propose(cmd(1)).then((entry) => {
    firstOutcome = `resolved at index ${entry.index}`;
    firstKey = entry.dedupKey;
  }, (error: unknown) => (firstOutcome = String(error)));
  // The application goes on: 1,100 more proposals in batches of 100, never more than 101 unresolved.
  let maxInFlight = 0;
  let laterResolved = 0;
  for (let batch = 0; batch < 11; batch += 1) {
    const pending: Array<Promise<LogEntry>> = [];
    for (let k = 0; k < 100; k += 1) pending.push(x.propose(cmd(2 + batch * 100 + k)));
    maxInFlight = Math.max(maxInFlight, 1 + pending.length);
    let done = false;
    void Promise.all(pending).then(() => (done = true));
    await clock.runUntil(() => done, 20_000);
    laterResolved += pending.length;
  }
  losing = false;
  await clock.runUntil(() => firstOutcome !== 'pending', 30_000);
  const leader = leaderOf()!;
  await clock.runUntil(() => leader.commitIndex.value >= x.commitIndex.value, 2_000);
  const applied = new Set(await appliedOnVirtualClock(clock, leader));
  for (const node of nodes.values()) await node.close();
  return { firstOutcome, firstKey, laterResolved, applied, droppedForwards, maxInFlight };
}

describe('request ids in flight span less than the window: node-issued ids (auto identity)', () => {
  for (const loseEveryCopy of [false, true]) {
    it(`a forward lost ${loseEveryCopy ? 'until the later proposals are done' : 'once'} while 1,100 later proposals are made: the first resolves and is applied`, async () => {
      const result = await run(loseEveryCopy);
      expect(result.laterResolved).toBe(1100);
      expect(result.maxInFlight).toBeLessThan(1024);
      expect(result.firstOutcome).toMatch(/resolved/);
      // Acknowledged, so it must have been applied.
      expect({ acknowledged: result.firstOutcome, key: result.firstKey, applied: result.applied.has(1), droppedForwards: result.droppedForwards }).toEqual({
        acknowledged: result.firstOutcome, key: result.firstKey, applied: true, droppedForwards: result.droppedForwards,
      });
    });
  }
});

describe('request ids in flight span less than the window: caller ids that are not consecutive', () => {
  it('two pipelined proposals 1,999 ids apart, the first forward lost once: the second waits for the first, both resolve and both are applied', async () => {
    const clock = new VirtualClock();
    const network = createPartitionableNetwork(() => clock.now());
    const names = ['a', 'b', 'c', 'x'];
    const voters = ['a', 'b', 'c'].map((name) => nodeId(name));
    const learners = [nodeId('x')];
    const nodes = new Map<string, RaftNode>();
    let dropped = 0;
    for (const name of names) {
      const inner = network.transport(nodeId(name));
      // x (a learner: it never leads) loses its first forward of request 1 (a frame lost on the network), nothing else.
      const transport = name !== 'x' ? inner : rewritingTransport(inner, (_to, message) => {
        if (message.type === 'forwardPropose' && message.dedupKey?.requestId === 1 && dropped === 0) {
          dropped += 1;
          return null;
        }
        return message;
      });
      const identity: ClientIdentity | undefined = name === 'x' ? { type: 'durable', clientId: clientId('app') } : undefined;
      nodes.set(name, await createRaftNode({
        id: nodeId(name),
        clusterConfig: { voters, learners },
        transport,
        storage: new InMemoryRaftStorage(),
        raftConfig: { clock, random: seededRandom(7_000 + name.charCodeAt(0)) },
        ...(identity === undefined ? {} : { identity }),
      }));
    }
    const leaderOf = (): RaftNode | null => [...nodes.values()].find((node) => node.role.value === 'leader') ?? null;
    await clock.runUntil(() => leaderOf() !== null, 20_000);
    const proposer = nodes.get('x')!;
    await clock.runUntil(() => proposer.leader.value !== null, 5_000);

    // The application's own ids, rising but not consecutive (say, derived from a timestamp).
    const outcomes: Record<number, string> = {};
    const earlier = proposer.propose(cmd(1), { requestId: 1 }).then((entry) => (outcomes[1] = `resolved at ${entry.index}`), (error: unknown) => (outcomes[1] = String(error)));
    const later = proposer.propose(cmd(2000), { requestId: 2000 }).then((entry) => (outcomes[2000] = `resolved at ${entry.index}`), (error: unknown) => (outcomes[2000] = String(error)));
    await clock.runUntil(() => outcomes[1] !== undefined && outcomes[2000] !== undefined, 20_000);
    void earlier;
    void later;
    expect(dropped).toBe(1);

    const leader = leaderOf()!;
    await clock.runUntil(() => leader.commitIndex.value >= proposer.commitIndex.value, 2_000);
    const applied = await appliedOnVirtualClock(clock, leader);
    // Both proposals were acknowledged; an acknowledged command must be applied.
    expect(outcomes).toEqual({ 1: expect.stringMatching(/resolved/), 2000: expect.stringMatching(/resolved/) });
    expect(applied).toEqual(expect.arrayContaining([1, 2000]));
    // The second entered only once the first had resolved: it committed after it.
    expect(Number(outcomes[2000]!.split(' ').pop())).toBeGreaterThan(Number(outcomes[1]!.split(' ').pop()));
        for (const node of nodes.values()) await node.close();
  });
});

/** What an application that applies node's whole committed log through a ClientSessionTable applies. */
async function appliedValues(cluster: ContractCluster, node: RaftNode): Promise<Set<number>> {
  const table = new ClientSessionTable();
  const applied = new Set<number>();
  const iterator = node.committedFrom(1)[Symbol.asyncIterator]();
  for (let index = 1; index <= node.commitIndex.value; index += 1) {
    const next = (await cluster.settle(iterator.next(), 1_000)).value as Committed;
    if (next.type === 'install') throw new Error('this helper needs a node that never compacted');
    if (next.type === 'entry' && table.shouldApply(next.entry.dedupKey)) applied.add(valueOf(next.entry.command));
  }
  await iterator.return?.();
  return applied;
}

describe('a caller id is checked again when its proposal enters the window', () => {
  it('a small caller id queued behind a node-issued proposal is refused with a RangeError when it enters, not committed and skipped', async () => {
    const cluster = await startContractCluster({ seed: 43 });
    const leader = await cluster.waitForLeader();
    // Restarted after the clock has moved, so the node's own ids start above its clock in ids.
    const node = await restartNode(cluster, leader.id, { type: 'durable', clientId: clientId('mixed') });
    await cluster.clock.runUntil(() => cluster.leader() !== null, 5_000);
    // The caller's own ids 1..1024 fill the window of unresolved proposals.
    const first: Array<Promise<LogEntry>> = [];
    for (let id = 1; id <= 1024; id += 1) first.push(node.propose(cmd(id), { requestId: id }));
    // One proposal without an id (waits for room; the node stamps it when it enters the window),
    // then the caller's id 1025: at the call, the highest id used is 1024, so it passes the check.
    const issued = node.propose(cmd(5_000_000));
    // Its outcome is taken at once: the refusal comes while the test waits for the others.
    const small = node.propose(cmd(1025), { requestId: 1025 }).then((entry) => ({ value: entry }), (error: unknown) => ({ error }));
    await cluster.settle(Promise.all(first), 20_000);
    const issuedEntry = await cluster.settle(issued, 10_000);
    const smallOutcome: { value: LogEntry } | { error: unknown } = await cluster.settle(small, 10_000);
    const issuedId = issuedEntry.dedupKey!.requestId;
    expect(issuedId).toBeGreaterThan(1025 + 1024); // the node's id, far above the caller's
    const leaderNow = cluster.leader()!;
    await cluster.clock.runUntil(() => leaderNow.commitIndex.value >= node.commitIndex.value, 2_000);
    const applied = await appliedValues(cluster, leaderNow);
    expect(applied.has(5_000_000)).toBe(true);
    // The contract: either propose refuses id 1025 with a RangeError (nothing appended), or the
    // command it acknowledged is applied. Neither happens.
    const acknowledgedButNotApplied = 'value' in smallOutcome && !applied.has(1025);
    expect({ outcome: 'value' in smallOutcome ? `resolved at index ${smallOutcome.value.index}` : String(smallOutcome.error), applied: applied.has(1025) }).toEqual(
      { outcome: expect.stringMatching(/RangeError/), applied: false },
    );
    expect(acknowledgedButNotApplied).toBe(false);
    await cluster.close();
  });
});
