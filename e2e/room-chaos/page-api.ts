// The contract between the campaign runner (Node) and one chaos page (e2e/pages/room-chaos-peer.ts):
// what `window.roomChaos` offers and what each call answers. Plain data only: it crosses the
// DevTools connection.
import type { ListFingerprint } from './digest.ts';

/** The room's timing, the same on every page of a campaign. */
export interface ChaosRoomSettings {
  readonly signalingUrl: string;
  readonly room: string;
  readonly secret: string;
  /** A member unreachable this long is replaced or removed by the policy. */
  readonly unreachableAfterMs: number;
  readonly targetVoters: number;
  /** An always-on edge peer's id, preferred as voter (README "Two-peer rooms and the witness"). */
  readonly witness?: string;
}

/**
 * The page store's bound on pending dispatches, far below the default 256, so the workload's
 * bursts (workload.ts) overflow it: a dispatch refused up front is the definite failure a campaign
 * provokes on purpose, and the checker holds that such a dispatch is never applied.
 */
export const maxPendingCommands = 8;

/** How one dispatch ended, as the page saw it. */
export type DispatchAnswer =
  | ({ readonly outcome: 'ok'; readonly index: number } & ListFingerprint)
  /** Never reached a leader (the store refused it up front, or the room said so). */
  | { readonly outcome: 'failed'; readonly error: string }
  /** May or may not have committed: aborted, leadership lost, the node closed under it. */
  | { readonly outcome: 'unknown'; readonly error: string };

export type ReadAnswer = ({ readonly outcome: 'ok' } & ListFingerprint) | { readonly outcome: 'failed'; readonly error: string };

/** A room event the page saw, trimmed to what a report needs. */
export interface SeenEvent {
  readonly type: string;
  readonly atMs: number;
  readonly detail: string;
}

export interface ChaosPeerStatus extends ListFingerprint {
  readonly id: string;
  readonly role: string;
  readonly leader: string | null;
  readonly term: number;
  readonly voters: readonly string[];
  readonly learners: readonly string[];
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly connected: boolean;
  /** Peers the transport reaches right now. */
  readonly reachable: readonly string[];
  /**
   * Every id this page's nodes named leader since the page opened (at most `maxLeadersSeen`): a
   * witness among them means a tab saw it lead.
   */
  readonly leadersSeen: readonly string[];
}

/** Bounds the page's list of leaders seen (a campaign sees a few dozen ids at most). */
export const maxLeadersSeen = 64;

/**
 * A configuration this page's node adopted, and when (`Date.now()` on the page; the campaign turns
 * it into its own time). Recorded on the page as it happens, read once after the run: the campaign
 * asks no page for its membership while the faults run, which would change their timing.
 */
export interface ConfigurationSighting {
  readonly atMs: number;
  readonly voters: readonly string[];
  readonly learners: readonly string[];
}

/** Bounds the page's list of configurations (the newest kept; a campaign changes membership a few dozen times). */
export const maxConfigurationsSeen = 256;

export interface RoomChaosApi {
  /** joinRoom; answers this peer's node id. */
  start(settings: ChaosRoomSettings): Promise<string>;
  dispatch(operationId: string, timeoutMs: number): Promise<DispatchAnswer>;
  read(timeoutMs: number): Promise<ReadAnswer>;
  status(): ChaosPeerStatus;
  /** The whole applied-id list (for the final comparison). */
  appliedIds(): readonly string[];
  /** Room events since the page started (bounded). */
  events(): readonly SeenEvent[];
  /** The configurations this page's nodes adopted since the page opened (bounded). */
  configurations(): readonly ConfigurationSighting[];
  /** The demo's partition switch: false cuts this page off from every peer. */
  setConnected(connected: boolean): void;
  leave(): Promise<void>;
}

declare global {
  interface Window {
    roomChaos: RoomChaosApi;
  }
}
