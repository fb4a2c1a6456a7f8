// Guards that a peer's gossiped display name is bounded as this page's own: trimmed, cut to 64
// characters, blank read as none (the short id); it was shown raw (found by a review, 2026-12-07).
import { describe, expect, it } from 'vitest';
import { createDemoModel, type StoreLike } from './demo-model.ts';
import { peerStatusOf, type PartitionSwitch, type PeerStatus } from './partition-switch.ts';
import { createEmitter, createWatchable, nodeId, type NodeId, type RaftNode } from 'raftmesh';

const [self, bo] = ['peer-self', 'peer-bo0123456789'].map(nodeId) as [NodeId, NodeId];

function world() {
  const node = {
    id: self,
    role: createWatchable('follower'),
    leader: createWatchable<NodeId | null>(bo),
    term: createWatchable(3),
    membership: createWatchable({ voters: [self, bo] }),
    commitIndex: createWatchable(4),
    stopped: createWatchable<Error | null>(null),
  } as unknown as RaftNode;
  const store = { appliedIndex: createWatchable(4) } as unknown as StoreLike;
  const statuses = createEmitter<{ from: NodeId; status: PeerStatus }>();
  const frames = createEmitter<NodeId>();
  const peers = createWatchable<ReadonlySet<NodeId>>(new Set([bo]));
  const partition = { statuses, frames, peers } as unknown as PartitionSwitch;
  const model = createDemoModel({ node: () => node, store: () => store, partition, selfName: 'Ana', release: () => ({ version: 1, outdated: null }), now: () => 1_000_000 });
  /** A status frame's JSON as the switch checks and reports it. */
  const gossip = (name: string): void => {
    const status = peerStatusOf(JSON.parse(JSON.stringify({ role: 'leader', term: 3, commitIndex: 4, appliedIndex: 4, leader: bo, visible: true, name })));
    if (status === null) return;
    frames.emit(bo);
    statuses.emit({ from: bo, status });
  };
  return { model, gossip };
}

describe('demo: a peer’s gossiped display name', () => {
  it('is cut to 64 characters, as this page’s own name and remembered names are', () => {
    const { model, gossip } = world();
    gossip('B'.repeat(3_000));
    expect(model.nameOf(bo).length).toBeLessThanOrEqual(64);
    expect(model.cluster().find((row) => row.id === bo)?.name.length).toBeLessThanOrEqual(64);
  });

  it('of blanks only is no name: the member reads as its short id', () => {
    const { model, gossip } = world();
    gossip('   ');
    expect(model.nameOf(bo)).toBe('peer-bo012');
  });
});
