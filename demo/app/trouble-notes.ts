// Timeline notes for the room's two "why does it wait" events: a signaling server that cannot be
// reached or refuses (signalingRetry), and a peer that fails the room-secret handshake
// (peerAuthenticationFailed). The client retries with backoff for as long as it fails, so a run of
// identical failures is noted once: its first attempt, then only a new reason.
import type { RoomEvent } from 'raftmesh';
import type { Wording } from './timeline-text.ts';

type TroubleEvent = Extract<RoomEvent, { type: 'signalingRetry' | 'peerAuthenticationFailed' }>;

export function createTroubleNotes(): (event: TroubleEvent) => string | Wording | null {
  let lastRetryReason: string | null = null;
  return (event) => {
    if (event.type === 'peerAuthenticationFailed') {
      return (nameOf) => `${nameOf(event.peer)} failed the room-secret handshake (${event.reason}): it has another secret, or someone signals in its name; not connected`;
    }
    const noted = event.attempt === 1 || event.reason !== lastRetryReason;
    lastRetryReason = event.reason;
    return noted ? `the signaling server: attempt ${event.attempt} failed (${event.reason}); retrying in ${(event.delayMs / 1000).toFixed(1)} s` : null;
  };
}
