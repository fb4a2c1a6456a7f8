// Item 1: API.md "Errors", each thrown in its situation, with name and fields.
import { describe, expect, it } from 'vitest';
import { harness, enc } from './user-transport.test-support.ts';
import {
  ClientIdCollisionError, LeadershipLostError, LeadershipTransferError, MembershipChangeInProgressError, NotLeaderError,
  RaftClosedError, clientId, nodeId, type NodeId, type RaftNode,
} from '../../index.ts';

const [A, B, C, D, E] = ['a', 'b', 'c', 'd', 'e'].map(nodeId) as [NodeId, NodeId, NodeId, NodeId, NodeId];
async function three(opts: Parameters<ReturnType<typeof harness>['start']>[1] = {}) {
  const h = harness(['a', 'b', 'c']);
  for (const id of [A, B, C]) await h.start(id, opts);
  await h.until(() => !!h.leader());
  return h;
}
const caught = async (h: ReturnType<typeof harness>, p: Promise<unknown>) => h.run(p.then(() => null, (e: unknown) => e));
function isNamed(e: unknown, C: new (...a: never[]) => Error, name: string) {
  expect(e).toBeInstanceOf(C);
  expect(e).toBeInstanceOf(Error);
  expect((e as Error).name).toBe(name);
}

describe('errors', () => {
  it('NotLeaderError from changeMembership / transferLeadership on a follower, carrying leader', async () => {
    const h = await three();
    const l = h.leader()!;
    const f = [...h.nodes.values()].find((n) => n !== l)!;
    await h.until(() => f.leader.value === l.id);
    const e1 = await caught(h, f.changeMembership({ voters: [A, B] }));
    isNamed(e1, NotLeaderError, 'NotLeaderError');
    expect((e1 as NotLeaderError).leader).toBe(l.id);
    const e2 = await caught(h, f.transferLeadership(f.id));
    isNamed(e2, NotLeaderError, 'NotLeaderError');
    expect((e2 as NotLeaderError).leader).toBe(l.id);
    await h.closeAll();
  });

  it('NotLeaderError.leader is null when no leader is known', async () => {
    const h = harness(['a', 'b', 'c']);
    const n = await h.start(A);
    const e = await caught(h, n.changeMembership({ voters: [A] }));
    isNamed(e, NotLeaderError, 'NotLeaderError');
    expect((e as NotLeaderError).leader).toBeNull();
    await h.closeAll();
  });

  it('MembershipChangeInProgressError while a config entry is uncommitted', async () => {
    const h = await three();
    const l = h.leader()!;
    await h.start(D); await h.start(E);
    const first = l.changeMembership({ voters: [A, B, C], learners: [D] });
    const e = await caught(h, l.changeMembership({ voters: [A, B, C], learners: [E] }));
    isNamed(e, MembershipChangeInProgressError, 'MembershipChangeInProgressError');
    await h.run(first);
    await h.closeAll();
  });

  it('LeadershipTransferError.reason notVoter for a learner target', async () => {
    const h = await three();
    const l = h.leader()!;
    await h.start(D);
    await h.run(l.changeMembership({ voters: [A, B, C], learners: [D] }));
    const e = await caught(h, l.transferLeadership(D));
    isNamed(e, LeadershipTransferError, 'LeadershipTransferError');
    expect((e as LeadershipTransferError).reason).toBe('notVoter');
    await h.closeAll();
  });

  it('LeadershipTransferError.reason timeout when the target cannot be reached', async () => {
    const h = await three();
    const l = h.leader()!;
    const f = [...h.nodes.values()].find((n) => n !== l)!;
    h.net.isolate(f.id);
    const e = await caught(h, l.transferLeadership(f.id));
    isNamed(e, LeadershipTransferError, 'LeadershipTransferError');
    expect((e as LeadershipTransferError).reason).toBe('timeout');
    h.net.heal();
    await h.run(l.propose(enc('proposals resume on abandon')));
    await h.closeAll();
  });

  it('LeadershipLostError for a proposal in flight when the leader loses its quorum', async () => {
    const h = await three();
    const l = h.leader()!;
    h.net.isolate(l.id);
    const e = await caught(h, l.propose(enc('lost')));
    isNamed(e, LeadershipLostError, 'LeadershipLostError');
    await h.closeAll();
  });

  it('RaftClosedError: pending calls on close, and every call after; close is idempotent', async () => {
    const h = harness(['a', 'b', 'c']);
    const n = await h.start(A); // no quorum: proposals wait
    const pending = n.propose(enc('never')).then(() => null, (e: unknown) => e);
    const read = n.readIndex().then(() => null, (e: unknown) => e);
    await h.clock.advance(50);
    await h.run(n.close());
    await h.run(n.close());
    isNamed(await h.run(pending), RaftClosedError, 'RaftClosedError');
    isNamed(await h.run(read), RaftClosedError, 'RaftClosedError');
    isNamed(await caught(h, n.propose(enc('after'))), RaftClosedError, 'RaftClosedError');
    isNamed(await caught(h, n.awaitLeadership()), RaftClosedError, 'RaftClosedError');
  });

  it('aborting the RaftNodeOptions.signal closes the node', async () => {
    const h = harness(['a', 'b', 'c']);
    const ac = new AbortController();
    const n = await h.start(A, { signal: ac.signal });
    const pending = n.propose(enc('never')).then(() => null, (e: unknown) => e);
    ac.abort();
    isNamed(await h.run(pending), RaftClosedError, 'RaftClosedError');
  });

  it('ClientIdCollisionError: two live writers under one durable ClientId', async () => {
    const h = harness(['a', 'b', 'c']);
    const shared = clientId('app-writer');
    for (const id of [A, B, C]) await h.start(id, id === C ? {} : { identity: { type: 'durable', clientId: shared } });
    await h.until(() => !!h.leader());
    const [na, nb] = [h.nodes.get(A)!, h.nodes.get(B)!] as [RaftNode, RaftNode];
    const errors: unknown[] = [];
    for (let i = 0; i < 10; i++) {
      for (const n of [na, nb]) {
        const e = await caught(h, n.propose(enc(`${n.id}${i}`)));
        if (e) errors.push(e);
      }
    }
    expect(errors.length).toBeGreaterThan(0);
    isNamed(errors[0], ClientIdCollisionError, 'ClientIdCollisionError');
    await h.closeAll();
  });
});
