import { describe, it, expect } from 'vitest';
import { harness, enc } from './harness.test-support.ts';

describe('SPEC Reads: concurrent reads share one round', () => {
  it('twenty concurrent readIndex calls on the leader cost about one heartbeat round, not twenty', async () => {
    const h = await harness(['a', 'b', 'c'], { raftConfig: { heartbeatInterval: 100, electionTimeoutMin: 300, electionTimeoutMax: 400 } });
    const L = await h.waitLeader();
    await h.settle(L.propose(enc('x')));
    await h.clock.advance(10);
    let sends = 0;
    h.net.onSend = (from) => { if (from === L.id) sends++; };
    const one = await h.settle(L.readIndex());
    expect(one?.ok).toBe(true);
    const single = sends;
    await h.clock.advance(5);
    sends = 0;
    const many = await h.settle(Promise.all(Array.from({ length: 20 }, () => L.readIndex())));
    expect(many?.ok).toBe(true);
    expect(sends).toBeLessThanOrEqual(single * 2 + 2);
    await h.closeAll();
  });
  it('twenty concurrent follower reads share rounds too', async () => {
    const h = await harness(['a', 'b', 'c'], { raftConfig: { heartbeatInterval: 100, electionTimeoutMin: 300, electionTimeoutMax: 400 } });
    const L = await h.waitLeader();
    const f = h.node(h.ids.find((i) => i !== L.id)!);
    const other = h.ids.find((i) => i !== L.id && i !== f.id)!;
    await h.settle(L.propose(enc('x')));
    await h.clock.advance(10);
    // frames to the follower that does not read are heartbeat rounds only (answers go to the reader)
    let sends = 0;
    h.net.onSend = (from, to) => { if (from === L.id && to === other) sends++; };
    await h.settle(f.readIndex());
    const single = sends;
    sends = 0;
    await h.settle(Promise.all(Array.from({ length: 20 }, () => f.readIndex())));
    expect(sends).toBeLessThanOrEqual(single * 2 + 1);
    await h.closeAll();
  });
});
