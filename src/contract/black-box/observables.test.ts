// Item 3: API.md "Observables" (Watchable / Subscribable) and awaitRead, on the node's own observables.
import { describe, expect, it } from 'vitest';
import { harness, enc, watchable } from './user-transport.test-support.ts';
import { awaitRead, nodeId, type NodeId, type RaftNode, type RaftRole } from '../../index.ts';

const [A, B, C, D] = ['a', 'b', 'c', 'd'].map(nodeId) as [NodeId, NodeId, NodeId, NodeId];
async function three() {
  const h = harness(['a', 'b', 'c']);
  for (const id of [A, B, C]) await h.start(id);
  await h.until(() => !!h.leader());
  return h;
}

describe('Watchable', () => {
  it('value is readable at once; before any election a voter is a follower with no leader at term 0', async () => {
    const h = harness(['a', 'b', 'c']);
    const n = await h.start(A);
    expect(n.id).toBe(A);
    expect(n.role.value).toBe('follower');
    expect(n.leader.value).toBeNull();
    expect(n.term.value).toBe(0);
    expect(n.commitIndex.value).toBe(0);
    expect(n.compactionFloor.value).toBe(0);
    expect(n.membership.value.voters).toEqual([A, B, C]);
    await h.closeAll();
  });

  it('subscribe: the listener gets later values, each equal to .value at the time; unsubscribe stops it', async () => {
    const h = harness(['a', 'b', 'c']);
    const nodes: RaftNode[] = [];
    for (const id of [A, B, C]) nodes.push(await h.start(id));
    const seen = new Map<NodeId, RaftRole[]>();
    const consistent: boolean[] = [];
    const unsubs = nodes.map((n) => n.role.subscribe((r) => {
      seen.set(n.id, [...(seen.get(n.id) ?? []), r]);
      consistent.push(n.role.value === r);
    }));
    await h.until(() => !!h.leader());
    const l = h.leader()!;
    expect(seen.get(l.id)).toContain('leader');
    expect(consistent.every(Boolean)).toBe(true);
    // unsubscribe, then cause more role changes: no more calls
    unsubs.forEach((u) => u());
    const count = [...seen.values()].flat().length;
    const f = nodes.find((n) => n !== l)!;
    await h.run(l.transferLeadership(f.id));
    expect(f.role.value).toBe('leader');
    expect([...seen.values()].flat().length).toBe(count);
    unsubs.forEach((u) => u()); // a second unsubscribe is harmless
    await h.closeAll();
  });

  it('two subscribers are independent; term and commitIndex never go backwards; membership follows the log', async () => {
    const h = await three();
    const l = h.leader()!;
    const terms: number[] = []; const commits: number[] = [];
    const u1 = l.term.subscribe((t) => terms.push(t));
    const u2 = l.commitIndex.subscribe((c) => commits.push(c));
    const other: number[] = [];
    const u3 = l.commitIndex.subscribe((c) => other.push(c));
    u3();
    for (let i = 0; i < 3; i++) await h.run(l.propose(enc(`x${i}`)));
    expect(commits.length).toBeGreaterThan(0);
    expect(other).toEqual([]);
    for (let i = 1; i < commits.length; i++) expect(commits[i]!).toBeGreaterThanOrEqual(commits[i - 1]!);
    expect(commits.at(-1)).toBe(l.commitIndex.value);
    const memberships: string[] = [];
    const u4 = l.membership.subscribe((m) => memberships.push(JSON.stringify(m)));
    await h.start(D);
    await h.run(l.changeMembership({ voters: [A, B, C], learners: [D] }));
    expect(l.membership.value.learners).toEqual([D]);
    expect(memberships.length).toBeGreaterThan(0);
    expect(h.nodes.get(D)!.role.value).toBe('learner');
    [u1, u2, u4].forEach((u) => u());
    await h.closeAll();
  });

  it('trace is a Subscribable: unsubscribe stops delivery', async () => {
    const h = await three();
    const l = h.leader()!;
    const got: string[] = [];
    const u = l.trace.subscribe((e) => got.push(e.type));
    await h.run(l.propose(enc('x')));
    expect(got.length).toBeGreaterThan(0);
    u();
    const n = got.length;
    await h.run(l.propose(enc('y')));
    expect(got.length).toBe(n);
    await h.closeAll();
  });
});

describe('awaitRead (API.md "The node")', () => {
  it('waits until the caller\'s applied index reaches the confirmed read index, on a follower', async () => {
    const h = await three();
    const l = h.leader()!;
    const f = [...h.nodes.values()].find((n) => n !== l)!;
    await h.run(l.propose(enc('x')));
    const applied = watchable(0);
    let result: number | null = null;
    void awaitRead(f, applied.w).then((i) => (result = i));
    await h.clock.advance(200);
    expect(result).toBeNull(); // nothing applied yet
    applied.set(1);
    await h.clock.advance(1);
    const target = f.commitIndex.value;
    if (target > 1) expect(result).toBeNull();
    applied.set(target);
    await h.until(() => result !== null, 1_000);
    expect(result).toBeLessThanOrEqual(target);
    expect(result).toBeGreaterThanOrEqual(2); // at least the leader's no-op and x
    await h.closeAll();
  });

  it('resolves at once when applied is already there; aborting rejects with the signal\'s reason, node healthy', async () => {
    const h = await three();
    const l = h.leader()!;
    await h.run(l.propose(enc('x')));
    const applied = watchable(1_000);
    const i = await h.run(awaitRead(l, applied.w));
    expect(i).toBeLessThanOrEqual(l.commitIndex.value);
    const low = watchable(0);
    const ac = new AbortController();
    const reason = new Error('stop waiting');
    const p = awaitRead(l, low.w, { signal: ac.signal }).then(() => null, (e: unknown) => e);
    await h.clock.advance(100);
    ac.abort(reason);
    expect(await h.run(p)).toBe(reason);
    await h.run(l.propose(enc('still healthy')));
    await h.closeAll();
  });
});
