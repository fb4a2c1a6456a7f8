// The errors callers see (API.md "Errors"): each extends Error, names itself after its class
// (what survives a worker boundary), and carries the data the contract gives it.
import { describe, expect, it } from 'vitest';
import {
  ClientIdCollisionError,
  LeadershipLostError,
  LeadershipTransferError,
  MembershipChangeInProgressError,
  NotLeaderError,
  RaftClosedError,
} from './errors.ts';
import { nodeId } from './types.ts';

describe('errors (API.md "Errors")', () => {
  it('each extends Error and sets name to its class name', () => {
    const errors: Error[] = [
      new NotLeaderError(nodeId('a')),
      new LeadershipLostError(),
      new MembershipChangeInProgressError(),
      new LeadershipTransferError('timeout'),
      new ClientIdCollisionError('writer'),
      new RaftClosedError(),
    ];
    for (const error of errors) {
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe(error.constructor.name);
      expect(error.message).not.toBe('');
    }
  });

  it('NotLeaderError carries the leader it knows, and null when built without one', () => {
    expect(new NotLeaderError(nodeId('b')).leader).toBe('b');
    const unknown = new NotLeaderError();
    expect(unknown.leader).toBeNull();
    expect(unknown.message).toBe('not the current leader (no leader known)');
  });

  it('LeadershipTransferError carries its reason', () => {
    expect(new LeadershipTransferError('cancelled').reason).toBe('cancelled');
  });
});
