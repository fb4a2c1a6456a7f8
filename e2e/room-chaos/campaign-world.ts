// What every part of a campaign shares: its options, the world it runs (tabs, edge peer, history,
// load, clock) and the small helpers that bound waits and note what happened. campaign.ts runs
// the campaign; campaign-edge.ts drives the edge peer.
import type { ChaosTab } from './chaos-tab.ts';
import type { ChaosEdgePeer } from './edge-peer.ts';
import type { ChaosHistory } from './history.ts';
import type { ChaosRoomSettings } from './page-api.ts';
import type { Workload } from './workload.ts';

export type CampaignPace = 'short' | 'long';

export interface CampaignOptions {
  readonly seed: number;
  readonly seconds: number;
  /** Where the chaos page is served (a Vite server over this repository). */
  readonly baseUrl: string;
  /** 'short': dense faults for the CI spec; 'long': the command's pace. */
  readonly pace: CampaignPace;
  readonly edgePeer: boolean;
  /** The edge peer is the room's witness (needs `edgePeer`). */
  readonly witness: boolean;
  /** A room of this many tabs, never more (default four, growing to five: schedule.ts). */
  readonly tabs?: number;
  /** The edge peer keeps the engine's default timings instead of the pages' (room-timing.ts). */
  readonly edgeDefaultTimeouts: boolean;
  /**
   * The first tab killed whose LevelDB log holds enough to damage finds its database deleted when
   * it returns (e2e/damaged-indexeddb.ts), as Chromium sometimes does after a kill by itself: the
   * room must take it back under a fresh id (its `storageLost` event) and lose nothing.
   */
  readonly loseDatabaseOnKill?: boolean;
  /** How long the final heal may take to converge (a bound on a wait, not a verdict by itself). */
  readonly convergenceTimeoutMs: number;
  readonly log: (line: string) => void;
}

/** How long a page or the edge peer may take to answer a status request. */
export const statusTimeoutMs = 15_000;

export interface World {
  readonly options: CampaignOptions;
  /** What the next page opened gets (the witness's id changes if the room replaces it). */
  settings: ChaosRoomSettings;
  readonly tabs: Map<string, ChaosTab>;
  readonly history: ChaosHistory;
  readonly workload: Workload;
  readonly edge: ChaosEdgePeer | null;
  readonly now: () => number;
  /** Whether the next kill still damages its tab's database (CampaignOptions.loseDatabaseOnKill). */
  databaseLossArmed: boolean;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
export const errorText = (error: unknown): string => (error instanceof Error ? error.message.split('\n')[0] ?? error.name : String(error));

export function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

export function note(world: World, tab: string, text: string): void {
  world.history.notes.push({ atMs: world.now(), tab, note: text });
  world.options.log(`${(world.now() / 1000).toFixed(1).padStart(7)} s  ${tab}: ${text}`);
}
