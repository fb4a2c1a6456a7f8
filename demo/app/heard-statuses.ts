// The last status each peer gossiped, as the panel reads it. Bounded: over a long session peers
// come and go (a reloaded page comes back under a fresh id), and each one ever heard stayed here.
import type { PeerStatus } from './partition-switch.ts';
import { displayName } from './remembered-names.ts';

export interface HeardStatus {
  readonly status: PeerStatus;
  readonly at: number;
  /** The gossiped name as pages show names (remembered-names.ts displayName); none when blank. */
  readonly name: string | undefined;
}

/** Far more peers than a demo room holds at once: only peers long gone are dropped. */
export const maxHeardStatuses = 128;

/**
 * Records `from`'s status, then drops the longest unheard statuses beyond `maxHeardStatuses`:
 * non-members first (a member's name still labels its row while it is silent), then any.
 */
export function recordStatus(statuses: Map<string, HeardStatus>, from: string, status: PeerStatus, at: number, isMember: (id: string) => boolean): void {
  // Deleted first, so the map's order is the order last heard in: the longest unheard come first.
  statuses.delete(from);
  statuses.set(from, { status, at, name: displayName(status.name) });
  if (statuses.size <= maxHeardStatuses) return;
  for (const id of [...statuses.keys()]) {
    if (statuses.size <= maxHeardStatuses) return;
    if (id !== from && !isMember(id)) statuses.delete(id);
  }
  for (const id of [...statuses.keys()]) {
    if (statuses.size <= maxHeardStatuses) return;
    if (id !== from) statuses.delete(id);
  }
}
