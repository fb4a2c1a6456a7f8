import { describe, expect, it } from 'vitest';
import { clientId, nodeId, type LogEntry } from '../core/types.ts';
import { createClientIdentity, wallClockRequestIdFloor } from './client-identity.ts';

const entry = (index: number, owner: string, requestId: number): LogEntry => ({ index, term: 1, command: new Uint8Array(0), isNoOp: false, dedupKey: { clientId: clientId(owner), requestId } });

describe('client identity (§8)', () => {
  it('stamps rising request ids once, and honours a caller-supplied id', () => {
    const identity = createClientIdentity({ type: 'durable', clientId: clientId('writer') }, nodeId('a'), Math.random, []);
    expect(identity.stamp(undefined)).toEqual({ clientId: 'writer', requestId: 1 });
    expect(identity.stamp(10)).toEqual({ clientId: 'writer', requestId: 10 });
    expect(identity.stamp(undefined)?.requestId).toBe(11);
    expect(() => identity.stamp(0)).toThrow(RangeError);
  });

  it('a durable id resumes above the request ids its log already holds', () => {
    const identity = createClientIdentity({ type: 'durable', clientId: clientId('writer') }, nodeId('a'), Math.random, [entry(1, 'writer', 41), entry(2, 'other', 99)]);
    expect(identity.stamp(undefined)?.requestId).toBe(42);
  });

  it('a durable id resumes above the last index storage covers, whose entries compaction may have removed', () => {
    const identity = createClientIdentity({ type: 'durable', clientId: clientId('writer') }, nodeId('a'), Math.random, [entry(90, 'other', 3)], 90);
    expect(identity.stamp(undefined)?.requestId).toBe(91);
    const auto = createClientIdentity({ type: 'auto' }, nodeId('a'), Math.random, [], 90);
    expect(auto.stamp(undefined)?.requestId).toBe(1); // a fresh auto id starts its own ids
  });

  it('a durable id starts above the wall clock floor, which later clocks keep above ids issued before', () => {
    const floor = wallClockRequestIdFloor(Date.UTC(2026, 11, 1, 12, 0, 0));
    const first = createClientIdentity({ type: 'durable', clientId: clientId('writer') }, nodeId('a'), Math.random, [entry(5, 'writer', 4)], 5, floor);
    expect(first.stamp(undefined)?.requestId).toBe(floor + 1);
    for (let issued = 0; issued < 999; issued += 1) first.stamp(undefined); // a thousand ids within a millisecond
    const second = createClientIdentity({ type: 'durable', clientId: clientId('writer') }, nodeId('a'), Math.random, [], 5, wallClockRequestIdFloor(Date.UTC(2026, 11, 1, 12, 0, 0, 1)));
    expect(second.stamp(undefined)?.requestId).toBeGreaterThan(floor + 1000);
    expect(Number.isSafeInteger(wallClockRequestIdFloor(Date.UTC(2255, 0, 1)))).toBe(true);
    // The log's ids still win when they are higher (a caller's own ids may be anything).
    const ahead = createClientIdentity({ type: 'durable', clientId: clientId('writer') }, nodeId('a'), Math.random, [entry(7, 'writer', floor * 2)], 7, floor);
    expect(ahead.stamp(undefined)?.requestId).toBe(floor * 2 + 1);
  });

  it('a durable id seeing a commit it never issued reports a collision', () => {
    const identity = createClientIdentity({ type: 'durable', clientId: clientId('shared') }, nodeId('a'), Math.random, []);
    expect(identity.observeCommitted(entry(1, 'shared', 7))).toEqual({ type: 'none' }); // nothing issued yet: cannot judge
    identity.stamp(undefined);
    expect(identity.observeCommitted(entry(2, 'shared', 1))).toEqual({ type: 'none' }); // our own
    expect(identity.observeCommitted(entry(3, 'shared', 5))).toEqual({ type: 'durableCollision', clientId: 'shared' });
  });

  it('an auto id the restored log already holds (a random source that repeated across a restart) is minted again', () => {
    const seeded = (): (() => number) => {
      let draws = 0;
      return () => ((draws += 1) % 11) / 11;
    };
    const earlier = createClientIdentity({ type: 'auto' }, nodeId('a'), seeded(), []).clientId;
    const restarted = createClientIdentity({ type: 'auto' }, nodeId('a'), seeded(), [entry(1, earlier, 1), entry(2, earlier, 2)], 2);
    expect(restarted.clientId).toMatch(/^a-[0-9a-f]{16}$/);
    expect(restarted.clientId).not.toBe(earlier);
    expect(restarted.stamp(undefined)).toEqual({ clientId: restarted.clientId, requestId: 1 });
    // A source that never changes cannot give a fresh id: the request ids then start above the held ones.
    const stuck = createClientIdentity({ type: 'auto' }, nodeId('a'), () => 0.5, [entry(1, createClientIdentity({ type: 'auto' }, nodeId('a'), () => 0.5, []).clientId, 7)], 1);
    expect(stuck.stamp(undefined)?.requestId).toBe(8);
  });

  it('an auto id that collides mints a fresh suffix and starts its request ids again', () => {
    let draws = 0;
    const random = (): number => ((draws += 1) % 7) / 7;
    const identity = createClientIdentity({ type: 'auto' }, nodeId('a'), random, []);
    const before = identity.clientId;
    expect(before).toMatch(/^a-[0-9a-f]{16}$/);
    identity.stamp(undefined);
    const verdict = identity.observeCommitted(entry(5, before, 3));
    expect(verdict.type).toBe('reminted');
    expect(identity.clientId).not.toBe(before);
    expect(identity.stamp(undefined)).toEqual({ clientId: identity.clientId, requestId: 1 });
  });
});
