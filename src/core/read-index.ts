// Read index (§6.4): a leader records its commit index for a read, then proves it is still the
// leader with a heartbeat round acknowledged by a quorum that STARTED AFTER the read arrived.
// Concurrent reads share one round: reads that arrive while a round is out join the next one.
import type { NodeId } from './types.ts';

/** Who asked: this node's caller, or a follower (answered with its correlation id). */
export type ReadRequester =
  | { readonly type: 'local'; readonly readId: number }
  | { readonly type: 'remote'; readonly from: NodeId; readonly correlationId: number };

interface WaitingRead {
  readonly requester: ReadRequester;
  /** Commit index recorded when the read's round began. */
  readIndex: number;
}

export interface ConfirmedRead {
  readonly requester: ReadRequester;
  readonly readIndex: number;
}

/** Reads queued on one leader, per term. Bounded by the caller (maxPendingReads). */
export class ReadIndexTracker {
  private roundNumber = 0;
  private outstandingRound = 0;
  private inRound: WaitingRead[] = [];
  private waitingForRound: ReadRequester[] = [];
  private readonly acknowledged = new Map<NodeId, number>();

  get size(): number {
    return this.inRound.length + this.waitingForRound.length;
  }

  get roundInFlight(): boolean {
    return this.outstandingRound !== 0;
  }

  get currentRound(): number {
    return this.outstandingRound;
  }

  enqueue(requester: ReadRequester): void {
    this.waitingForRound.push(requester);
  }

  /** Starts a round for every waiting read, recording commitIndex; returns its number or 0. */
  startRound(commitIndex: number): number {
    if (this.outstandingRound !== 0 || this.waitingForRound.length === 0) return 0;
    this.roundNumber += 1;
    this.outstandingRound = this.roundNumber;
    this.inRound = this.waitingForRound.map((requester) => ({ requester, readIndex: commitIndex }));
    this.waitingForRound = [];
    return this.outstandingRound;
  }

  /** A follower echoed `round`; echoes of rounds we never sent are discarded. */
  acknowledge(from: NodeId, round: number): void {
    if (round <= 0 || round > this.roundNumber) return;
    const previous = this.acknowledged.get(from) ?? 0;
    if (round > previous) this.acknowledged.set(from, round);
  }

  /** Whether `voter` acknowledged the outstanding round (or a later one). */
  hasAcknowledged(voter: NodeId): boolean {
    return this.outstandingRound !== 0 && (this.acknowledged.get(voter) ?? 0) >= this.outstandingRound;
  }

  /** The outstanding round is confirmed by a quorum: its reads are served. */
  completeRound(): ConfirmedRead[] {
    const confirmed = this.inRound.map((read) => ({ requester: read.requester, readIndex: read.readIndex }));
    this.inRound = [];
    this.outstandingRound = 0;
    return confirmed;
  }

  /** Leadership ended: hands back every read so it can be retried through the next leader. */
  drain(): ReadRequester[] {
    const all = [...this.inRound.map((read) => read.requester), ...this.waitingForRound];
    this.inRound = [];
    this.waitingForRound = [];
    this.outstandingRound = 0;
    this.acknowledged.clear();
    return all;
  }

  remove(readId: number): void {
    const keep = (requester: ReadRequester): boolean => requester.type !== 'local' || requester.readId !== readId;
    this.inRound = this.inRound.filter((read) => keep(read.requester));
    this.waitingForRound = this.waitingForRound.filter(keep);
  }
}
