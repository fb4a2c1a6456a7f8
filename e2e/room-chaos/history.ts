// What a campaign records: every operation's invocation, completion and outcome (times from one
// Node clock, in ms since the campaign started), what each tab went through, and the final state
// of every live member after the heal. The checker (checker.ts) judges this record alone, so a
// history written to disk can be judged again, and a doctored one shows the checks can fail.
import type { ChaosPeerStatus, ConfigurationSighting, SeenEvent } from './page-api.ts';
import type { EdgePeerHealth } from './edge-peer.ts';
import type { FaultKind, Schedule } from './schedule.ts';
import type { DepartureView, EdgeLeaderObservation } from './witness.ts';

export type Outcome = 'ok' | 'failed' | 'unknown';

/** What every operation records, a dispatch or a read. */
interface OperationFields {
  readonly tab: string;
  readonly invokedAtMs: number;
  completedAtMs: number | null;
  outcome: Outcome;
  /** After the final heal: every live member must be able to commit (liveness). */
  readonly final: boolean;
  /** For `ok`: the resulting (or read) state's size and digest (digest.ts). */
  length?: number;
  digest?: number;
  error?: string;
}

export interface DispatchRecord extends OperationFields {
  readonly kind: 'dispatch';
  readonly operationId: string;
}

export interface ReadRecord extends OperationFields {
  readonly kind: 'read';
}

export type OperationRecord = DispatchRecord | ReadRecord;

/** Something a tab went through, for the report (not judged, except start failures at the end). */
export interface TabNote {
  readonly atMs: number;
  readonly tab: string;
  readonly note: string;
}

export interface FinalMember {
  readonly tab: string;
  readonly status: ChaosPeerStatus;
  readonly appliedIds: readonly string[];
  readonly events: readonly SeenEvent[];
  /** The configurations the tab's page adopted since it opened, at campaign times (as every time here). */
  readonly configurations: readonly ConfigurationSighting[];
}

export interface ChaosHistory {
  readonly seed: number;
  readonly seconds: number;
  readonly startedAt: string;
  readonly targetVoters: number;
  /**
   * The edge peer's id at the end, when one ran and is live then (it counts as a member like any
   * other); null without an edge peer or when it could not be started again.
   */
  edgePeerId: string | null;
  /** Every id the edge peer ran under, in order (a fresh one if the room removed it while down). */
  edgePeerIds: string[];
  /** The edge peer's Raft timing: the pages' (room-timing.ts) or the engine's defaults. */
  readonly edgePeerTimeouts: 'pages' | 'defaults' | null;
  /** `--tabs`: the room's fixed number of tabs; null for the default (four, growing to five). */
  readonly tabs: number | null;
  /** The edge peer runs as the room's witness (`raftmesh-peer --witness`): it must never lead. */
  readonly edgePeerWitness: boolean;
  /** `--lose-database-on-kill` (CampaignOptions.loseDatabaseOnKill); absent: false. */
  readonly loseDatabaseOnKill?: boolean;
  /** Every time the edge peer was seen leading (bounded, witness.ts); a witness run fails on any. */
  readonly edgeLeaderObservations: EdgeLeaderObservation[];
  /** The edge peer's /healthz at the end, when it answered. */
  edgeFinal: EdgePeerHealth | null;
  /** What each tab that left for good was, just before (its configuration: witness.ts). */
  readonly departures: DepartureView[];
  /** Leaves the campaign did not carry out: with the witness they could strand the room by design. */
  leavesHeldBack: number;
  readonly schedule: Schedule;
  readonly faultsInjected: Record<FaultKind, number>;
  readonly operations: OperationRecord[];
  readonly notes: TabNote[];
  /** Tabs live at the end (started, not left), each with its final state; empty if gathering failed. */
  final: FinalMember[];
  /** Tabs (or `edge`) that should be live at the end but could not be started again. */
  unstartable: string[];
  /** Node ids of tabs that left for good: none may remain a member. */
  departedIds: string[];
  /** Which tab (or the edge peer) ran each node id of the campaign, for the report. */
  nodeNames: Record<string, string>;
  /** Why the harness stopped waiting for convergence, when it did (the checker judges the state anyway). */
  convergenceTimeout: string | null;
}

export function createHistory(fields: Pick<ChaosHistory, 'seed' | 'seconds' | 'targetVoters' | 'edgePeerId' | 'edgePeerTimeouts' | 'edgePeerWitness' | 'loseDatabaseOnKill' | 'tabs' | 'schedule' | 'faultsInjected'>): ChaosHistory {
  return {
    ...fields,
    edgePeerIds: [],
    edgeLeaderObservations: [],
    edgeFinal: null,
    departures: [],
    leavesHeldBack: 0,
    startedAt: new Date().toISOString(),
    operations: [],
    notes: [],
    final: [],
    unstartable: [],
    departedIds: [],
    nodeNames: {},
    convergenceTimeout: null,
  };
}
