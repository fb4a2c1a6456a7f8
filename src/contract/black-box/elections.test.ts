import { describe, it, expect } from 'vitest';
import { nodeId, type NodeId, type RaftTraceEvent } from '../../index.ts';
import { harness, enc, collect, ofType } from './harness.test-support.ts';

describe('SPEC Roles, terms and elections', () => {
  it('election timeout drawn from [min, max): a lone voter first times out in range', async () => {
    for (let seed = 1; seed <= 8; seed++) {
      const h = await harness(['a'], { seed, raftConfig: { electionTimeoutMin: 200, electionTimeoutMax: 260, heartbeatInterval: 20 } });
      await h.waitLeader();
      const t = h.traces.get(nodeId('a'))!.find((e) => e.type === 'timeout' || e.type === 'preVoteStarted');
      expect(t).toBeDefined();
      expect(t!.at).toBeGreaterThanOrEqual(200);
      expect(t!.at).toBeLessThan(260);
      await h.closeAll();
    }
  });

  it('voter starts follower, learner starts learner; new leader appends a no-op of its term', async () => {
    const h = await harness(['a', 'b', 'c', 'l'], { voters: ['a', 'b', 'c'], learners: ['l'], startAll: false });
    for (const id of h.ids) await h.start(id);
    expect(h.node('a').role.value).toBe('follower');
    expect(h.node('l').role.value).toBe('learner');
    const leader = await h.waitLeader();
    const c = collect(h.node('l').committedFrom(1));
    await h.clock.runUntil(() => c.items.length >= 1, 3000);
    expect(c.items[0]).toEqual({ type: 'internal', index: 1 });
    const entries = await h.storages.get(leader.id)!.entries(1);
    expect(entries[0]!.isNoOp).toBe(true);
    expect(entries[0]!.term).toBe(leader.term.value);
    expect(entries[0]!.dedupKey).toBeUndefined();
    // learner never campaigns
    expect(h.traces.get(nodeId('l'))!.some((e) => e.type === 'requestVote' || e.type === 'becomeLeader')).toBe(false);
    expect(h.node('l').role.value).toBe('learner');
    c.stop();
    await h.closeAll();
  });

  it('PreVote: an isolated follower does not raise its term, and on return does not depose the leader', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    const term = leader.term.value;
    const victim = h.ids.find((i) => i !== leader.id)!;
    h.net.isolate(victim);
    await h.clock.advance(5000);
    expect(h.node(victim).term.value).toBe(term);
    expect(h.traces.get(victim)!.some((e) => e.type === 'preVoteStarted')).toBe(true);
    h.net.heal();
    await h.clock.advance(3000);
    expect(leader.role.value).toBe('leader');
    expect(leader.term.value).toBe(term);
    expect(h.node(victim).leader.value).toBe(leader.id);
    await h.closeAll();
  });

  it('leaderAlive: a follower hearing the leader denies pre-votes of a node cut off from the leader', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    const term = leader.term.value;
    const [x, y] = h.ids.filter((i) => i !== leader.id) as [NodeId, NodeId];
    h.net.blockOneWay(leader.id, x); // x stops hearing the leader; y still does
    await h.clock.advance(3000);
    expect(leader.role.value).toBe('leader');
    expect(leader.term.value).toBe(term);
    const denials = h.traces.get(y)!.filter((e): e is Extract<RaftTraceEvent, { type: 'voteDenied' }> => e.type === 'voteDenied');
    expect(denials.length).toBeGreaterThan(0);
    expect(denials.every((d) => d.reason === 'leaderAlive')).toBe(true);
    const r = await h.settle(leader.propose(enc('ok')));
    expect(r?.ok).toBe(true);
    await h.closeAll();
  });

  it('CheckQuorum: a leader cut from the quorum steps down with lostQuorum within about an election timeout', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    await h.clock.advance(200);
    const t0 = h.clock.now();
    h.net.isolate(leader.id);
    const ok = await h.clock.runUntil(() => leader.role.value !== 'leader', 2000);
    expect(ok).toBe(true);
    expect(h.clock.now() - t0).toBeLessThanOrEqual(600 + 50);
    const ev = ofType(h.traces.get(leader.id)!, 'becomeFollower').at(-1);
    expect(ev!.reason).toBe('lostQuorum');
    await h.closeAll();
  });

  it('term and vote persisted before the vote: storage of every voter holds the winning term', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    await h.clock.advance(100);
    for (const id of h.ids) {
      expect(await h.storages.get(id)!.term()).toBe(leader.term.value);
    }
    expect(await h.storages.get(leader.id)!.votedFor()).toBe(leader.id);
    await h.closeAll();
  });

  it('trace events carry node, term and clock reading; metrics electionStarted/electionWon', async () => {
    const h = await harness(['a', 'b', 'c']);
    const leader = await h.waitLeader();
    await h.clock.advance(50);
    for (const id of h.ids) for (const e of h.traces.get(id)!) {
      expect(e.node).toBe(id);
      expect(typeof e.term).toBe('number');
      expect(typeof e.at).toBe('number');
    }
    const lt = h.traces.get(leader.id)!;
    const types = lt.map((e) => e.type);
    expect(types).toContain('preVoteStarted');
    expect(types).toContain('requestVote');
    expect(types).toContain('becomeLeader');
    expect(types.indexOf('preVoteStarted')).toBeLessThan(types.indexOf('requestVote'));
    expect(types.indexOf('requestVote')).toBeLessThan(types.indexOf('becomeLeader'));
    const m = h.metrics.get(leader.id)!;
    expect(m.some((x) => x.type === 'electionStarted')).toBe(true);
    const won = ofType(m, 'electionWon')[0];
    expect(won!.term).toBe(leader.term.value);
    expect(typeof won!.elapsedMs).toBe('number');
    const becomeLeader = lt.find((e) => e.type === 'becomeLeader')!;
    expect(becomeLeader.term).toBe(leader.term.value);
    await h.closeAll();
  });

  it('watchables: when role turns leader, term and leader are already current', async () => {
    const h = await harness(['a', 'b', 'c'], { startAll: false });
    const seen: string[] = [];
    for (const id of h.ids) {
      const n = await h.start(id);
      n.role.subscribe((r) => { if (r === 'leader') seen.push(`${n.leader.value === n.id}:${n.term.value}`); });
      n.leader.subscribe((l) => { if (l) seen.push(`L:${n.term.value > 0}`); });
    }
    const leader = await h.waitLeader();
    expect(seen).toContain(`true:${leader.term.value}`);
    expect(seen.every((s) => !s.startsWith('L:false'))).toBe(true);
    await h.closeAll();
  });
});
