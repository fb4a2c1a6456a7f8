// When a wedge report means this peer is wedged: it follows no leader, or only the one it
// refuses — and a leader it names counts only while that peer's own hello says it leads.
import { describe, expect, it } from 'vitest';
import { nodeId, type NodeId } from '../core/types.ts';
import type { RoomHello } from './room-channel.ts';
import type { HeardHello } from './room-presence.ts';
import { isWedged, type WedgeView } from './wedge-verdict.ts';

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
