// When a wedge report means this peer is wedged: it follows no leader, or only the one it
// refuses — and a leader it names counts only while that peer's own hello says it leads.
import { describe, expect, it } from 'vitest';
import { nodeId, type NodeId } from '../core/types.ts';
import type { RoomHello } from './room-channel.ts';
import type { HeardHello } from './room-presence.ts';
import { createWedgeWatch, isWedged, wedgeTimings, type WedgeView } from './wedge-verdict.ts';

const [self, leader, refused, other] = ['self', 'leader', 'refused', 'other'].map(nodeId) as [NodeId, NodeId, NodeId, NodeId];
const hello = (leads: NodeId | null, term: number): HeardHello => ({
  hello: { type: 'hello', visible: true, member: true, voters: [leader, other], term, leader: leads } satisfies RoomHello,
  at: 0,
});
const view = (following: NodeId | null, hellos: [NodeId, HeardHello][], term = 9): WedgeView => ({ selfId: self, following, term, refused, hellos: new Map(hellos) });

describe('a wedge report', () => {
  it('counts when the node follows no leader, or only the one it refuses', () => {
    expect(isWedged(view(null, []))).toBe(true);
    expect(isWedged(view(refused, [[refused, hello(refused, 10)]]))).toBe(true);
  });

  it('does not count while the node follows a leader that says it leads: a removed peer campaigning on a stale configuration is refused by healthy members', () => {
    expect(isWedged(view(leader, [[leader, hello(leader, 9)], [other, hello(leader, 9)], [refused, hello(refused, 12)]]))).toBe(false);
  });

  it('does not count while the node leads', () => {
    expect(isWedged(view(self, []))).toBe(false);
  });

  it("counts when the leader the node names says, in its own hello, that it follows another in a term not older than the node's (a learner restarted on an old configuration)", () => {
    expect(isWedged(view(leader, [[leader, hello(refused, 10)], [other, hello(refused, 10)]]))).toBe(true);
    expect(isWedged(view(leader, [[leader, hello(null, 9)]]))).toBe(true);
    // An older hello of that peer proves nothing about the term the node is in.
    expect(isWedged(view(leader, [[leader, hello(refused, 8)]]))).toBe(false);
  });

  it('counts when the leader the node names is not heard at all', () => {
    expect(isWedged(view(leader, [[other, hello(refused, 10)]]))).toBe(true);
  });
});

describe('a wedge report looked at time and again', () => {
  // Election timeouts of at most 600 ms, hellos every 300 ms: refused within 1.2 s, counting for 3 s.
  const timings = wedgeTimings(600, 300);
  const leaderless = view(null, []);

  it('waits four election timeouts and two gossip intervals: a moment without a leader (an election, a blip) is no verdict', () => {
    expect(timings).toEqual({ refusedWithinMs: 1_200, lastingMs: 3_000 });
    const look = createWedgeWatch(timings);
    expect(look(0, leaderless, 0)).toBe(false);
    expect(look(2_900, leaderless, 2_900)).toBe(false);
    expect(look(3_000, leaderless, 2_950)).toBe(true);
  });

  it('counts only while the sender is still being refused: a sender silent for two election timeouts stopped (a stranger that went away)', () => {
    const look = createWedgeWatch(timings);
    expect(look(0, leaderless, 0)).toBe(false);
    expect(look(3_000, leaderless, 0)).toBe(false);
    expect(look(3_000, leaderless, undefined)).toBe(false);
    // Refused again: the count starts over.
    expect(look(4_000, leaderless, 4_000)).toBe(false);
    expect(look(7_000, leaderless, 6_900)).toBe(true);
  });

  it('starts over whenever the node follows a leader that says it leads', () => {
    const look = createWedgeWatch(timings);
    expect(look(0, leaderless, 0)).toBe(false);
    expect(look(2_000, view(leader, [[leader, hello(leader, 9)]]), 2_000)).toBe(false);
    expect(look(3_000, leaderless, 3_000)).toBe(false);
    expect(look(5_900, leaderless, 5_900)).toBe(false);
    expect(look(6_000, leaderless, 6_000)).toBe(true);
  });

  it('says whether the report counted at the latest look (the rechecks go on while it does)', () => {
    const look = createWedgeWatch(timings);
    expect(look.counting).toBe(false);
    expect(look(0, leaderless, 0)).toBe(false);
    expect(look.counting).toBe(true);
    expect(look(2_000, leaderless, 0)).toBe(false);
    expect(look.counting).toBe(false);
  });
});
