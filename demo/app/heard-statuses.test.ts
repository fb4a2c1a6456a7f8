// Guards the bound on the statuses the demo model keeps: one entry per peer ever heard grew for
// the whole session (found by a review, 2026-12-07); members' statuses outlast non-members'.
import { describe, expect, it } from 'vitest';
import { createEmitter, createWatchable, nodeId, type NodeId, type RaftNode } from 'raftmesh';
import { createDemoModel, type StoreLike } from './demo-model.ts';
import { maxHeardStatuses, recordStatus, type HeardStatus } from './heard-statuses.ts';
import type { PartitionSwitch, PeerStatus } from './partition-switch.ts';

const statusNamed = (name: string): PeerStatus => ({ role: 'follower', term: 3, commitIndex: 4, appliedIndex: 4, leader: null, visible: true, name });

describe('heard statuses', () => {
  it('hold at most maxHeardStatuses, dropping the longest unheard non-members first', () => {
    const statuses = new Map<string, HeardStatus>();
    const members = new Set(['member-0', 'member-1']);
    for (const id of members) recordStatus(statuses, id, statusNamed(id), 0, (peer) => members.has(peer));
    for (let k = 0; k < maxHeardStatuses * 3; k += 1) recordStatus(statuses, `passer-${k}`, statusNamed(`P${k}`), k + 1, (peer) => members.has(peer));
    expect(statuses.size).toBe(maxHeardStatuses);
    expect(statuses.has('member-0') && statuses.has('member-1')).toBe(true);
    expect(statuses.has('passer-0')).toBe(false);
    expect(statuses.has(`passer-${maxHeardStatuses * 3 - 1}`)).toBe(true);
  });

  it('keep the newest when every peer is a member', () => {
    const statuses = new Map<string, HeardStatus>();
    for (let k = 0; k <= maxHeardStatuses; k += 1) recordStatus(statuses, `member-${k}`, statusNamed(`M${k}`), k, () => true);
    expect(statuses.size).toBe(maxHeardStatuses);
    expect(statuses.has('member-0')).toBe(false);
    expect(statuses.has(`member-${maxHeardStatuses}`)).toBe(true);
  });

  it('in the demo model: a member keeps its name through a flood of passing peers; the first passer is forgotten', () => {
    const [self, bo] = ['peer-self', 'peer-bo0123456789'].map(nodeId) as [NodeId, NodeId];
    const node = { id: self, membership: createWatchable({ voters: [self, bo] }) } as unknown as RaftNode;
    const statuses = createEmitter<{ from: NodeId; status: PeerStatus }>();
    const partition = { statuses, frames: createEmitter<NodeId>(), peers: createWatchable<ReadonlySet<NodeId>>(new Set()) } as unknown as PartitionSwitch;
    const model = createDemoModel({ node: () => node, store: () => ({}) as StoreLike, partition, selfName: 'Ana', release: () => ({ version: 1, outdated: null }), now: () => 1_000_000 });
    statuses.emit({ from: bo, status: statusNamed('Bo') });
    const passers = Array.from({ length: maxHeardStatuses * 2 }, (_, k) => nodeId(`peer-passer-${k}`));
    for (const passer of passers) statuses.emit({ from: passer, status: statusNamed('Passer') });
    expect(model.nameOf(bo)).toBe('Bo');
    expect(model.nameOf(passers[0]!)).toBe('peer-passe');
    expect(model.nameOf(passers[passers.length - 1]!)).toBe('Passer');
  });
});
