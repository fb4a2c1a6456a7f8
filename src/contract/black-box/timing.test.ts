import { describe, it, expect } from 'vitest';
import { nodeId, type RaftTraceEvent } from '../../index.ts';
import { harness, enc } from './harness.test-support.ts';

describe('SPEC timing rules', () => {
  it('an isolated follower re-arms its election timeout with a fresh draw in [min, max) each time', async () => {
    const h = await harness(['a', 'b', 'c'], { raftConfig: { electionTimeoutMin: 200, electionTimeoutMax: 400, heartbeatInterval: 20 } });
    const leader = await h.waitLeader();
    const victim = h.ids.find((i) => i !== leader.id)!;
    const start = h.traces.get(victim)!.length;
    h.net.isolate(victim);
    await h.clock.advance(6000);
    const times = h.traces.get(victim)!.slice(start).filter((e) => e.type === 'preVoteStarted').map((e) => e.at);
    expect(times.length).toBeGreaterThan(10);
    const gaps = times.slice(1).map((t, k) => t - times[k]!);
    for (const g of gaps) { expect(g).toBeGreaterThanOrEqual(200); expect(g).toBeLessThan(400); }
    expect(new Set(gaps).size).toBeGreaterThan(3);
    await h.closeAll();
  });

  it('an idle leader heartbeats each follower every heartbeatInterval', async () => {
    const h = await harness(['a', 'b', 'c'], { raftConfig: { heartbeatInterval: 40 } });
    const leader = await h.waitLeader();
    await h.clock.advance(100);
    const sends: { to: string; at: number }[] = [];
    h.net.onSend = (from, to) => { if (from === leader.id) sends.push({ to, at: h.clock.now() }); };
    await h.clock.advance(1000);
    for (const f of h.ids.filter((i) => i !== leader.id)) {
      const times = sends.filter((e) => e.to === f).map((e) => e.at);
      expect(times.length).toBeGreaterThanOrEqual(20);
      expect(times.length).toBeLessThanOrEqual(30);
      const gaps = times.slice(1).map((t, k) => t - times[k]!);
      expect(Math.max(...gaps)).toBeLessThanOrEqual(40);
    }
    await h.closeAll();
  });

  it('vote denial reason logNotUpToDate: a stale node never wins once the leader is gone (several seeds)', async () => {
    let sawReason = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const h = await harness(['a', 'b', 'c'], { startAll: false, seed });
      await h.start(nodeId('a'), { raftConfig: { electionTimeoutMin: 150, electionTimeoutMax: 160 } });
      await h.start(nodeId('b'), { raftConfig: { electionTimeoutMin: 200, electionTimeoutMax: 2000, heartbeatInterval: 50 } });
      await h.start(nodeId('c'), { raftConfig: { electionTimeoutMin: 150, electionTimeoutMax: 160 } });
      const leader = await h.waitLeader();
      const stale = h.ids.find((i) => i !== leader.id && i !== 'b')!;
      if (leader.id === 'b') { await h.closeAll(); continue; }
      h.net.isolate(stale);
      for (let i = 0; i < 3; i++) await h.settle(leader.propose(enc('w' + i)));
      await h.clock.advance(50);
      await h.stop(leader.id);
      await h.clock.advance(200);
      h.net.heal();
      await h.clock.advance(3000);
      const denials = h.traces.get(nodeId('b'))!.filter((e) => e.type === 'voteDenied') as Extract<RaftTraceEvent, { type: 'voteDenied' }>[];
      if (denials.some((d) => d.reason === 'logNotUpToDate' && d.to === stale)) sawReason++;
      expect(h.node(stale).role.value).not.toBe('leader');
      expect(h.node('b').role.value).toBe('leader');
      await h.closeAll();
    }
    expect(sawReason).toBeGreaterThan(0);
  });

  it('vote denial reason staleTerm', async () => {
    const h = await harness(['a', 'b', 'c'], { startAll: false });
    await h.start(nodeId('a'), { raftConfig: { electionTimeoutMin: 150, electionTimeoutMax: 160 } });
    await h.start(nodeId('b'), { raftConfig: { electionTimeoutMin: 600, electionTimeoutMax: 700 } });
    await h.start(nodeId('c'), { raftConfig: { electionTimeoutMin: 150, electionTimeoutMax: 160 } });
    let leader = await h.waitLeader();
    const stale = h.ids.find((i) => i !== leader.id && i !== 'b')!;
    h.net.isolate(stale);
    await h.clock.advance(50);
    // raise the term of a and b by transfers
    for (let k = 0; k < 4; k++) {
      const target = leader.id === 'b' ? h.ids.find((i) => i !== 'b' && i !== stale)! : nodeId('b');
      await h.settle(leader.transferLeadership(target));
      leader = h.node(target);
    }
    const term = leader.term.value;
    expect(term).toBeGreaterThan(h.node(stale).term.value + 1);
    await h.stop(h.ids.find((i) => i !== 'b' && i !== stale)!);
    h.net.heal();
    await h.clock.advance(3000);
    const denials = h.traces.get(nodeId('b'))!.filter((e) => e.type === 'voteDenied') as Extract<RaftTraceEvent, { type: 'voteDenied' }>[];
    expect(denials.some((d) => d.to === stale && d.reason === 'staleTerm')).toBe(true);
    await h.closeAll();
  });
});
