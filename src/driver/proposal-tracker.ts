// The promises of propose(): at most `window` proposals of this node are unresolved at once, and
// their request ids span less than `window` (the ClientSessionTable's anti-replay window relies
// on it: any reordering of our forwards stays inside the window); further ones wait, in order, in
// a bounded queue, and abort works in both.
//
// The span, not only the count: a count lets later proposals commit, resolve and free their slots
// while one forward is lost and waits for its retry, until the node has issued a window of ids
// past it; the retry then commits below every table's window, propose resolves, and no replica
// applies it (found by a review, 2026-12-06). So a proposal enters only while its id is less than
// a window above the lowest unresolved one, and a caller's id is checked again when it enters.
import { LeadershipLostError, NotMemberError, ProposalRejectedError } from '../core/errors.ts';
import type { RaftMetric } from '../core/events.ts';
import type { ProposalFailure, ProposalOutcome } from '../core/ready.ts';
import type { DedupKey, LogEntry } from '../core/types.ts';
import { watchAbort } from './abort-watch.ts';
import { applicationCopies, type HandOut } from './application-copies.ts';
import { createUnresolvedRequestIds } from './unresolved-request-ids.ts';

export interface ProposalTrackerOptions {
  readonly window: number;
  readonly maxWaiting: number;
  readonly slowThresholdMs: number;
  now(): number;
  /** Throws for a caller's request id the proposal must not carry (see ClientIdentityState.checkCallerRequestId). */
  checkRequestId(requestId: number): void;
  /** The id stamp(requestId) would give now; null when proposals carry no key. */
  requestIdFor(requestId: number | undefined): number | null;
  stamp(requestId: number | undefined): DedupKey | null;
  submit(proposalId: number, command: Uint8Array, key: DedupKey | null): void;
  abandon(proposalId: number): void;
  emitMetric(metric: RaftMetric): void;
  /** What a resolved proposal hands out (application-copies.ts). Default: a copy. */
  readonly handOut?: HandOut;
  /** Metrics cost an allocation per proposal: skipped when nobody listens. */
  readonly measuring: boolean;
}

interface Proposal {
  readonly command: Uint8Array;
  readonly requestId: number | undefined;
  readonly signal: AbortSignal | undefined;
  resolve(entry: LogEntry): void;
  reject(error: unknown): void;
  startedAt: number;
  proposalId: number; // 0 while waiting for room in the window
}

export interface ProposalTracker {
  propose(command: Uint8Array, requestId: number | undefined, signal: AbortSignal | undefined): Promise<LogEntry>;
  settle(outcome: ProposalOutcome): void;
  rejectAll(error: unknown): void;
  readonly inFlight: number;
}

export function createProposalTracker(options: ProposalTrackerOptions): ProposalTracker {
  const inFlight = new Map<number, Proposal>();
  const waiting: Proposal[] = [];
  const unresolvedIds = createUnresolvedRequestIds();
  let nextProposalId = 1;

  /** Room in the window: a slot, and an id less than a window above the lowest unresolved one. */
  const admissible = (proposal: Proposal): boolean => {
    if (inFlight.size >= options.window) return false;
    const requestId = options.requestIdFor(proposal.requestId);
    const lowest = unresolvedIds.lowest();
    return requestId === null || lowest === null || requestId < lowest + options.window;
  };

  const submit = (proposal: Proposal): void => {
    // Checked again on entry: ids used since the call (a proposal without an id, stamped from the
    // clock while this one waited) may have put this one out of every table's window.
    if (proposal.requestId !== undefined) {
      try {
        options.checkRequestId(proposal.requestId);
      } catch (error) {
        proposal.reject(error);
        return;
      }
    }
    proposal.proposalId = nextProposalId++;
    inFlight.set(proposal.proposalId, proposal);
    const key = options.stamp(proposal.requestId);
    if (key !== null) unresolvedIds.add(proposal.proposalId, key.requestId);
    options.submit(proposal.proposalId, proposal.command, key);
  };

  const admitWaiting = (): void => {
    while (waiting.length > 0 && admissible(waiting[0] as Proposal)) submit(waiting.shift() as Proposal);
  };

  const finish = (proposal: Proposal): void => {
    inFlight.delete(proposal.proposalId);
    unresolvedIds.remove(proposal.proposalId);
    admitWaiting();
  };

  return {
    propose(command, requestId, signal) {
      return new Promise<LogEntry>((resolve, reject) => {
        // Checked before the proposal is registered: stamping happens only when it enters the
        // window, where a throw would leave its slot taken forever (or, admitted from the
        // waiting queue inside a step, stop the node).
        if (requestId !== undefined) options.checkRequestId(requestId);
        const proposal: Proposal = { command, requestId, signal, startedAt: options.measuring ? options.now() : 0, proposalId: 0, resolve, reject };
        if (signal !== undefined) {
          // Only an abortable proposal pays for the extra closures.
          const onAbort = (): void => {
            const position = waiting.indexOf(proposal);
            if (position >= 0) {
              waiting.splice(position, 1);
              // The first in the queue may have held back the ones behind it.
              if (position === 0) admitWaiting();
            } else if (inFlight.has(proposal.proposalId)) {
              options.abandon(proposal.proposalId);
              finish(proposal);
            } else return;
            reject(signal.reason);
          };
          const endWatch = watchAbort(signal, onAbort);
          proposal.resolve = (entry) => {
            endWatch();
            resolve(entry);
          };
          proposal.reject = (error) => {
            endWatch();
            reject(error);
          };
        }
        // In order: nothing overtakes a proposal already waiting.
        if (waiting.length === 0 && admissible(proposal)) {
          submit(proposal);
        } else if (waiting.length >= options.maxWaiting) {
          proposal.reject(new ProposalRejectedError(`${options.maxWaiting} proposals are already waiting; retry later`));
        } else {
          waiting.push(proposal);
        }
      });
    },
    settle(outcome) {
      const proposal = inFlight.get(outcome.proposalId);
      if (proposal === undefined) return;
      const elapsedMs = options.measuring ? options.now() - proposal.startedAt : 0;
      switch (outcome.type) {
        case 'accepted':
          if (options.measuring) options.emitMetric({ type: 'proposeAccepted', index: outcome.index });
          return;
        case 'committed':
          finish(proposal);
          if (options.measuring) {
            options.emitMetric({ type: 'proposeCommitted', index: outcome.entry.index, elapsedMs });
            options.emitMetric({ type: 'proposeApplied', index: outcome.entry.index, elapsedMs });
            if (elapsedMs > options.slowThresholdMs) options.emitMetric({ type: 'proposeSlow', index: outcome.entry.index, elapsedMs });
          }
          // The application's own copy (application-copies.ts): the log's shares a buffer.
          proposal.resolve((options.handOut ?? applicationCopies).entry(outcome.entry));
          return;
        case 'failed':
          finish(proposal);
          proposal.reject(failureError(outcome.failure));
          return;
      }
    },
    rejectAll(error) {
      const all = [...inFlight.values(), ...waiting];
      inFlight.clear();
      unresolvedIds.clear();
      waiting.length = 0;
      for (const proposal of all) proposal.reject(error);
    },
    get inFlight() {
      return inFlight.size;
    },
  };
}

function failureError(failure: ProposalFailure): Error {
  switch (failure) {
    case 'leadershipLost':
      return new LeadershipLostError();
    case 'overloaded':
      return new ProposalRejectedError('the leader has too many uncommitted proposals; retry later');
    case 'notMember':
      return new NotMemberError(false);
    case 'removedWhileInFlight':
      return new NotMemberError(true);
  }
}
