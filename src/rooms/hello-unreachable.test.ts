// A leader's hello lists the members it has not reached and for how long (RoomHello.unreachable),
// so the peer that leads next counts their absence on from it (room-coordinator.ts). A peer's
// bytes are untrusted: a malformed list refuses the hello, as any malformed field does, and the
// list goes first when a hello would pass the 16 KiB an earlier version reads.
import { describe, expect, it } from 'vitest';
import { nodeId, type NodeId } from '../core/types.ts';
import { decodeHello, encodeHello, maxListedUnreachable, roomFrameTag, type RoomHello } from './room-channel.ts';

const [a, b, c] = [nodeId('a'), nodeId('b'), nodeId('c')];
const base: RoomHello = { type: 'hello', visible: true, member: true, voters: [a, b, c], term: 4, leader: a };
const raw = (value: unknown): Uint8Array => {
  const text = new TextEncoder().encode(JSON.stringify(value));
  const bytes = new Uint8Array(text.length + 1);
  bytes[0] = roomFrameTag;
  bytes.set(text, 1);
  return bytes;
};

describe('the unreachable members of a leader\'s hello', () => {
  it('round-trips, and a hello without the field (an earlier version\'s) still decodes without it', () => {
    const hello: RoomHello = { ...base, unreachable: [[c, 1_250], [b, 0]] };
    expect(decodeHello(encodeHello(hello))).toEqual(hello);
    expect(decodeHello(encodeHello(base))).toEqual(base);
  });

  it('refuses the hello when the list is malformed', () => {
    const refused = [
      [],
      [[c, -1]],
      [[c, 1.5]],
      [[c, '100']],
      [['', 100]],
      [['x'.repeat(257), 100]],
      [[c]],
      [[c, 1, 2]],
      { c: 100 },
      Array.from({ length: maxListedUnreachable + 1 }, (_, index) => [`m${index}`, 100]),
    ];
    expect(refused.map((unreachable) => decodeHello(raw({ ...base, unreachable })))).toEqual(refused.map(() => null));
  });

  it('leaves the list out first when the hello would pass what earlier versions read', () => {
    const longId = (prefix: string, index: number): NodeId => nodeId(`${prefix}${String(index).padStart(3, '0')}`.padEnd(240, 'x'));
    const voters = Array.from({ length: 5 }, (_, index) => longId('m', index));
    const learners = Array.from({ length: 40 }, (_, index) => longId('n', index));
    const unreachable = learners.map((learner) => [learner, 5_000] as const);
    const bytes = encodeHello({ ...base, voters, learners, leader: voters[0]!, unreachable });
    expect(bytes.length).toBeLessThanOrEqual(16 * 1024);
    const heard = decodeHello(bytes)!;
    expect({ unreachable: heard.unreachable, learners: heard.learners?.length }).toEqual({ unreachable: undefined, learners: 40 });
  });
});
