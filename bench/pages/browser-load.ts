// Proposal load for bench/browser.ts: `inFlight` lanes each proposing 100-byte commands one after
// another, until a duration passes or the cluster's commit index reaches a mark. Latencies are kept
// per wall-clock second so Node can chart the run over time.
import type { RaftNode } from '../../src/index.ts';
import { percentile as at } from '../statistics.ts';

export interface SecondBucket {
  /** Wall-clock second (Unix time), comparable across the three processes. */
  readonly second: number;
  readonly commits: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface LoadResult {
  readonly commits: number;
  readonly errors: number;
  readonly elapsedMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly buckets: readonly SecondBucket[];
  readonly firstError: string | null;
}

export interface LoadOptions {
  readonly inFlight: number;
  readonly durationMs: number;
  readonly untilCommitIndex: number;
  /** Pause between a lane's commit and its next proposal (light load). */
  readonly pauseMs: number;
  /**
   * Keep every latency for the run's percentiles. Off for the memory phase: a million latencies
   * would grow this page's heap and be mistaken for the library's (each second is still summed up).
   */
  readonly keepAll: boolean;
  /**
   * Only proposals sent this long after the load started count in its percentiles (the warm-up of
   * the saturation phase: the first proposals wait behind a cold engine and fill the queues, and
   * the rate is measured after it too). Default 0. The per-second buckets keep every proposal.
   */
  readonly measureAfterMs?: number;
}

const command = new Uint8Array(100).fill(7);
const proposalTimeoutMs = 10_000;
/**
 * One deadline signal per second of proposals, shared by the proposals started in that second
 * (each is bounded by 10–11 s), not one per proposal. An `AbortSignal.timeout` lives until its
 * timer fires whether or not anyone still listens: at 2,000 proposals a second, ten seconds of
 * them are 20,000 signals, 8.5 MiB of Chromium's heap (measured 2026-12-05), which the memory
 * phase read as the page's memory, and most on the leader's page, whose proposals commit
 * fastest. Every proposal still carries a signal, so the engine's cost for abortable calls is
 * still paid.
 */
const deadlineSeconds: { second: number; signal: AbortSignal | null } = { second: -1, signal: null };
function proposalDeadline(): AbortSignal {
  const second = Math.floor(performance.now() / 1000);
  if (deadlineSeconds.signal === null || deadlineSeconds.second !== second) {
    deadlineSeconds.second = second;
    deadlineSeconds.signal = AbortSignal.timeout(proposalTimeoutMs + 1_000);
  }
  return deadlineSeconds.signal;
}
/** Bumped by stopLoads(): every running load ends after its lanes' current proposals. */
let generation = 0;

export function stopLoads(): void {
  generation += 1;
}

/** Set while the loads are held: lanes start no proposal until it resolves. */
let held: { readonly released: Promise<void>; readonly release: () => void } | null = null;
/** Proposals of every running load that have not settled yet. */
let unsettled = 0;
/** Called once `unsettled` falls to 0 while the loads are held. */
let drainedWaiters: Array<() => void> = [];

/**
 * Holds every running load for a memory reading (bench/browser/memory-phase.ts says why): its
 * lanes start no new proposal until releaseLoads(). Resolves once the proposals in flight have
 * settled (each is bounded by its deadline signal).
 */
export function holdLoads(): Promise<void> {
  if (held === null) {
    let release = (): void => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    held = { released, release };
  }
  if (unsettled === 0) return Promise.resolve();
  return new Promise((resolve) => drainedWaiters.push(resolve));
}

export function releaseLoads(): void {
  held?.release();
  held = null;
}

/** One proposal of a load has settled. */
function settledOne(): void {
  unsettled -= 1;
  if (unsettled > 0) return;
  const waiters = drainedWaiters;
  drainedWaiters = [];
  for (const wake of waiters) wake();
}

export function createLoad(node: RaftNode, options: LoadOptions): { finished: Promise<LoadResult> } {
  const wallClock = (): number => performance.timeOrigin + performance.now();
  const latencies: number[] = [];
  const buckets: SecondBucket[] = [];
  let currentSecond = 0;
  let current: number[] = [];
  const closeSecond = (): void => {
    if (current.length === 0) return;
    current.sort((left, right) => left - right);
    buckets.push({ second: currentSecond, commits: current.length, p50Ms: at(current, 0.5), p99Ms: at(current, 0.99) });
    current = [];
  };
  let errors = 0;
  let firstError: string | null = null;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const measuredFrom = started + (options.measureAfterMs ?? 0);
  const startedGeneration = generation;
  const done = (): boolean => generation !== startedGeneration || performance.now() >= deadline || node.commitIndex.value >= options.untilCommitIndex;
  const lane = async (): Promise<void> => {
    while (!done()) {
      if (held !== null) {
        await held.released;
        continue;
      }
      const sent = performance.now();
      unsettled += 1;
      try {
        // Bounded: a proposal that never settles would hang the run; it counts as an error instead.
        await node.propose(command, { signal: proposalDeadline() });
      } catch (error) {
        // Leadership changes under load (a stalled worker on a busy machine) are expected: count, back off, go on.
        errors += 1;
        firstError ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        await new Promise((resolve) => setTimeout(resolve, 20));
        continue;
      } finally {
        settledOne();
      }
      const latency = performance.now() - sent;
      if (options.keepAll && sent >= measuredFrom) latencies.push(latency);
      const second = Math.floor(wallClock() / 1000);
      if (second !== currentSecond) {
        closeSecond();
        currentSecond = second;
      }
      current.push(latency);
      if (options.pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
  };
  const finished = Promise.all(Array.from({ length: options.inFlight }, lane)).then((): LoadResult => {
    closeSecond();
    const sorted = latencies.sort((left, right) => left - right);
    const commits = buckets.reduce((sum, bucket) => sum + bucket.commits, 0);
    return { commits, errors, elapsedMs: performance.now() - started, p50Ms: at(sorted, 0.5), p99Ms: at(sorted, 0.99), buckets, firstError };
  });
  return { finished };
}
