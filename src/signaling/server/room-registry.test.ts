// The room registry on its own, with members that record nothing: the bounds it checks where a
// member is added.
import { describe, expect, it } from 'vitest';
import { resolveServerLimits, signalingProtocolLimits } from '../limits.ts';
import { parseSignalingMessage } from '../parse-message.ts';
import { createRoomRegistry, type JoinOutcome, type RoomMember } from './room-registry.ts';

function member(nodeId: string): RoomMember {
  return { nodeId, send: () => undefined, replace: () => undefined, probe: () => Promise.resolve(false) };
}

/** The `joined` message the server sends a newcomer, as its connection writes it. */
const joinedMessage = (roomId: string, nodeId: string, peers: readonly string[]): string => JSON.stringify({ type: 'joined', roomId, nodeId, peers });

describe('a room of long node ids', () => {
  it('refuses a newcomer whose peer list would outgrow what clients read, as room-full saying why; every list it gave out is readable', () => {
    // maxPeersPerRoom at its ceiling, ids of 256 characters of 3 UTF-8 bytes each: ~340 of them
    // fill the 256 KiB a client reads. Before, the newcomer's own `joined` was refused by its
    // parser, and it reconnected for good.
    const registry = createRoomRegistry(resolveServerLimits({ maxPeersPerRoom: signalingProtocolLimits.maxPeersListed }));
    const longId = (index: number): string => `${index}`.padStart(4, '0') + '€'.repeat(signalingProtocolLimits.maxNodeIdLength - 4);
    let refused: JoinOutcome | null = null;
    let admitted = 0;
    while (refused === null && admitted < signalingProtocolLimits.maxPeersListed) {
      const outcome = registry.join('big', member(longId(admitted)));
      if (!outcome.ok) refused = outcome;
      else {
        expect(parseSignalingMessage(joinedMessage('big', longId(admitted), outcome.peers), { direction: 'from-server' }).ok).toBe(true);
        admitted++;
      }
    }
    expect(admitted).toBeGreaterThan(300);
    expect(refused).toEqual({ ok: false, code: 'room-full', message: `room "big" has more peer ids (${admitted}) than one message to a newcomer can list (262144 bytes)` });
    const unreadable = parseSignalingMessage(joinedMessage('big', longId(admitted), Array.from({ length: admitted }, (_, index) => longId(index))), { direction: 'from-server' });
    expect(unreadable.ok ? null : unreadable.error.code).toBe('too-large');
    expect(registry.size('big')).toBe(admitted);
    // Once one leaves, the list fits again (room-full is retried by clients).
    expect(registry.leave('big', registry.find('big', longId(0)) ?? member('none'))).toBe(true);
    expect(registry.join('big', member(longId(admitted))).ok).toBe(true);
  });
});
