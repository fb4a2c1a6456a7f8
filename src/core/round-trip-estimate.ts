// The round trip of one follower's path, estimated the way TCP estimates it (RFC 6298): a
// smoothed mean (the RFC's SRTT) and a smoothed mean deviation (its RTTVAR) of measured samples,
// and from them how long to wait for an answer before declaring the request lost (its RTO, the
// retransmission timeout), doubled after each timeout that no valid sample followed.
//
// Why: a fixed timeout (electionTimeoutMin, 150 ms by default) on a path whose round trip is
// longer (a slow mobile link, a relayed TURN path, a busy machine) gives every request up before
// its answer can arrive and sends it again: a 1 MiB snapshot at a 200 ms round trip took 11.8 s
// instead of about 1 s, most chunks sent two or three times. Pure: samples and clock readings
// come from the caller.

/** The smoothing gains of RFC 6298 (alpha 1/8 for the mean, beta 1/4 for the deviation). */
const meanGain = 1 / 8;
const deviationGain = 1 / 4;
/** The deviation's weight in the timeout (RFC 6298's K): four deviations above the mean. */
const deviationWeight = 4;
/**
 * Doublings counted at most: beyond the 2^16-fold of any floor the ceiling has long been reached,
 * and the count stays a small bounded integer however long a peer stays silent.
 */
const backoffsCeiling = 16;

export interface RoundTripEstimate {
  /** The smoothed round trip in ms (SRTT), or null before the first sample. */
  smoothedMs: number | null;
  /** The smoothed mean deviation in ms (RTTVAR). */
  deviationMs: number;
  /** Timeouts in a row with no valid sample since: each doubles the timeout (Karn's backoff). */
  backoffs: number;
}

/** How the timeout is bounded; all derived from the configuration by the caller. */
export interface TimeoutBounds {
  /** Never shorter than this (as before the estimate existed, so fast paths behave as they did). */
  readonly floorMs: number;
  /**
   * The least margin above the mean, whatever the deviation (RFC 6298's clock granularity G): on
   * a path that was steady for a while the deviation decays toward 0, and a timeout equal to the
   * mean gives up every answer that comes a little late.
   */
  readonly marginMs: number;
  /** Never longer than this, backed off or not; samples are clamped to it too. */
  readonly ceilingMs: number;
}

export function createRoundTripEstimate(): RoundTripEstimate {
  return { smoothedMs: null, deviationMs: 0, backoffs: 0 };
}

/**
 * Folds in one sample (ms from sending a request to its first answer; the caller takes none from
 * a request it sent more than once, Karn's rule, since the answer may be to either copy). A valid
 * sample ends any backoff: the path answers, and the estimate now says how fast. Returns the
 * sample as taken (clamped to 0 .. the ceiling).
 */
export function recordRoundTripSample(estimate: RoundTripEstimate, sampleMs: number, bounds: TimeoutBounds): number {
  const sample = Math.min(Math.max(sampleMs, 0), bounds.ceilingMs);
  if (estimate.smoothedMs === null) {
    estimate.smoothedMs = sample;
    estimate.deviationMs = sample / 2;
  } else {
    // The deviation first, from the mean before this sample (RFC 6298, 2.3).
    estimate.deviationMs = (1 - deviationGain) * estimate.deviationMs + deviationGain * Math.abs(estimate.smoothedMs - sample);
    estimate.smoothedMs = (1 - meanGain) * estimate.smoothedMs + meanGain * sample;
  }
  estimate.backoffs = 0;
  return sample;
}

/** A timeout passed with no answer: the next wait is twice as long (up to the ceiling). */
export function backOffRoundTrip(estimate: RoundTripEstimate): void {
  estimate.backoffs = Math.min(estimate.backoffs + 1, backoffsCeiling);
}

/**
 * How long to wait for an answer: max(floor, SRTT + max(margin, 4 x RTTVAR)), doubled per
 * backoff, at most the ceiling. Before any sample, the floor (doubled per backoff): the first
 * answers then find a long path's round trip within a few doublings.
 */
export function roundTripTimeoutMs(estimate: RoundTripEstimate, bounds: TimeoutBounds): number {
  const estimated = estimate.smoothedMs === null ? 0 : estimate.smoothedMs + Math.max(bounds.marginMs, deviationWeight * estimate.deviationMs);
  const base = Math.max(bounds.floorMs, estimated);
  return Math.min(bounds.ceilingMs, base * 2 ** estimate.backoffs);
}
