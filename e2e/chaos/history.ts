// What a campaign records, in the Node runner: every operation's invocation, completion and outcome
// (times in milliseconds since the campaign started, on the runner's clock, which brackets the
// page's), every fault, and at the end each node's committed sequence. Written as JSON on failure.
import type { CommittedRecord, NodeStatus, ReadValue } from './pages/chaos-protocol.ts';

/**
 * ok: the call answered with its result; failed: definitely not committed (the call never reached
 * a node, or the leader refused it); unknown: anything else (an error, a timeout, a page that died).
 */
export type Outcome<T> = { readonly type: 'ok'; readonly value: T } | { readonly type: 'failed'; readonly error: string } | { readonly type: 'unknown'; readonly error: string };

export interface Attempt {
  readonly invokedMs: number;
  readonly completedMs: number;
  readonly outcome: Outcome<{ readonly index: number; readonly term: number }>;
}

/**
 * One command with a unique id. plain: `propose(command)` once, on a node with identity 'auto';
 * session: `propose(command, { requestId })` on a node with a durable client id, retried with the
 * same request id until it is acknowledged, across leader changes and restarts.
 */
export interface ProposalRecord {
  readonly operationId: string;
  readonly node: string;
  readonly kind: 'plain' | 'session';
  readonly clientId: string | null;
  readonly requestId: number | null;
  readonly attempts: Attempt[];
}

export interface ReadRecord {
  readonly node: string;
  readonly invokedMs: number;
  readonly completedMs: number;
  readonly outcome: Outcome<ReadValue>;
}

export type FaultKind = 'closePage' | 'killBrowser' | 'terminateWorker' | 'freeze' | 'blockMainThread' | 'partition' | 'loseChannels' | 'transferLeadership';

export interface FaultRecord {
  readonly step: number;
  readonly kind: FaultKind;
  readonly node: string;
  readonly startedMs: number;
  healedMs: number | null;
  /** What happened: durations, a transfer's outcome, channels closed. */
  detail: string;
}

export interface History {
  readonly seed: number;
  readonly seconds: number;
  readonly voters: readonly string[];
  readonly startedAt: string;
  readonly proposals: ProposalRecord[];
  readonly reads: ReadRecord[];
  readonly faults: FaultRecord[];
  /** Liveness notes: a heal after which the cluster took long to recover (legal, reported). */
  readonly notes: string[];
  /** Each node's committed sequence after the final heal, as its application replayed it. */
  finalLogs: Record<string, CommittedRecord[]>;
  finalCommitIndexes: Record<string, number>;
  /** Each node's status when its log was read: compaction floor, snapshots its page installed. */
  finalStatuses: Record<string, NodeStatus>;
  /** Per node, each term it was seen leading and when first (ms): sampled about every 250 ms. */
  leadership: Record<string, Record<number, number>>;
  /**
   * The nodes lost for good (the browser deleted a killed browser's database; cluster.ts), with
   * their storage's refusal: their logs are not read, and the others must keep a majority.
   */
  lostForGood: Record<string, string>;
}
