import { describe, expect, it } from 'vitest';
import { backOffRoundTrip, createRoundTripEstimate, recordRoundTripSample, roundTripTimeoutMs, type RoundTripEstimate } from './round-trip-estimate.ts';

/** The default configuration's snapshot stall bounds: electionTimeoutMin, heartbeatInterval, 8 x electionTimeoutMax. */
const bounds = { floorMs: 150, marginMs: 50, ceilingMs: 2_400 };

function sampled(...samplesMs: number[]): RoundTripEstimate {
  const estimate = createRoundTripEstimate();
  for (const sample of samplesMs) recordRoundTripSample(estimate, sample, bounds);
  return estimate;
}

describe('round-trip estimate (RFC 6298)', () => {
  it('before any sample, waits the floor', () => {
    expect(roundTripTimeoutMs(createRoundTripEstimate(), bounds)).toBe(150);
  });

  it('takes the first sample as the mean with half of it as the deviation: a cautious first timeout', () => {
    const estimate = sampled(300);
    expect(estimate.smoothedMs).toBe(300);
    expect(estimate.deviationMs).toBe(150);
    expect(roundTripTimeoutMs(estimate, bounds)).toBe(300 + 4 * 150);
  });

  it('smooths later samples by 1/8 (mean) and 1/4 (deviation, from the mean before the sample)', () => {
    const estimate = sampled(300, 400);
    expect(estimate.deviationMs).toBe((3 / 4) * 150 + (1 / 4) * 100);
    expect(estimate.smoothedMs).toBe((7 / 8) * 300 + (1 / 8) * 400);
  });

  it('on a steady path, converges to the round trip plus the margin, not to the round trip itself', () => {
    const estimate = sampled(...Array.from({ length: 60 }, () => 300));
    expect(estimate.smoothedMs).toBe(300);
    expect(estimate.deviationMs).toBeLessThan(0.01);
    expect(roundTripTimeoutMs(estimate, bounds)).toBe(350);
  });

  it('on a jittery path, leaves room for the slow answers', () => {
    const estimate = sampled(...Array.from({ length: 60 }, (_, index) => (index % 2 === 0 ? 200 : 400)));
    expect(roundTripTimeoutMs(estimate, bounds)).toBeGreaterThan(400 + 50);
  });

  it('never goes below the floor on a fast path', () => {
    expect(roundTripTimeoutMs(sampled(...Array.from({ length: 20 }, () => 5)), bounds)).toBe(150);
  });

  it('doubles on each timeout with no sample since, up to the ceiling; a sample ends the backoff', () => {
    const estimate = createRoundTripEstimate();
    const timeouts: number[] = [];
    for (let timeout = 0; timeout < 6; timeout += 1) {
      timeouts.push(roundTripTimeoutMs(estimate, bounds));
      backOffRoundTrip(estimate);
    }
    expect(timeouts).toEqual([150, 300, 600, 1_200, 2_400, 2_400]);
    recordRoundTripSample(estimate, 250, bounds);
    expect(estimate.backoffs).toBe(0);
    expect(roundTripTimeoutMs(estimate, bounds)).toBe(250 + 4 * 125);
  });

  it('backs off from the estimate when there is one', () => {
    const estimate = sampled(...Array.from({ length: 60 }, () => 300));
    backOffRoundTrip(estimate);
    expect(roundTripTimeoutMs(estimate, bounds)).toBe(700);
  });

  it('bounds everything: the backoff count however long a peer is silent, and a sample by the ceiling', () => {
    const silent = createRoundTripEstimate();
    for (let timeout = 0; timeout < 10_000; timeout += 1) backOffRoundTrip(silent);
    expect(silent.backoffs).toBe(16);
    expect(roundTripTimeoutMs(silent, bounds)).toBe(2_400);
    const huge = sampled(Number.MAX_SAFE_INTEGER);
    expect(huge.smoothedMs).toBe(2_400);
    expect(roundTripTimeoutMs(huge, bounds)).toBe(2_400);
    expect(sampled(-5).smoothedMs).toBe(0); // a clock that went backwards gives no negative mean
  });
});
