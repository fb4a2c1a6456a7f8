// Timeline notes for the room's two "why does it wait" events: a signaling server that cannot be
// reached or refuses (signalingRetry), and a peer that fails the room-secret handshake
// (peerAuthenticationFailed). The client retries with backoff for as long as it fails, so a run of
// identical failures is noted once: its first attempt, then only a new reason. A peer with the
// wrong secret fails again every 10 s or so for as long as it stays (seen by hand, 2026-12-07: three
// identical notes in half a minute pushed the room's history out of sight), so each peer's failure
// is noted once per reason too; the banner and the cluster panel say that it goes on.
import type { RoomEvent } from 'raftmesh';
import type { Wording } from './timeline-text.ts';

const maxNotedPeers = 64;

type TroubleEvent = Extract<RoomEvent, { type: 'signalingRetry' | 'peerAuthenticationFailed' }>;

export function createTroubleNotes(): (event: TroubleEvent) => string | Wording | null {
  let lastRetryReason: string | null = null;
  // Bounded like the room's own reports (64 peers): past that, the oldest are forgotten and noted again.
  const notedPeers = new Map<string, string>();
  return (event) => {
    if (event.type === 'peerAuthenticationFailed') {
      if (notedPeers.get(event.peer) === event.reason) return null;
      notedPeers.delete(event.peer);
      notedPeers.set(event.peer, event.reason);
      if (notedPeers.size > maxNotedPeers) notedPeers.delete(notedPeers.keys().next().value!);
      // The handshake's reason has parentheses of its own: it goes last, after a colon.
      return (nameOf) => `${nameOf(event.peer)} is not connected: it failed the room-secret check, so it was given another secret (?secret= in the URL) or someone else signals under its id. The handshake said: ${event.reason}`;
    }
    const noted = event.attempt === 1 || event.reason !== lastRetryReason;
    lastRetryReason = event.reason;
    return noted ? `the signaling server: attempt ${event.attempt} failed (${event.reason}); retrying in ${(event.delayMs / 1000).toFixed(1)} s` : null;
  };
}
