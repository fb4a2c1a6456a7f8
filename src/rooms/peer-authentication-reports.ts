// How often the room reports a peer that fails the room-secret handshake. The transport tells of
// every failed connection attempt, which its backoff spaces out for a real peer; but anyone who
// can signal may offer under any id as fast as signaling lets them, so the room's events keep a
// bound of their own: per peer at most one per interval, and a bounded table of peers.
import type { Clock } from '../core/config.ts';
import type { NodeId } from '../core/types.ts';

/** One report per peer per this long at most (the transport's longest reconnect backoff by default). */
export const peerAuthenticationReportIntervalMs = 10_000;
/** Peers remembered at once; a failing peer beyond them while all are recent is not reported. */
export const maxReportedPeers = 64;

export interface PeerAuthenticationReports {
  /**
   * Counts a failure of `peer` and says how many to report now (the failures since its last
   * report, this one included), or null while its last report is younger than the interval.
   */
  failed(peer: NodeId): number | null;
}

export function createPeerAuthenticationReports(clock: Clock, intervalMs = peerAuthenticationReportIntervalMs, maxPeers = maxReportedPeers): PeerAuthenticationReports {
  const peers = new Map<NodeId, { reportedAt: number; unreported: number }>();
  const forgetOld = (now: number): void => {
    for (const [peer, entry] of peers) if (now - entry.reportedAt >= intervalMs) peers.delete(peer);
  };
  return {
    failed(peer) {
      const now = clock.now();
      const entry = peers.get(peer);
      if (entry !== undefined && now - entry.reportedAt < intervalMs) {
        entry.unreported += 1;
        return null;
      }
      if (entry === undefined && peers.size >= maxPeers) forgetOld(now);
      if (entry === undefined && peers.size >= maxPeers) return null;
      const failures = (entry?.unreported ?? 0) + 1;
      peers.set(peer, { reportedAt: now, unreported: 0 });
      return failures;
    },
  };
}
