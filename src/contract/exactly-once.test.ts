// SPEC "Exactly-once (§8)", end to end through the public entries: what an application that
// applies committedFrom() through a ClientSessionTable sees when a node restarts on its storage.
import { describe, expect, it } from 'vitest';
import { clientId, ClientSessionTable, type ClientIdentity, type Committed, type LogEntry, type RaftNode } from '../index.ts';
import { restartNode, startContractCluster, type ContractCluster } from './contract-cluster.test-support.ts';

const bytes = (value: number): Uint8Array => new Uint8Array([value]);

/** The commands an application applies from the node's committed log, each key once (its table). */
async function appliedCommands(cluster: ContractCluster, node: RaftNode): Promise<number[]> {
  const table = new ClientSessionTable();
  const applied: number[] = [];
  const iterator = node.committedFrom(1)[Symbol.asyncIterator]();
  for (let index = 1; index <= node.commitIndex.value; index += 1) {
    const next = (await cluster.settle(iterator.next(), 1_000)).value as Committed;
    if (next.type === 'install') throw new Error('no snapshot expected');
    if (next.type === 'entry' && table.shouldApply(next.entry.dedupKey)) applied.push(next.entry.command[0]!);
  }
  await iterator.return?.();
  return applied;
}

describe('SPEC Exactly-once: durable identity, request ids replayed after a crash', () => {
  for (const proposer of ['follower', 'leader'] as const) {
    it(`a ${proposer} that already knows the request committed resolves the replay, and the application applies it once`, async () => {
      const cluster = await startContractCluster({ seed: 41 });
      const leader = await cluster.waitForLeader();
      const name = proposer === 'leader' ? leader.id : [...cluster.nodes.keys()].find((candidate) => candidate !== leader.id)!;
      const identity: ClientIdentity = { type: 'durable', clientId: clientId('app') };
      const first = await restartNode(cluster, name, identity);
      const original = await cluster.settle(first.propose(bytes(1), { requestId: 10 }));
      await cluster.settle(first.propose(bytes(2), { requestId: 11 }));
      // The crash: the application does not know whether request 10 committed, so it replays it
      // once the node is back, after the node has caught up with the commit index.
      const again = await restartNode(cluster, name, identity);
      await cluster.clock.runUntil(() => again.commitIndex.value >= original.index + 1 && cluster.leader() !== null, 5_000);
      const replayed: LogEntry = await cluster.settle(again.propose(bytes(1), { requestId: 10 }), 5_000);
      expect(replayed.dedupKey).toEqual({ clientId: 'app', requestId: 10 });
      expect(replayed.command).toEqual(bytes(1));
      const later = await cluster.settle(again.propose(bytes(3), { requestId: 12 }), 5_000);
      await cluster.clock.runUntil(() => again.commitIndex.value >= later.index, 1_000);
      expect(await appliedCommands(cluster, again)).toEqual([1, 2, 3]);
      await cluster.close();
    });
  }
});

describe('SPEC Exactly-once: request ids a session table would skip', () => {
  it('a caller\'s id far below one the node issued is refused, not committed and never applied; ids above it and retries still go', async () => {
    const cluster = await startContractCluster({ seed: 43 });
    const leader = await cluster.waitForLeader();
    const node = await restartNode(cluster, leader.id, { type: 'durable', clientId: clientId('mixed') });
    await cluster.clock.runUntil(() => cluster.leader() !== null, 5_000);
    await cluster.settle(node.propose(bytes(1), { requestId: 1 }), 5_000);
    // The node's own id: above its clock counted in ids (1,000 a millisecond), far above 1.
    const issued = await cluster.settle(node.propose(bytes(2)), 5_000);
    expect(issued.dedupKey?.requestId).toBeGreaterThan(3 + 1024);
    const commitBefore = node.commitIndex.value;
    await expect(node.propose(bytes(3), { requestId: 3 })).rejects.toThrow(/requestId 3 is more than 1024 below request id \d+, which client "mixed" already used/);
    const above = await cluster.settle(node.propose(bytes(4), { requestId: (issued.dedupKey?.requestId ?? 0) + 1 }), 5_000);
    const retried = await cluster.settle(node.propose(bytes(2), { requestId: issued.dedupKey?.requestId ?? 0 }), 5_000);
    expect(retried.index).toBe(issued.index);
    await cluster.clock.runUntil(() => node.commitIndex.value >= above.index, 1_000);
    expect(above.index).toBe(commitBefore + 1); // the refused command took no place in the log
    expect(await appliedCommands(cluster, node)).toEqual([1, 2, 4]);
    await cluster.close();
  });
});

describe('SPEC Exactly-once: auto identity across a restart', () => {
  it('a node restarted with the same seeded random source mints a client id its log does not hold: its new commands resolve as themselves and are all applied', async () => {
    const cluster = await startContractCluster({ seed: 6 });
    const leader = await cluster.waitForLeader();
    const name = [...cluster.nodes.keys()].find((candidate) => candidate !== leader.id)!;
    const before = [await cluster.settle(cluster.node(name).propose(bytes(1))), await cluster.settle(cluster.node(name).propose(bytes(2)))];
    // cluster.start gives the node the same seededRandom it had (a deterministic test does that).
    const again = await restartNode(cluster, name);
    await cluster.clock.runUntil(() => again.commitIndex.value >= before[1]!.index && cluster.leader() !== null, 5_000);
    const after = [await cluster.settle(again.propose(bytes(3)), 5_000), await cluster.settle(again.propose(bytes(4)), 5_000)];
    expect(after.map((entry) => entry.command[0])).toEqual([3, 4]);
    for (const entry of after) {
      expect(entry.dedupKey?.clientId).toMatch(new RegExp(`^${name}-[0-9a-f]{16}$`));
      expect(entry.dedupKey?.clientId).not.toBe(before[0]!.dedupKey?.clientId);
      expect(entry.index).toBeGreaterThan(before[1]!.index);
    }
    // Request ids rise within an incarnation.
    expect(after[1]!.dedupKey!.requestId).toBeGreaterThan(after[0]!.dedupKey!.requestId);
    expect(before[1]!.dedupKey!.requestId).toBeGreaterThan(before[0]!.dedupKey!.requestId);
    await cluster.clock.runUntil(() => cluster.node(name).commitIndex.value >= after[1]!.index, 1_000);
    expect(await appliedCommands(cluster, again)).toEqual([1, 2, 3, 4]);
    await cluster.close();
  });

  it('the same, when the restarted node proposes before it has heard of any commit', async () => {
    const cluster = await startContractCluster({ seed: 6 });
    const leader = await cluster.waitForLeader();
    const name = [...cluster.nodes.keys()].find((candidate) => candidate !== leader.id)!;
    await cluster.settle(cluster.node(name).propose(bytes(1)));
    await cluster.settle(cluster.node(name).propose(bytes(2)));
    const again = await restartNode(cluster, name);
    const after = [await cluster.settle(again.propose(bytes(3)), 5_000), await cluster.settle(again.propose(bytes(4)), 5_000)];
    expect(after.map((entry) => entry.command[0])).toEqual([3, 4]);
    await cluster.clock.runUntil(() => again.commitIndex.value >= after[1]!.index, 1_000);
    expect(await appliedCommands(cluster, again)).toEqual([1, 2, 3, 4]);
    await cluster.close();
  });
});

describe('SPEC Exactly-once: a replay its leader can no longer recognise', () => {
  for (const proposerRestarts of [false, true]) {
    it(`a proposer whose own log holds the requests committed resolves their replays at those entries, and no copy is appended${proposerRestarts ? ' (replayed after its own restart)' : ''}`, async () => {
      const cluster = await startContractCluster({ names: ['a', 'b', 'c', 'x'], voters: ['a', 'b', 'c'], learners: ['x'], seed: 41 });
      await cluster.waitForLeader();
      const identity: ClientIdentity = { type: 'durable', clientId: clientId('app') };
      let proposer = await restartNode(cluster, 'x', identity);
      const originals = [await cluster.settle(proposer.propose(bytes(1), { requestId: 10 })), await cluster.settle(proposer.propose(bytes(2), { requestId: 11 }))];
      // Every voter compacts the requests into a snapshot and restarts, which forgets the keys it
      // compacted (they are kept in memory): no leader can recognise a replay any more. The
      // learner kept its whole log.
      for (const name of ['a', 'b', 'c']) {
        const voter = cluster.node(name);
        await cluster.clock.runUntil(() => voter.commitIndex.value >= originals[1]!.index, 1_000);
        voter.publishSnapshot({ throughIndex: voter.commitIndex.value, state: bytes(0) });
      }
      await cluster.clock.advance(200);
      for (const name of ['a', 'b', 'c']) await restartNode(cluster, name);
      if (proposerRestarts) proposer = await restartNode(cluster, 'x', identity);
      await cluster.waitForLeader();
      await cluster.clock.runUntil(() => proposer.commitIndex.value >= originals[1]!.index, 2_000);
      for (const [position, original] of originals.entries()) {
        const replayed = await cluster.settle(proposer.propose(bytes(position + 1), { requestId: 10 + position }), 5_000);
        expect({ index: replayed.index, term: replayed.term }).toEqual({ index: original.index, term: original.term });
      }
      const later = await cluster.settle(proposer.propose(bytes(3), { requestId: 12 }), 5_000);
      await cluster.clock.runUntil(() => proposer.commitIndex.value >= later.index, 1_000);
      const log = await cluster.storage('x').entries();
      expect(log.filter((entry) => entry.dedupKey?.clientId === 'app').map((entry) => entry.dedupKey!.requestId)).toEqual([10, 11, 12]);
      expect(await appliedCommands(cluster, proposer)).toEqual([1, 2, 3]);
      await cluster.close();
    });
  }
});
