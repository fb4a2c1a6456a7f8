import { describe, it, expect } from 'vitest';
import { nodeId, InMemoryRaftStorage, type Committed, LeadershipLostError } from '../../index.ts';
import { harness, enc, collect, ofType } from './harness.test-support.ts';


describe('subtle rules', () => {
  it('membership shows an uncommitted config at once and reverts when it is truncated', async () => {
    const h = await harness(['a', 'b', 'c', 'd', 'e']);
    const l1 = await h.waitLeader();
    await h.clock.advance(100);
    const others = h.ids.filter((i) => i !== l1.id);
    for (const o of others) h.net.blockOneWay(l1.id, o);
    const target = { voters: others.slice(0, 4) };
    const p = l1.changeMembership(target).then(() => 'ok', (e) => e);
    await h.clock.advance(5);
    expect([...l1.membership.value.voters].sort()).toEqual([...target.voters].sort());
    // the others elect a new leader and commit something
    await h.clock.runUntil(() => others.some((i) => h.node(i).role.value === 'leader'), 3000);
    const l2 = h.node(others.find((i) => h.node(i).role.value === 'leader')!);
    await h.settle(l2.propose(enc('x')));
    h.net.heal();
    await h.clock.runUntil(() => l1.commitIndex.value >= l2.commitIndex.value && l1.leader.value === l2.id, 3000);
    expect([...l1.membership.value.voters].sort()).toEqual([...h.ids].sort());
    const r = await p;
    expect(r).toBeInstanceOf(LeadershipLostError);
    await h.closeAll();
  });

  it('a follower removed while partitioned does not disrupt the cluster when it comes back', async () => {
    const h = await harness(['a', 'b', 'c', 'd']);
    const leader = await h.waitLeader();
    await h.clock.advance(100);
    const victim = h.ids.find((i) => i !== leader.id)!;
    h.net.isolate(victim);
    const r = await h.settle(leader.changeMembership({ voters: h.ids.filter((i) => i !== victim) }));
    expect(r?.ok).toBe(true);
    await h.clock.advance(3000);
    const term = leader.term.value;
    h.net.heal();
    await h.clock.advance(5000);
    expect(leader.role.value).toBe('leader');
    expect(leader.term.value).toBe(term);
    const w = await h.settle(leader.propose(enc('still')));
    expect(w?.ok).toBe(true);
    await h.closeAll();
  });

  it('a proposal made on the leader during a successful transfer settles (committed via the new leader, or rejected)', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    await h.clock.advance(100);
    const target = h.ids.find((i) => i !== leader.id)!;
    const tp = leader.transferLeadership(target);
    const pp = leader.propose(enc('during-transfer'));
    const rt = await h.settle(tp);
    expect(rt?.ok).toBe(true);
    const rp = await h.settle(pp, 5000);
    expect(rp).toBeDefined();
    await h.closeAll();
  });

  it('garbage frames produce frameUndecodable traces and never break the node', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    for (let i = 0; i < 30; i++) {
      const junk = new Uint8Array(1 + (i * 7) % 40).map((_, k) => (k * 31 + i * 17) & 255);
      h.net.inject(nodeId('b'), leader.id, junk);
      h.net.inject(nodeId('zz'), leader.id, junk);
    }
    h.net.inject(nodeId('b'), leader.id, new Uint8Array());
    await h.clock.advance(50);
    expect(h.traces.get(leader.id)!.some((e) => e.type === 'frameUndecodable')).toBe(true);
    expect(leader.role.value).toBe('leader');
    const r = await h.settle(leader.propose(enc('fine')));
    expect(r?.ok).toBe(true);
    await h.closeAll();
  });

  it('maxTermJump: frames from a node far ahead in term are refused (termJump); the others still elect', async () => {
    const h = await harness(['a', 'b', 'c'], { startAll: false, raftConfig: { maxTermJump: 100 } });
    const s = new InMemoryRaftStorage();
    await s.saveTermAndVotedFor(5000, null);
    h.storages.set(nodeId('c'), s);
    await h.start(nodeId('c'));
    await h.start(nodeId('a'));
    await h.start(nodeId('b'));
    await h.clock.advance(3000);
    const refused = ofType([...h.traces.get(nodeId('a'))!, ...h.traces.get(nodeId('b'))!], 'frameRefused');
    expect(refused.some((e) => e.reason === 'termJump' && e.from === 'c')).toBe(true);
    expect(h.node('a').role.value === 'leader' || h.node('b').role.value === 'leader').toBe(true);
    await h.closeAll();
  });

  it('restart from a snapshot: committedFrom(1) starts with install and continues', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    for (let i = 0; i < 4; i++) await h.settle(leader.propose(enc('c' + i)));
    await h.clock.advance(100);
    const f = h.ids.find((i) => i !== leader.id)!;
    h.node(f).publishSnapshot({ throughIndex: 3, state: enc('s3') });
    await h.clock.advance(50);
    const meta = (await h.storages.get(f)!.loadSnapshot())!.meta;
    expect(meta.lastIncludedIndex).toBe(3);
    expect(meta.lastIncludedTerm).toBe(leader.term.value);
    expect(meta.config?.new.voters.length).toBe(3);
    await h.stop(f);
    await h.start(f);
    const c = collect(h.node(f).committedFrom(1));
    await h.clock.runUntil(() => c.items.length >= 3, 2000);
    expect(c.items[0]!.type).toBe('install');
    const idxs = c.items.slice(1).map((x: Committed) => (x.type === 'entry' ? x.entry.index : x.type === 'internal' ? x.index : -1));
    expect(idxs[0]).toBe(4);
    for (let k = 1; k < idxs.length; k++) expect(idxs[k]).toBe(idxs[k - 1]! + 1);
    c.stop();
    await h.closeAll();
  });

  it('observability: trace vocabulary appears in a normal run', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    await h.settle(h.node(h.ids.find((i) => i !== leader.id)!).propose(enc('x')));
    await h.settle(leader.readIndex());
    await h.clock.advance(100);
    const all = h.ids.flatMap((i) => h.traces.get(i)!.map((e) => e.type));
    for (const t of ['timeout', 'preVoteStarted', 'preVoteGranted', 'requestVote', 'voteGranted', 'becomeLeader', 'becomeFollower', 'clientRequest', 'appendEntries', 'appendEntriesAccepted', 'advanceCommitIndex', 'readIndexConfirmed']) {
      expect(all, t).toContain(t);
    }
    await h.closeAll();
  });
});
