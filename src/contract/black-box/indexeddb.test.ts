// Item 1/2: IndexedDbRaftStorage.open(name) then close(), on fake-indexeddb, as API.md and the README show.
import 'fake-indexeddb/auto';
import { expect, it } from 'vitest';
import { createLoopbackNetwork, createRaftNode, IndexedDbRaftStorage, nodeId, RaftStorageError } from '../../index.ts';

const enc = (s: string) => new TextEncoder().encode(s);

it('open(name) gives a working RaftStorage; close(); reopen sees what was written', async () => {
  const s = await IndexedDbRaftStorage.open('bb2-basic');
  expect(await s.term()).toBe(0);
  expect(await s.votedFor()).toBeNull();
  expect(await s.leaderForTerm()).toBeNull();
  expect(await s.loadSnapshot()).toBeNull();
  expect(await s.entries()).toEqual([]);
  await s.saveTermAndVotedFor(3, nodeId('b'));
  await s.saveLeaderForTerm(3, nodeId('b'));
  await s.appendEntries([
    { index: 1, term: 1, command: new Uint8Array(), isNoOp: true },
    { index: 2, term: 3, command: enc('x'), isNoOp: false },
  ]);
  s.close();
  const t = await IndexedDbRaftStorage.open('bb2-basic');
  expect(await t.term()).toBe(3);
  expect(await t.votedFor()).toBe('b');
  expect(await t.leaderForTerm()).toEqual({ term: 3, leaderId: 'b' });
  const es = await t.entries();
  expect(es.map((e) => [e.index, e.term, e.isNoOp])).toEqual([[1, 1, true], [2, 3, false]]);
  expect(new TextDecoder().decode(es[1]!.command)).toBe('x');
  expect((await t.entries(2)).map((e) => e.index)).toEqual([2]);
  await t.truncateFrom(2);
  expect((await t.entries()).map((e) => e.index)).toEqual([1]);
  await t.saveSnapshot({ lastIncludedIndex: 1, lastIncludedTerm: 1 }, enc('state'));
  await t.discardLogPrefix(1);
  const snap = await t.loadSnapshot();
  expect(snap?.meta.lastIncludedIndex).toBe(1);
  expect(new TextDecoder().decode(snap!.state)).toBe('state');
  t.close();
});

it('README: open(name, { durability }) + createRaftNode; a one-node cluster restarts from its database', async () => {
  const id = nodeId('solo');
  const clusterConfig = { voters: [id] };
  const network = createLoopbackNetwork();
  const storage = await IndexedDbRaftStorage.open('board-node-1', { durability: 'strict' });
  const node = await createRaftNode({ id, clusterConfig, transport: network.transport(id), storage });
  const e = await node.propose(enc('one'));
  await node.close();
  storage.close();
  const storage2 = await IndexedDbRaftStorage.open('board-node-1');
  const node2 = await createRaftNode({ id, clusterConfig, transport: createLoopbackNetwork().transport(id), storage: storage2 });
  const seen: string[] = [];
  for await (const c of node2.committedFrom(1)) {
    if (c.type === 'entry') { seen.push(new TextDecoder().decode(c.entry.command)); break; }
  }
  expect(seen).toEqual(['one']);
  expect(node2.term.value).toBeGreaterThanOrEqual(e.term);
  await node2.close();
  storage2.close();
});

it('README "One live storage per database": a second open while the first is live is refused (inUse)', async () => {
  const a = await IndexedDbRaftStorage.open('bb2-lock');
  const err = await IndexedDbRaftStorage.open('bb2-lock', { lockTimeoutMs: 0 }).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(RaftStorageError);
  expect((err as RaftStorageError).reason).toBe('inUse');
  a.close();
  const b = await IndexedDbRaftStorage.open('bb2-lock');
  b.close();
});

it('README: IndexedDbRaftStorage.destroy(name) deletes the database', async () => {
  const a = await IndexedDbRaftStorage.open('bb2-destroy');
  await a.saveTermAndVotedFor(5, null);
  a.close();
  await IndexedDbRaftStorage.destroy('bb2-destroy');
  const b = await IndexedDbRaftStorage.open('bb2-destroy');
  expect(await b.term()).toBe(0);
  b.close();
});

it('calls after close() reject (README: "closed")', async () => {
  const a = await IndexedDbRaftStorage.open('bb2-closed');
  a.close();
  const err = await a.term().then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(RaftStorageError);
  expect((err as RaftStorageError).reason).toBe('closed');
  a.close(); // a second close does not throw
});

it('README: one database per node, named raftmesh:<name>', async () => {
  const s = await IndexedDbRaftStorage.open('bb2-naming');
  await s.saveTermAndVotedFor(1, null);
  const names = (await indexedDB.databases()).map((d) => d.name);
  expect(names).toContain('raftmesh:bb2-naming');
  s.close();
});
