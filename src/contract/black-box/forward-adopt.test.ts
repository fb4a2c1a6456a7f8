import { describe, it, expect } from 'vitest';
import { nodeId, RaftClosedError, createRaftNode, InMemoryRaftStorage, type LogEntry, type RaftNode } from '../../index.ts';
import { harness, enc, dec } from './harness.test-support.ts';

describe('forwards across leader changes', () => {
  it('the proposing follower itself becomes leader: its pending forward commits once under the same key', async () => {
    const h = await harness(['a', 'b', 'c'], { startAll: false });
    await h.start(nodeId('a'), { raftConfig: { electionTimeoutMin: 150, electionTimeoutMax: 160 } });
    await h.start(nodeId('b'), { raftConfig: { electionTimeoutMin: 300, electionTimeoutMax: 320 } });
    await h.start(nodeId('c'), { raftConfig: { electionTimeoutMin: 900, electionTimeoutMax: 1000 } });
    const L = await h.waitLeader();
    expect(L.id).toBe('a');
    await h.clock.advance(100);
    h.net.blockOneWay(nodeId('a'), nodeId('b'));
    h.net.blockOneWay(nodeId('a'), nodeId('c'));
    const p = h.node('b').propose(enc('adopt-me'));
    const r = await h.settle(p, 5000);
    expect(r?.ok).toBe(true);
    const e = r!.value as LogEntry;
    expect(dec(e.command)).toBe('adopt-me');
    h.net.heal();
    await h.clock.advance(2000);
    const leader = h.leader()!;
    const log = await h.storages.get(leader.id)!.entries(1);
    const copies = log.filter((x) => x.dedupKey?.clientId === e.dedupKey!.clientId && x.dedupKey.requestId === e.dedupKey!.requestId);
    expect(copies.map((x) => x.index)).toEqual([e.index]);
    // every node holds the same entry at that index
    for (const id of h.ids) {
      const got = (await h.storages.get(id)!.entries(e.index))[0];
      expect(got && dec(got.command)).toBe('adopt-me');
    }
    await h.closeAll();
  });

  it('createRaftNode with an already-aborted signal gives a closed node or rejects', async () => {
    const h = await harness(['a', 'b', 'c'], { startAll: false });
    let res: RaftNode | undefined, err: unknown;
    createRaftNode({ id: nodeId('a'), clusterConfig: { voters: h.ids }, transport: h.net.transport(nodeId('a')), storage: new InMemoryRaftStorage(), raftConfig: { clock: h.clock }, signal: AbortSignal.abort() }).then((n) => (res = n), (e) => (err = e));
    await h.clock.runUntil(() => res !== undefined || err !== undefined, 100);
    if (res) {
      const q = res.propose(enc('x')).then(() => null, (e: unknown) => e);
      await h.clock.advance(10);
      expect(await q).toBeInstanceOf(RaftClosedError);
    } else expect(err).toBeDefined();
  });
});
