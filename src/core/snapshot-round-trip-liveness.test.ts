// A snapshot stream over a path whose round trip is longer than the election timeout (a slow
// mobile link, a relayed TURN path, a busy machine), with the default configuration: the leader
// waits for answers as long as the measured round trip says they take, so nothing is sent twice
// without a loss once the round trip is measured, the window holds a round trip's worth of the
// pace, a lost chunk is still recovered, and a follower that stops answering gets resends at a
// backed-off, bounded interval. Run as the driver runs the engine.
//
// SNAPSHOT_FIGURES=1 npx vitest run --project node src/core/snapshot-round-trip-liveness.test.ts
// prints the figures the README quotes.
import { describe, expect, it } from 'vitest';
import { defaultResolvedRaftConfig } from './config.ts';
import { createCoreHarness, type CoreHarness, type HarnessNode } from './core-harness.test-support.ts';
import { DriverLikeRun } from './driver-like-run.test-support.ts';
import { snapshotChunksInFlight, snapshotStallBounds } from './snapshot-sender.ts';

const chunkBytes = defaultResolvedRaftConfig.snapshotChunkCeilingBytes;
const snapshotBytes = 1024 * 1024;
const chunks = snapshotBytes / chunkBytes;

interface Stream {
  readonly harness: CoreHarness;
  readonly leader: HarnessNode;
  readonly follower: HarnessNode;
  readonly snapshotIndex: number;
  readonly run: DriverLikeRun;
  readonly startedAt: number;
}

/**
 * A follower cut off while the leader compacted into a 1 MiB snapshot, then reconnected over a
 * path with the given round trip (the other follower's path is instant): the stream starts now.
 */
function streamOverSlowPath(roundTripMs: number, seed = 21): Stream {
  const harness = createCoreHarness(['a', 'b', 'c'], seed);
  harness.advance(400);
  const leader = harness.leaders()[0]!;
  const follower = [...harness.nodes.values()].find((node) => node !== leader)!;
  harness.isolate(follower.id);
  for (let request = 1; request <= 10; request += 1) leader.core.propose(harness.now, request, new Uint8Array([request]), null);
  harness.advance(50);
  const snapshotIndex = leader.core.applicableIndex;
  leader.core.publishSnapshot(harness.now, snapshotIndex, new Uint8Array(snapshotBytes).fill(5));
  harness.settle();
  const run = new DriverLikeRun(harness, roundTripMs / 2);
  harness.heal();
  run.slowPath(leader.id, follower.id);
  return { harness, leader, follower, snapshotIndex, run, startedAt: harness.now };
}

/** Chunks the default pace sends in one round trip: the window a stream needs to keep its pace. */
function chunksPerRoundTrip(roundTripMs: number): number {
  return Math.ceil((roundTripMs * defaultResolvedRaftConfig.snapshotBytesPerSecond) / 1000 / chunkBytes);
}

/** Doublings of the unmeasured stall timeout (electionTimeoutMin) until it passes `roundTripMs`. */
function doublingsPast(roundTripMs: number): number {
  return Math.max(0, Math.ceil(Math.log2(roundTripMs / defaultResolvedRaftConfig.electionTimeoutMinMs)));
}

/** What a loss-free stream may take at most: size / rate, plus a few round trips. */
function lossFreeCeilingMs(roundTripMs: number): number {
  return (snapshotBytes * 1000) / defaultResolvedRaftConfig.snapshotBytesPerSecond + 4 * roundTripMs;
}

/** Chunk sends to the follower from `since` on, and how many of them repeated an offset already sent. */
function chunkSends(stream: Stream, since = 0): { sends: number; repeated: number } {
  const sent = stream.run.chunks.filter((chunk) => chunk.to === stream.follower.id && chunk.at >= since);
  return { sends: sent.length, repeated: sent.length - new Set(sent.map((chunk) => chunk.offset)).size };
}

/**
 * The chunks sent to the follower from its first stall after `since` on: the first chunk that
 * repeats an offset already sent, or restarts a newer stream at its start. Before it, the stream
 * still fills its window (two round trips' worth) with chunks sent for the first time.
 */
function sendsFromFirstStall(stream: Stream, since: number): Array<{ readonly offset: number; readonly at: number }> {
  const toFollower = stream.run.chunks.filter((chunk) => chunk.to === stream.follower.id);
  let furthest = -1;
  const firstStall = toFollower.findIndex((chunk) => {
    const repeats = chunk.offset <= furthest;
    furthest = Math.max(furthest, chunk.offset);
    return chunk.at > since && repeats;
  });
  return firstStall === -1 ? [] : toFollower.slice(firstStall);
}

function printFigures(line: string): void {
  if (process.env['SNAPSHOT_FIGURES'] !== undefined) process.stdout.write(`${line}\n`);
}

describe('a 1 MiB snapshot stream over a slow path, default configuration', () => {
  for (const roundTripMs of [50, 200, 300, 600]) {
    it(`sends no chunk twice once the round trip is measured, and installs in about size / rate plus a few round trips (round trip ${roundTripMs} ms)`, () => {
      const stream = streamOverSlowPath(roundTripMs);
      const { harness, follower, run } = stream;
      expect(run.runUntil(() => follower.snapshots.length > 0, 60_000)).toBe(true);
      const elapsedMs = harness.now - stream.startedAt;
      const { sends, repeated } = chunkSends(stream);
      printFigures(`round trip ${roundTripMs} ms: 1 MiB installed in ${elapsedMs} ms, ${sends} chunk sends for ${chunks} chunks, ${repeated} repeated`);
      expect(follower.snapshots).toEqual([stream.snapshotIndex]);
      // Only before the first sample: the stall timeout starts at electionTimeoutMin, shorter
      // than this path's round trip, and each doubling short of it costs up to the first window.
      expect(repeated).toBeLessThanOrEqual(snapshotChunksInFlight * doublingsPast(roundTripMs));
      expect(elapsedMs).toBeLessThanOrEqual(lossFreeCeilingMs(roundTripMs));
      expect(stream.leader.core.role).toBe('leader');
      expect(run.spins).toEqual([]);
    });
  }
});

describe('losses on a slow path (round trip 300 ms, default configuration)', () => {
  it('a lost chunk is sent again and the stream still finishes, a few round trips later', () => {
    const stream = streamOverSlowPath(300);
    const { harness, follower, run } = stream;
    const lostOffset = 32 * chunkBytes;
    expect(run.runUntil(() => run.chunks.some((chunk) => chunk.offset === lostOffset), 30_000)).toBe(true);
    run.loseInTransitWhere((message) => message.type === 'installSnapshot' && message.offset === lostOffset);
    expect(run.runUntil(() => follower.snapshots.length > 0, 60_000)).toBe(true);
    const elapsedMs = harness.now - stream.startedAt;
    const { sends, repeated } = chunkSends(stream);
    printFigures(`round trip 300 ms, chunk ${lostOffset / chunkBytes} lost: 1 MiB installed in ${elapsedMs} ms, ${sends} chunk sends, ${repeated} repeated`);
    expect(follower.snapshots).toEqual([stream.snapshotIndex]);
    // The first window's (before any sample, as without the loss), the lost chunk, and the
    // chunks in flight behind it, which the follower could not take (it accepts only the next
    // offset): about a round trip's worth.
    expect(repeated).toBeLessThanOrEqual(snapshotChunksInFlight + 1 + chunksPerRoundTrip(300) + 1);
    // The window shrank to one chunk and grows back after eight acknowledgements in order: about
    // eight round trips at one chunk each, on top of the loss-free time.
    expect(elapsedMs).toBeLessThanOrEqual(lossFreeCeilingMs(300) + 10 * 300);
    expect(stream.leader.core.role).toBe('leader');
    expect(run.spins).toEqual([]);
  });

  it('a follower that stops answering gets a chunk again at a backed-off interval, at most one per ceiling', () => {
    const stream = streamOverSlowPath(300);
    const { harness, leader, follower, run } = stream;
    expect(run.runUntil(() => run.chunks.some((chunk) => chunk.offset === 16 * chunkBytes), 30_000)).toBe(true);
    run.silence(follower.id, leader.id);
    const silencedAt = harness.now;
    const observeMs = 20_000;
    run.runUntil(() => false, observeMs);
    const resent = sendsFromFirstStall(stream, silencedAt);
    // Each stall sends the first unacknowledged chunk again (grouped by time, in case of more).
    const burstsAt = resent.filter((chunk, index) => index === 0 || chunk.at - (resent[index - 1] as { at: number }).at > 100).map((chunk) => chunk.at);
    const gaps = burstsAt.slice(1).map((at, index) => at - (burstsAt[index] as number));
    printFigures(`round trip 300 ms, follower silent for ${observeMs} ms: ${resent.length} chunks resent in ${burstsAt.length} bursts, gaps ${gaps.join(', ')} ms`);
    const ceilingMs = snapshotStallBounds(defaultResolvedRaftConfig).ceilingMs;
    const heartbeatMs = defaultResolvedRaftConfig.heartbeatIntervalMs;
    // Doubling (stalls are noticed on heartbeats, so each is up to one heartbeat interval late) ...
    for (let index = 1; index < gaps.length; index += 1) expect(gaps[index] as number).toBeGreaterThanOrEqual(Math.min(2 * (gaps[index - 1] as number) - heartbeatMs, ceilingMs));
    // ... up to the ceiling, and no further.
    expect(Math.max(...gaps)).toBeLessThanOrEqual(ceilingMs + heartbeatMs);
    expect(gaps.slice(-3).every((gap) => gap >= ceilingMs)).toBe(true);
    // One chunk per stall, not the window (sized to the round trip, 40 chunks here).
    expect(resent.length).toBe(burstsAt.length);
    expect(resent.length).toBeLessThanOrEqual(3 + Math.ceil(observeMs / ceilingMs));
    expect(leader.core.role).toBe('leader');
    expect(run.spins).toEqual([]);
  });

  it('a follower that stops answering still gets one chunk at a time when newer snapshots restart its stream', () => {
    const stream = streamOverSlowPath(300);
    const { harness, leader, follower, run } = stream;
    expect(run.runUntil(() => run.chunks.some((chunk) => chunk.offset === 16 * chunkBytes), 30_000)).toBe(true);
    run.silence(follower.id, leader.id);
    const silencedAt = harness.now;
    // Let the stream stall once, then the application compacts every two seconds, as a busy one might.
    run.runUntil(() => false, 3_000);
    const snapshots = 8;
    for (let round = 1; round <= snapshots; round += 1) {
      leader.core.propose(harness.now, 100 + round, new Uint8Array([round]), null);
      run.runUntil(() => false, 2_000);
      leader.core.publishSnapshot(harness.now, leader.core.applicableIndex, new Uint8Array(snapshotBytes).fill(round));
      harness.settle();
    }
    run.runUntil(() => false, 2_000);
    const resent = sendsFromFirstStall(stream, silencedAt);
    const observedMs = harness.now - silencedAt;
    printFigures(`round trip 300 ms, follower silent for ${observedMs} ms, ${snapshots} newer snapshots: ${resent.length} chunks sent`);
    // A stall (nothing answered since) is the path's, not the stream's: a newer snapshot restarts
    // the stream with its first chunk alone, not a window sized to the round trip (40 chunks here)
    // into a follower that stopped answering.
    const ceilingMs = snapshotStallBounds(defaultResolvedRaftConfig).ceilingMs;
    expect(resent.length).toBeLessThanOrEqual(3 + Math.ceil(observedMs / ceilingMs) + snapshots);
    expect(leader.core.role).toBe('leader');
  });
});
