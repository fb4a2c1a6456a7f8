// Errors cross the worker boundary as data and are rebuilt as the same classes on the page, so
// `instanceof NotLeaderError` and fields such as `leader` and `reason` work on both sides.
// (Comlink's own error transfer would give a plain Error with a copied name: no instanceof.)
import {
  ClientIdCollisionError,
  LeadershipLostError,
  LeadershipTransferError,
  MembershipChangeInProgressError,
  NotLeaderError,
  NotMemberError,
  ProposalRejectedError,
  RaftClosedError,
  RaftStorageError,
} from '../core/errors.ts';
import { CorruptStorageError } from '../driver/restore.ts';
import type { SerializedError } from './protocol.ts';

/** Longest message or stack carried across: a runaway message must not become a huge clone. */
const maxTextLength = 8_192;

const clip = (text: string): string => (text.length > maxTextLength ? `${text.slice(0, maxTextLength)}…` : text);

export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { type: 'other', name: 'Error', message: clip(String(error)), stack: null };
  const message = clip(error.message);
  if (error instanceof NotLeaderError) return { type: 'notLeader', message, leader: error.leader };
  if (error instanceof LeadershipLostError) return { type: 'leadershipLost', message };
  if (error instanceof MembershipChangeInProgressError) return { type: 'membershipChangeInProgress', message };
  if (error instanceof LeadershipTransferError) return { type: 'leadershipTransfer', message, reason: error.reason };
  if (error instanceof ClientIdCollisionError) return { type: 'clientIdCollision', message };
  if (error instanceof RaftClosedError) return { type: 'closed', message };
  if (error instanceof ProposalRejectedError) return { type: 'proposalRejected', message };
  if (error instanceof NotMemberError) return { type: 'notMember', message, outcomeUnknown: error.outcomeUnknown };
  if (error instanceof RaftStorageError) return { type: 'storage', message, reason: error.reason };
  if (error instanceof CorruptStorageError) return { type: 'corruptStorage', message };
  if (error instanceof RangeError) return { type: 'range', message };
  if (error instanceof TypeError) return { type: 'typeError', message };
  if (error.name === 'AbortError') return { type: 'aborted', message };
  return { type: 'other', name: clip(error.name), message, stack: error.stack === undefined ? null : clip(error.stack) };
}

/** The same class with the same message and fields as the error that was serialized. */
export function rebuildError(serialized: SerializedError): Error {
  const error = constructError(serialized);
  // Constructors compose their own message; the original one (possibly custom) wins. (An
  // AbortError is a DOMException, whose message is read-only, but it was built with it already.)
  if (error.message !== serialized.message) error.message = serialized.message;
  return error;
}

function constructError(serialized: SerializedError): Error {
  switch (serialized.type) {
    case 'notLeader':
      return new NotLeaderError(serialized.leader);
    case 'leadershipLost':
      return new LeadershipLostError();
    case 'membershipChangeInProgress':
      return new MembershipChangeInProgressError();
    case 'leadershipTransfer':
      return new LeadershipTransferError(serialized.reason);
    case 'clientIdCollision':
      return new ClientIdCollisionError('');
    case 'closed':
      return new RaftClosedError();
    case 'proposalRejected':
      return new ProposalRejectedError(serialized.message);
    case 'notMember':
      return new NotMemberError(serialized.outcomeUnknown);
    case 'storage':
      return new RaftStorageError(serialized.message, { reason: serialized.reason });
    case 'corruptStorage':
      return new CorruptStorageError('');
    case 'range':
      return new RangeError(serialized.message);
    case 'typeError':
      return new TypeError(serialized.message);
    case 'aborted':
      return new DOMException(serialized.message, 'AbortError');
    case 'other':
      return rebuildPlainError(serialized);
  }
}

function rebuildPlainError(serialized: { readonly name: string; readonly message: string; readonly stack: string | null }): Error {
  const error = new Error(serialized.message);
  error.name = serialized.name;
  if (serialized.stack !== null) error.stack = serialized.stack;
  return error;
}

/**
 * The worker hosting a node died (an uncaught error, a failed load): the node is stopped, every
 * pending and later call rejects with this error, and `stopped` shows it.
 */
export class WorkerCrashedError extends Error {
  constructor(detail: string) {
    super(`the raft worker crashed, node stopped: ${detail}`);
    this.name = 'WorkerCrashedError';
  }
}
