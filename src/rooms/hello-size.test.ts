// Hellos list learners, and a hello past 16 KiB is dropped by a peer of the version before them,
// whose newcomers then hear no member and bootstrap a cluster of their own beside the room. Under
// the policy's bounds (at most 9 voters, 64 learners) only learners can push a hello that far
// (64 of 240-character ids: a review of the night's change, 2026-12-06), so encodeHello lists as
// many as fit within 16 KiB.
import { describe, expect, it } from 'vitest';
import { nodeId, type NodeId } from '../core/types.ts';
import { decodeHello, encodeHello, type RoomHello } from './room-channel.ts';
import { defaultMembershipPolicySettings, validatePolicySettings } from './membership-policy.ts';

const longId = (prefix: string, index: number): NodeId => nodeId(`${prefix}${String(index).padStart(3, '0')}`.padEnd(240, 'x'));

describe('a hello listing learners stays within what earlier versions read', () => {
  it('64 learners of 240-character ids: at most 16 KiB, every voter listed, the learners that fit listed in order', () => {
    validatePolicySettings({ ...defaultMembershipPolicySettings, maxLearners: 64 });
    const voters = Array.from({ length: 5 }, (_, index) => longId('m', index));
    const learners = Array.from({ length: 64 }, (_, index) => longId('n', index));
    const bytes = encodeHello({ type: 'hello', visible: true, member: true, voters, learners, term: 7, leader: voters[0]! });
    expect(bytes.length).toBeLessThanOrEqual(16 * 1024);
    const heard = decodeHello(bytes) as RoomHello;
    expect(heard.voters).toEqual(voters);
    const listed = heard.learners ?? [];
    expect(listed.length).toBeGreaterThan(40);
    expect(listed).toEqual(learners.slice(0, listed.length));
  });

  it('a hello that fits is sent whole', () => {
    const voters = [nodeId('a'), nodeId('b')];
    const learners = [nodeId('c')];
    const hello: RoomHello = { type: 'hello', visible: true, member: true, voters, learners, term: 3, leader: voters[0]! };
    expect(decodeHello(encodeHello(hello))).toEqual(hello);
  });
});
