// What a campaign with the edge peer as the room's witness (`--edge-peer --witness`) must know
// about it, in one place: when a tab leaving for good could strand the room by design, and the
// observations that would show the witness leading.
//
// The documented trade-off (README "Edge peers"): a witness votes and acknowledges but never
// campaigns, so an entry held only by a departed tab and the witness keeps every other tab from
// being elected (the witness refuses its vote to a log shorter than its own) until that tab comes
// back. After a crash or a kill it does come back; after a leave it never does. A leave is safe
// when the tabs still voting are a majority of the voter set by themselves: the most complete of
// them then gets every other tab's vote.

/** An observation of the edge peer as leader: from its own log, its /healthz, or a tab's node. */
export interface EdgeLeaderObservation {
  readonly atMs: number;
  /** The edge peer's id it was seen leading under. */
  readonly id: string;
  /** 'edge log', 'edge health', or the tab whose node named it leader. */
  readonly source: string;
}

/** What the campaign saw of a tab's configuration just before it left (null: no answer). */
export interface DepartureView {
  readonly atMs: number;
  readonly tab: string;
  readonly id: string | null;
  readonly voters: readonly string[] | null;
}

/**
 * Why `leaving` must not leave for good now, or null when it may: it votes, and without it the
 * voters that are not a witness are not a majority of the voters, so the room may be unable to
 * elect anyone until it comes back. `witnessIds`: every id the witness ran under (an old one may
 * still be configured).
 */
export function strandingLeaveReason(voters: readonly string[], leaving: string, witnessIds: readonly string[]): string | null {
  if (!voters.includes(leaving)) return null;
  const electable = voters.filter((voter) => voter !== leaving && !witnessIds.includes(voter));
  const majority = Math.floor(voters.length / 2) + 1;
  if (electable.length >= majority) return null;
  return `${leaving} is one of ${voters.length} voters [${voters.join(', ')}] with the witness; without it ${electable.length} tab voter(s) cannot make a majority of ${majority} alone, and the witness refuses its vote to a tab missing entries it holds`;
}

export const edgeLogSource = 'edge log';

/** Observations are bounded: one is enough to fail a witness run, a few show how it happened. */
export const maxEdgeLeaderObservations = 100;

/**
 * Keeps a sighting. Each "role: leader" line of the edge peer's log is a leadership of its own;
 * the other sources are polled (every second while the room converges), so each of them counts
 * once per id.
 */
export function recordEdgeLeader(observations: EdgeLeaderObservation[], observation: EdgeLeaderObservation): void {
  const polled = observation.source !== edgeLogSource;
  if (polled && observations.some((seen) => seen.source === observation.source && seen.id === observation.id)) return;
  if (observations.length < maxEdgeLeaderObservations) observations.push(observation);
}
