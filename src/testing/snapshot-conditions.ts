// Snapshot conditions of one seeded run: how large the published snapshots are, how fast leaders
// stream them (RaftConfig.snapshotBytesPerSecond), the chunk ceiling, and how fast a link carries
// bytes. Drawn from a random stream of their own, so a seed's fault schedule is the same whatever
// these turn out to be.
import { defaultResolvedRaftConfig } from '../core/config.ts';
import { deriveSeed, seededRandom } from './seeded-random.ts';
import { simulatedSnapshotHeaderBytes, type SnapshotSizeProfile } from './simulated-state.ts';

export interface SnapshotConditions {
  readonly profile: SnapshotSizeProfile;
  /** RaftConfig.snapshotBytesPerSecond, or undefined for the default (1 MiB/s). */
  readonly snapshotBytesPerSecond: number | undefined;
  /** RaftConfig.snapshotChunkCeiling, or undefined for the default (16 KiB). */
  readonly snapshotChunkCeiling: number | undefined;
  /** Bytes per second one link carries (a frame occupies its link for size / rate). */
  readonly linkBytesPerSecond: number;
}

/**
 * The longest a seed's largest snapshot takes at its pace. Longer, and a follower that needs one
 * after the final heal could not catch up within the liveness deadline however well raft did.
 */
const longestTransferMs = 1_200;

function weighted<T>(random: () => number, choices: readonly (readonly [number, T])[]): T {
  let roll = random() * choices.reduce((sum, [weight]) => sum + weight, 0);
  for (const [weight, value] of choices) {
    roll -= weight;
    if (roll < 0) return value;
  }
  return (choices[choices.length - 1] as readonly [number, T])[1];
}

export function drawSnapshotConditions(seed: number): SnapshotConditions {
  const random = seededRandom(deriveSeed(seed, 'snapshot-conditions'));
  const kib = 1024;
  const snapshotBytesPerSecond = weighted<number | undefined>(random, [
    [30, undefined],
    [20, Number.POSITIVE_INFINITY],
    [15, 4096 * kib],
    [20, 256 * kib],
    [15, 64 * kib],
  ]);
  // Now and then a small, odd chunk ceiling: many chunks per snapshot, offsets off any power of two.
  const snapshotChunkCeiling = random() < 0.2 ? 1000 + Math.floor(random() * 7000) : undefined;
  const chunkBytes = snapshotChunkCeiling ?? defaultResolvedRaftConfig.snapshotChunkCeilingBytes;
  const maxChunks = weighted(random, [
    [10, 0],
    [15, 1],
    [25, 4],
    [25, 8],
    [25, 20],
  ]);
  const rate = snapshotBytesPerSecond ?? defaultResolvedRaftConfig.snapshotBytesPerSecond;
  const paceBound = Number.isFinite(rate) ? Math.floor((rate * longestTransferMs) / 1000) : Number.POSITIVE_INFINITY;
  const maxBytes = maxChunks === 0 ? simulatedSnapshotHeaderBytes : Math.max(simulatedSnapshotHeaderBytes, Math.min(maxChunks * chunkBytes, paceBound));
  const salt = Math.floor(random() * 2 ** 32);
  const linkBytesPerSecond = weighted(random, [
    [30, Number.POSITIVE_INFINITY],
    [25, 20_000_000],
    [25, 8_000_000],
    [20, 4_000_000],
  ]);
  return { profile: { maxBytes, chunkBytes, salt }, snapshotBytesPerSecond, snapshotChunkCeiling, linkBytesPerSecond };
}

/** The conditions as RaftConfig fields (absent where the default applies). */
export function snapshotRaftConfig(conditions: SnapshotConditions): { snapshotBytesPerSecond?: number; snapshotChunkCeiling?: number } {
  return {
    ...(conditions.snapshotBytesPerSecond === undefined ? {} : { snapshotBytesPerSecond: conditions.snapshotBytesPerSecond }),
    ...(conditions.snapshotChunkCeiling === undefined ? {} : { snapshotChunkCeiling: conditions.snapshotChunkCeiling }),
  };
}

/** One line for a report: "8 chunks max (131072 B) at 256 KiB/s, link 8 MB/s". */
export function describeSnapshotConditions(conditions: SnapshotConditions): string {
  const rate = conditions.snapshotBytesPerSecond;
  const pace = rate === undefined ? 'default pace' : Number.isFinite(rate) ? `${rate / 1024} KiB/s` : 'unpaced';
  const link = Number.isFinite(conditions.linkBytesPerSecond) ? `${conditions.linkBytesPerSecond / 1e6} MB/s links` : 'unbounded links';
  return `snapshots up to ${conditions.profile.maxBytes} B in ${conditions.profile.chunkBytes} B chunks, ${pace}, ${link}`;
}
