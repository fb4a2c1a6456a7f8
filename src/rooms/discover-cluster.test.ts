import { describe, expect, it } from 'vitest';
import { nodeId, type NodeId } from '../core/types.ts';
import { VirtualClock } from '../testing/virtual-clock.ts';
import { judgeDiscovery, type DiscoveryOptions } from './discover-cluster.ts';
import type { RoomHello } from './room-channel.ts';
import type { HeardHello, RoomPresence } from './room-presence.ts';

const newcomer: RoomHello = { type: 'hello', visible: true, member: false, voters: null, term: 0, leader: null };

function options(self: string, heard: Record<string, RoomHello>, reachable: string[] = Object.keys(heard)): DiscoveryOptions {
  const recent = new Map<NodeId, HeardHello>(Object.entries(heard).map(([peer, hello]) => [nodeId(peer), { hello, at: 0 }]));
  const presence: RoomPresence = { heard: (peer) => recent.get(peer), recent: () => recent, describeSelf: () => {}, close: () => {} };
  return { selfId: nodeId(self), presence, peers: () => new Set(reachable.map(nodeId)), clock: new VirtualClock(), discoveryMs: 1_000, pollMs: 100 };
}

describe('judgeDiscovery', () => {
  it('joins the cluster a member names, as a learner of its voters, preferring the highest term', () => {
    const verdict = judgeDiscovery(options('z', { a: { ...newcomer, member: true, voters: [nodeId('a')], term: 1 }, b: { ...newcomer, member: true, voters: [nodeId('a'), nodeId('b'), nodeId('c')], term: 4 } }), 0);
    expect(verdict).toEqual({ type: 'join', bootstrap: { voters: ['a', 'b', 'c'] } });
  });

  it('among newcomers only, the smallest id bootstraps once discoveryMs has passed', () => {
    expect(judgeDiscovery(options('a', { b: newcomer }), 999)).toBeNull();
    expect(judgeDiscovery(options('a', { b: newcomer }), 1_000)).toEqual({ type: 'bootstrap', bootstrap: { voters: ['a'] } });
    expect(judgeDiscovery(options('b', { a: newcomer }), 5_000)).toBeNull();
  });

  it('waits for a silent reachable peer up to twice discoveryMs', () => {
    expect(judgeDiscovery(options('a', {}, ['b']), 1_500)).toBeNull();
    expect(judgeDiscovery(options('a', {}, ['b']), 2_000)).toMatchObject({ type: 'bootstrap' });
  });

  it('never bootstraps beside a member: one that has seen no commit yet, or one met before and gone now', () => {
    expect(judgeDiscovery(options('a', { b: { ...newcomer, member: true } }), 60_000)).toBeNull();
    const memory = { metMember: false };
    judgeDiscovery(options('a', { b: { ...newcomer, member: true } }), 0, memory);
    expect(judgeDiscovery(options('a', {}), 60_000, memory)).toBeNull();
  });

  it('refuses an id the room lists as a voter while our storage is empty', () => {
    expect(judgeDiscovery(options('a', { b: { ...newcomer, member: true, voters: [nodeId('a'), nodeId('b')], term: 2 } }), 0)).toEqual({ type: 'identityReused' });
  });
});
