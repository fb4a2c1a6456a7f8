// SPEC "Exactly-once" and "Collision" across incarnations and writers, from outside: a node
// restarted on its own storage with the same seeded random source (as API.md's deterministic
// tests restart nodes), a second live writer under one durable id, and a durable id in the shape
// of an auto id. Each case lost acknowledged commands before (a black-box review's reproductions):
// a new proposal resolved with an older command's entry, and the older command took its place.
import { describe, expect, it } from 'vitest';
import { ClientIdCollisionError, ClientSessionTable, clientId, nodeId, type Committed, type LogEntry, type RaftNode } from '../index.ts';
import { restartNode, startContractCluster, type ContractCluster } from './contract-cluster.test-support.ts';

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** Collects a committed stream as it arrives (the clock moves only inside settle). */
function collect(stream: AsyncIterable<Committed>): Committed[] {
  const items: Committed[] = [];
  void (async () => {
    for await (const item of stream) items.push(item);
  })();
  return items;
}

/** What an application with a ClientSessionTable applies, in order. */
function applied(items: readonly Committed[]): string[] {
  const table = new ClientSessionTable();
  const commands: string[] = [];
  for (const item of items) if (item.type === 'entry' && table.shouldApply(item.entry.dedupKey)) commands.push(decode(item.entry.command));
  return commands;
}

async function propose(cluster: ContractCluster, node: RaftNode, command: string): Promise<LogEntry> {
  const entry = await cluster.settle(node.propose(encode(command)));
  // Each call resolves with the entry holding its own command, never another's.
  expect(decode(entry.command)).toBe(command);
  return entry;
}

describe('client identities across incarnations', () => {
  it('an auto node restarted with the same random source, whose forwards committed only at the leader, loses none of its new commands', async () => {
    const cluster = await startContractCluster({ seed: 22 });
    const leader = await cluster.waitForLeader();
    const name = ['a', 'b', 'c'].find((candidate) => cluster.node(candidate) !== leader)!;
    const stream = collect(leader.committed());
    // The leader's appends never reach the node, so the forwards commit without it hearing.
    cluster.network.block(leader.id, nodeId(name));
    for (const command of ['old1', 'old2', 'old3']) cluster.node(name).propose(encode(command)).catch(() => undefined);
    await cluster.clock.advance(30);
    expect(leader.commitIndex.value).toBeGreaterThanOrEqual(4);
    const restarted = await restartNode(cluster, name);
    cluster.network.heal();
    await cluster.clock.advance(500);
    for (const command of ['new1', 'new2', 'new3', 'new4']) await propose(cluster, restarted, command);
    await cluster.clock.advance(200);
    expect(applied(stream)).toEqual(['old1', 'old2', 'old3', 'new1', 'new2', 'new3', 'new4']);
    await cluster.close();
  });

  it('an auto node restarted with the same random source after compacting its own commands loses none of its new commands', async () => {
    const cluster = await startContractCluster({ seed: 21, raftConfig: { snapshotTrailingEntries: 0 } });
    const leader = await cluster.waitForLeader();
    const name = ['a', 'b', 'c'].find((candidate) => cluster.node(candidate) !== leader)!;
    const stream = collect(leader.committed());
    for (const command of ['old1', 'old2', 'old3']) await propose(cluster, cluster.node(name), command);
    await cluster.clock.advance(200);
    const node = cluster.node(name);
    node.publishSnapshot({ throughIndex: node.commitIndex.value, state: new Uint8Array([1]) });
    await cluster.clock.advance(200);
    expect(await cluster.storage(name).entries()).toEqual([]);
    const restarted = await restartNode(cluster, name);
    await cluster.clock.advance(500);
    for (const command of ['new1', 'new2', 'new3', 'new4']) await propose(cluster, restarted, command);
    await cluster.clock.advance(200);
    expect(applied(stream)).toEqual(['old1', 'old2', 'old3', 'new1', 'new2', 'new3', 'new4']);
    await cluster.close();
  });

  it('of two live writers under one durable id, one is refused with ClientIdCollisionError, and nothing acknowledged is lost', async () => {
    const cluster = await startContractCluster({ seed: 11 });
    const shared = { type: 'durable' as const, clientId: clientId('shared') };
    const first = await restartNode(cluster, 'a', shared);
    const second = await restartNode(cluster, 'b', shared);
    await cluster.waitForLeader();
    const stream = collect(cluster.node('c').committed());
    for (const command of ['a1', 'a2', 'a3']) await propose(cluster, first, command);
    await cluster.clock.advance(300);
    // The second writer has seen entries under its id before its first proposal: its ids start
    // past them, where the first writer's next ids would have met them.
    await propose(cluster, second, 'b1');
    await cluster.clock.advance(300);
    await expect(cluster.settle(first.propose(encode('a4')))).rejects.toBeInstanceOf(ClientIdCollisionError);
    await cluster.clock.advance(200);
    expect(applied(stream)).toEqual(['a1', 'a2', 'a3', 'b1']);
    await cluster.close();
  });

  it("SPEC's recipe with the caller's own ids above the clock floor: an earlier incarnation's forwards that commit after the restart are replayed, not taken for a collision", async () => {
    const cluster = await startContractCluster({ seed: 3 });
    const writer = { type: 'durable' as const, clientId: clientId('writer') };
    const base = 1_733_000_000_000; // Date.now()-style ids, far above a virtual clock's floor
    const leader = await cluster.waitForLeader();
    const name = ['a', 'b', 'c'].find((candidate) => cluster.node(candidate) !== leader)!;
    let node = await restartNode(cluster, name, writer);
    await cluster.clock.advance(300);
    const stream = collect(leader.committed());
    await cluster.settle(node.propose(encode('r1'), { requestId: base + 1 }));
    // Two forwards in flight at the crash: the leader's appends never reach the node.
    cluster.network.block(leader.id, nodeId(name));
    for (const number of [2, 3]) node.propose(encode(`r${number}`), { requestId: base + number }).catch(() => undefined);
    await cluster.clock.advance(30);
    node = await restartNode(cluster, name, writer);
    cluster.network.heal();
    await cluster.clock.advance(500);
    expect(node.commitIndex.value).toBe(leader.commitIndex.value);
    // The caller replays what was not acknowledged, under the same ids, then goes on.
    for (const number of [2, 3, 4]) {
      const entry = await cluster.settle(node.propose(encode(`r${number}`), { requestId: base + number }));
      expect(decode(entry.command)).toBe(`r${number}`);
    }
    await cluster.clock.advance(200);
    expect(applied(stream)).toEqual(['r1', 'r2', 'r3', 'r4']);
    await cluster.close();
  });

  it('refuses a durable id in the shape of an auto id, which the session table would retire', async () => {
    const cluster = await startContractCluster({ seed: 5 });
    await expect(restartNode(cluster, 'a', { type: 'durable', clientId: clientId('orders-0123456789abcdef') })).rejects.toThrow(/must not end in "-" and 16 lowercase hex digits/);
    // One digit fewer, or upper case, is an ordinary durable id.
    await expect(cluster.start('a', { type: 'durable', clientId: clientId('orders-0123456789ABCDEF') })).resolves.toBeDefined();
    await cluster.close();
  });
});
