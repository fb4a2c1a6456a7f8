import { describe, it, expect } from 'vitest';
import { nodeId, RaftClosedError, awaitRead, createWatchable } from '../../index.ts';
import { harness, enc } from './harness.test-support.ts';

const N = (...s: string[]) => s.map(nodeId);

describe('API.md close(): every pending call rejects with RaftClosedError', () => {
  it('pending transfer, membership change, awaitLeadership, awaitRead, forwarded propose and read', async () => {
    const h = await harness(['a', 'b', 'c', 'd', 'e'], { voters: ['a', 'b', 'c', 'd'] });
    const L = await h.waitLeader();
    await h.clock.advance(100);
    const others = N('a', 'b', 'c', 'd').filter((i) => i !== L.id);
    const f = h.node(others[0]!);
    h.net.isolate(others[1]!);
    h.net.isolate(others[2]!);
    // nothing can commit now (2 of 4)
    const catchAll = (p: Promise<unknown>) => p.then(() => 'resolved', (e) => e);
    const calls = {
      transfer: catchAll(L.transferLeadership(others[1]!)),
      membership: catchAll(L.changeMembership({ voters: N('a', 'b', 'c', 'd'), learners: N('e') })),
      leaderPropose: catchAll(L.propose(enc('p'))),
      leaderRead: catchAll(L.readIndex()),
    };
    const fcalls = {
      awaitLeadership: catchAll(f.awaitLeadership()),
      awaitRead: catchAll(awaitRead(f, createWatchable(0))),
      forwardPropose: catchAll(f.propose(enc('q'))),
      forwardRead: catchAll(f.readIndex()),
    };
    await h.clock.advance(20);
    const c1 = L.close(), c2 = f.close();
    await h.clock.advance(50);
    await Promise.all([c1, c2]);
    for (const [name, p] of Object.entries({ ...calls, ...fcalls })) {
      const v = await Promise.race([p, new Promise((r) => setTimeout(() => r('still pending'), 50))]);
      // transfer and membership may have failed earlier for their own reasons; otherwise RaftClosedError
      if (name === 'transfer' || name === 'membership') expect(v, name).not.toBe('still pending');
      else expect(v, name).toBeInstanceOf(RaftClosedError);
    }
    await h.closeAll();
  });
});
