// The leader's per-peer views (replicationProgress, silentPeers) reach the page through the
// worker's state snapshots: a change in either is a new version, and the page's mirror takes it.
import { describe, expect, it } from 'vitest';
import { createWatchable } from '../core/observable.ts';
import { nodeId, type NodeId } from '../core/types.ts';
import type { RaftNode } from '../driver/node-options.ts';
import { createStateMirror } from './state-mirror.ts';
import { createStateTracker } from './worker-outbox.ts';

function leaderNode(progress: () => ReadonlyMap<NodeId, number>, silent: () => ReadonlySet<NodeId>): RaftNode {
  const node = {
    id: nodeId('a'),
    role: createWatchable('leader'),
    leader: createWatchable(nodeId('a')),
    term: createWatchable(2),
    membership: createWatchable({ voters: [nodeId('a'), nodeId('b')], learners: [nodeId('c')] }),
    commitIndex: createWatchable(5),
    compactionFloor: createWatchable(0),
    stopped: createWatchable(null),
    replicationProgress: progress,
    silentPeers: silent,
  };
  return node as unknown as RaftNode;
}

describe('the state snapshots a worker sends its page', () => {
  it('carry which peers never answered the leader, as a new version when that changes', () => {
    let silent: ReadonlySet<NodeId> = new Set([nodeId('c')]);
    const node = leaderNode(() => new Map([[nodeId('b'), 5], [nodeId('c'), 0]]), () => silent);
    const tracker = createStateTracker();
    const first = tracker.current(node);
    expect(first.silentPeers).toEqual(['c']);
    expect(tracker.current(node).version).toBe(first.version);
    const mirror = createStateMirror(first);
    expect([...mirror.silentPeers()]).toEqual(['c']);

    silent = new Set();
    const second = tracker.current(node);
    expect(second.version).toBeGreaterThan(first.version);
    mirror.apply(second);
    expect(mirror.silentPeers().size).toBe(0);
    expect(mirror.replicationProgress().get(nodeId('c'))).toBe(0);
    // An older snapshot arriving late changes nothing.
    mirror.apply(first);
    expect(mirror.silentPeers().size).toBe(0);
  });

  it('name no silent peer off the leader, or for a node without the accessor', () => {
    const node = leaderNode(() => new Map(), () => new Set([nodeId('c')]));
    (node.role as ReturnType<typeof createWatchable<string>>).set('follower');
    expect(createStateTracker().current(node).silentPeers).toEqual([]);
    const bare = { ...leaderNode(() => new Map(), () => new Set()), silentPeers: undefined } as unknown as RaftNode;
    expect(createStateTracker().current(bare).silentPeers).toEqual([]);
  });
});
