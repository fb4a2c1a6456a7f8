// Errors cross the boundary as data (structured clone) and come back as the same classes with the
// same fields, so callers on the page can branch with instanceof exactly as with createRaftNode.
import { describe, expect, it } from 'vitest';
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
import { nodeId } from '../core/types.ts';
import { CorruptStorageError } from '../driver/restore.ts';
import { rebuildError, serializeError } from './error-transfer.ts';

const acrossTheBoundary = (error: unknown): Error => rebuildError(structuredClone(serializeError(error)));

describe('error transfer', () => {
  it('rebuilds every error class of the API with its name, message and fields', () => {
    const originals: Error[] = [
      new NotLeaderError(nodeId('b')),
      new NotLeaderError(null),
      new LeadershipLostError(),
      new MembershipChangeInProgressError(),
      new LeadershipTransferError('timeout'),
      new ClientIdCollisionError('writer-1'),
      new RaftClosedError(),
      new ProposalRejectedError('too many uncommitted proposals'),
      new NotMemberError(false),
      new NotMemberError(true),
      new RaftStorageError('quota exceeded while appending', { reason: 'quotaExceeded' }),
      new CorruptStorageError('entry 1 has term 5 above the stored term 1'),
      new RangeError('propose(command): 9 bytes exceeds ...'),
      new TypeError('propose(command): command must be a Uint8Array'),
    ];
    for (const original of originals) {
      const rebuilt = acrossTheBoundary(original);
      expect(rebuilt).toBeInstanceOf(original.constructor);
      expect(rebuilt.name).toBe(original.name);
      expect(rebuilt.message).toBe(original.message);
    }
    const notLeader = acrossTheBoundary(new NotLeaderError(nodeId('b')));
    expect(notLeader instanceof NotLeaderError && notLeader.leader).toBe('b');
    const transfer = acrossTheBoundary(new LeadershipTransferError('notVoter'));
    expect(transfer instanceof LeadershipTransferError && transfer.reason).toBe('notVoter');
    const toWitness = acrossTheBoundary(new LeadershipTransferError('neverLeads'));
    expect(toWitness instanceof LeadershipTransferError && toWitness.reason).toBe('neverLeads');
    const removed = acrossTheBoundary(new NotMemberError(true));
    expect(removed instanceof NotMemberError && removed.outcomeUnknown).toBe(true);
    const storage = acrossTheBoundary(new RaftStorageError('gone', { reason: 'databaseDeleted' }));
    expect(storage instanceof RaftStorageError && storage.reason).toBe('databaseDeleted');
  });

  it('keeps other errors as plain Errors with their name, message and stack; non-errors as text', () => {
    class CustomError extends Error {
      constructor() {
        super('custom failure');
        this.name = 'CustomError';
      }
    }
    const rebuilt = acrossTheBoundary(new CustomError());
    expect(rebuilt).toBeInstanceOf(Error);
    expect([rebuilt.name, rebuilt.message]).toEqual(['CustomError', 'custom failure']);
    expect(rebuilt.stack).toContain('custom failure');
    const aborted = acrossTheBoundary(new DOMException('stopped waiting', 'AbortError'));
    expect([aborted.name, aborted.message]).toEqual(['AbortError', 'stopped waiting']);
    expect(acrossTheBoundary('plain text').message).toBe('plain text');
  });

  it('bounds the size of what crosses: a huge message is clipped', () => {
    const rebuilt = acrossTheBoundary(new Error('x'.repeat(1_000_000)));
    expect(rebuilt.message.length).toBeLessThan(10_000);
  });
});
