import { describe, expect, it } from 'vitest';
import { createWatchable, type RaftNode } from 'raftmesh';
import { followIncarnation, type Incarnation } from './follow-incarnation.ts';

/** Only what the test subscribes to: a node whose role can change. */
const fakeNode = (role: string) => ({ role: createWatchable(role) }) as unknown as RaftNode & { role: ReturnType<typeof createWatchable<string>> };

describe('following the room’s current node', () => {
  it('moves its subscriptions to the new node when the page rejoins, and no longer hears the old one', () => {
    const first = fakeNode('follower');
    const room: { node: RaftNode; store: string } = { node: first, store: 'store-1' };
    const seen: string[] = [];
    const follower = followIncarnation(room as Incarnation<string>, ({ node, store }) => [node.role.subscribe((role) => seen.push(`${store}:${role}`))]);
    first.role.set('leader');
    expect(seen).toEqual(['store-1:leader']);

    const second = fakeNode('follower');
    room.node = second;
    room.store = 'store-2';
    follower.rejoined();
    first.role.set('follower');
    second.role.set('candidate');
    expect(seen).toEqual(['store-1:leader', 'store-2:candidate']);
  });

  it('a rejoin reported while the node is still the one it follows subscribes nothing twice', () => {
    const node = fakeNode('follower');
    let subscriptions = 0;
    const follower = followIncarnation({ node, store: null }, ({ node: current }) => {
      subscriptions += 1;
      return [current.role.subscribe(() => undefined)];
    });
    follower.rejoined();
    expect(subscriptions).toBe(1);
  });

  it('stops hearing anything once stopped, even after a rejoin', () => {
    const first = fakeNode('follower');
    const room: { node: RaftNode; store: null } = { node: first, store: null };
    const seen: string[] = [];
    const follower = followIncarnation(room, ({ node }) => [node.role.subscribe((role) => seen.push(role))]);
    follower.stop();
    first.role.set('leader');
    room.node = fakeNode('follower');
    follower.rejoined();
    expect(seen).toEqual([]);
  });
});
