import { describe, expect, it } from 'vitest';
import { createEmitter, createWatchable, nodeId, type NodeId, type RaftNode } from '../../src/index.ts';
import { createDemoModel, type StoreLike } from './demo-model.ts';
import type { PartitionSwitch, PeerStatus } from './partition-switch.ts';

const [self, bo, cy] = ['peer-self', 'peer-bo', 'peer-cy'].map(nodeId) as [NodeId, NodeId, NodeId];

/** Only what the model reads: a leader of three voters at commit 40, Bo matched at 40, Cy at 25. */
function world(role: 'leader' | 'follower') {
  const node = {
    id: self,
    role: createWatchable(role),
    leader: createWatchable<NodeId | null>(role === 'leader' ? self : bo),
    term: createWatchable(3),
    membership: createWatchable({ voters: [self, bo, cy] }),
    commitIndex: createWatchable(40),
    stopped: createWatchable<Error | null>(null),
    replicationProgress: () => new Map([[bo, 40], [cy, 25]]),
  } as unknown as RaftNode;
  const store = { appliedIndex: createWatchable(40) } as unknown as StoreLike;
  const statuses = createEmitter<{ from: NodeId; status: PeerStatus }>();
  const partition = { statuses, peers: createWatchable<ReadonlySet<NodeId>>(new Set([bo, cy])) } as unknown as PartitionSwitch;
  const model = createDemoModel({ node: () => node, store: () => store, partition, selfName: 'Ana' });
  const gossip = (from: NodeId, name: string, appliedIndex: number): void =>
    statuses.emit({ from, status: { role: 'follower', term: 3, commitIndex: appliedIndex, appliedIndex, leader: self, visible: true, name } });
  return { model, gossip };
}

describe('the demo model', () => {
  it('on the leader, shows each follower’s lag from its match index, not from gossip that is up to half a second old', () => {
    const { model, gossip } = world('leader');
    // Stale gossip: both followers said 30 the last time they spoke.
    gossip(bo, 'Bo', 30);
    gossip(cy, 'Cy', 30);
    const lags = Object.fromEntries(model.cluster().map((row) => [row.name, row.lag]));
    expect(lags).toEqual({ Ana: 0, Bo: 0, Cy: 15 });
  });

  it('on a follower, reads the lag from the gossip it has', () => {
    const { model, gossip } = world('follower');
    gossip(bo, 'Bo', 44);
    gossip(cy, 'Cy', 41);
    const lags = Object.fromEntries(model.cluster().map((row) => [row.name, row.lag]));
    expect(lags).toEqual({ Ana: 4, Bo: 0, Cy: 3 });
  });

  it('words timeline entries when they are read, so names that arrive later are used', () => {
    const { model, gossip } = world('leader');
    model.note('membership', (nameOf) => `${nameOf(cy)} joins`);
    model.note('info', 'plain text');
    expect(model.timeline().map((entry) => entry.text)).toEqual(['peer-cy joins', 'plain text']);
    gossip(cy, 'Cy', 40);
    expect(model.timeline().map((entry) => entry.text)).toEqual(['Cy joins', 'plain text']);
  });

  it('keeps an error worded at once among the errors', () => {
    const { model } = world('leader');
    model.note('error', (nameOf) => `${nameOf(bo)} refused`);
    expect(model.errors).toEqual(['peer-bo refused']);
  });
});
