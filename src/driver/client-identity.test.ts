import { describe, expect, it } from 'vitest';
import { clientId, nodeId, type LogEntry } from '../core/types.ts';
import { seededRandom } from '../testing/seeded-random.ts';
import { clockRequestIdFloor, createClientIdentity, wallClockRequestIdFloor } from './client-identity.ts';

const entry = (index: number, owner: string, requestId: number): LogEntry => ({ index, term: 1, command: new Uint8Array(0), isNoOp: false, dedupKey: { clientId: clientId(owner), requestId } });

describe('client identity (§8)', () => {
  it('stamps rising request ids once, and honours a caller-supplied id', () => {
    const identity = createClientIdentity({ type: 'durable', clientId: clientId('writer') }, nodeId('a'), Math.random, { restoredEntries: [] });
    expect(identity.stamp(undefined)).toEqual({ clientId: 'writer', requestId: 1 });
    expect(identity.stamp(10)).toEqual({ clientId: 'writer', requestId: 10 });
    expect(identity.stamp(undefined)?.requestId).toBe(11);
    expect(() => identity.stamp(0)).toThrow(RangeError);
  });

  it('a durable id resumes above the request ids its log already holds', () => {
    const identity = createClientIdentity({ type: 'durable', clientId: clientId('writer') }, nodeId('a'), Math.random, { restoredEntries: [entry(1, 'writer', 41), entry(2, 'other', 99)] });
    expect(identity.stamp(undefined)?.requestId).toBe(42);
  });

  it('a durable id resumes above the last index storage covers, whose entries compaction may have removed', () => {
    const identity = createClientIdentity({ type: 'durable', clientId: clientId('writer') }, nodeId('a'), Math.random, { restoredEntries: [entry(90, 'other', 3)], restoredLastIndex: 90 });
    expect(identity.stamp(undefined)?.requestId).toBe(91);
    const auto = createClientIdentity({ type: 'auto' }, nodeId('a'), Math.random, { restoredEntries: [], restoredLastIndex: 90 });
    expect(auto.stamp(undefined)?.requestId).toBe(1); // a fresh auto id starts its own ids
  });

  it('a durable id starts above the wall clock floor, which later clocks keep above ids issued before', () => {
    const floor = wallClockRequestIdFloor(Date.UTC(2026, 11, 1, 12, 0, 0));
    const first = createClientIdentity({ type: 'durable', clientId: clientId('writer') }, nodeId('a'), Math.random, { restoredEntries: [entry(5, 'writer', 4)], restoredLastIndex: 5, clockFloor: floor });
    expect(first.stamp(undefined)?.requestId).toBe(floor + 1);
    for (let issued = 0; issued < 999; issued += 1) first.stamp(undefined); // a thousand ids within a millisecond
    const second = createClientIdentity({ type: 'durable', clientId: clientId('writer') }, nodeId('a'), Math.random, { restoredEntries: [], restoredLastIndex: 5, clockFloor: wallClockRequestIdFloor(Date.UTC(2026, 11, 1, 12, 0, 0, 1)) });
    expect(second.stamp(undefined)?.requestId).toBeGreaterThan(floor + 1000);
    expect(Number.isSafeInteger(wallClockRequestIdFloor(Date.UTC(2255, 0, 1)))).toBe(true);
    // The log's ids still win when they are higher (a caller's own ids may be anything).
    const ahead = createClientIdentity({ type: 'durable', clientId: clientId('writer') }, nodeId('a'), Math.random, { restoredEntries: [entry(7, 'writer', floor * 2)], restoredLastIndex: 7, clockFloor: floor });
    expect(ahead.stamp(undefined)?.requestId).toBe(floor * 2 + 1);
  });

  it('a durable id seeing a commit it never issued reports a collision', () => {
    const identity = createClientIdentity({ type: 'durable', clientId: clientId('shared') }, nodeId('a'), Math.random, { restoredEntries: [] });
    identity.stamp(undefined);
    expect(identity.observeCommitted(entry(2, 'shared', 1))).toEqual({ type: 'none' }); // our own
    expect(identity.observeCommitted(entry(3, 'shared', 5))).toEqual({ type: 'durableCollision', clientId: 'shared' });
  });

  it('before its first proposal a durable id moves its ids past an entry it cannot explain; after it, such an entry is a collision', () => {
    // Before the first proposal the entry may be an earlier incarnation's, in flight at the crash
    // under an id its caller chose (SPEC's recipe), or a second live writer's: the ids jump well
    // past it, so a live writer behind meets ours first and is refused by its own check.
    const second = createClientIdentity({ type: 'durable', clientId: clientId('shared') }, nodeId('b'), Math.random, { restoredEntries: [], clockFloor: 5_000 });
    expect(second.observeCommitted(entry(1, 'shared', 5_001))).toEqual({ type: 'none' });
    expect(second.stamp(undefined)?.requestId).toBe(5_002 + 2 ** 20);
    expect(second.observeCommitted(entry(2, 'shared', 5_003))).toEqual({ type: 'none' }); // behind us: its writer is refused on its side
    expect(second.observeCommitted(entry(3, 'shared', 5_003 + 2 ** 20))).toEqual({ type: 'durableCollision', clientId: 'shared' });
    // A caller replaying its own id later goes on as before.
    const restarted = createClientIdentity({ type: 'durable', clientId: clientId('shared') }, nodeId('b'), Math.random, { restoredEntries: [], clockFloor: 5_000 });
    expect(restarted.observeCommitted(entry(1, 'shared', 9_000_000))).toEqual({ type: 'none' });
    expect(restarted.stamp(9_000_000)).toEqual({ clientId: 'shared', requestId: 9_000_000 });
    // An auto id re-mints at once when an entry under it commits before it issued anything.
    const auto = createClientIdentity({ type: 'auto' }, nodeId('b'), () => 0.25, { restoredEntries: [] });
    const verdict = auto.observeCommitted(entry(4, auto.clientId, 1));
    expect(verdict.type).toBe('reminted');
  });

  it('an injected clock gives a request id floor, except a reading that cannot serve', () => {
    expect(clockRequestIdFloor(1_234.9)).toBe(1_234_000);
    expect(clockRequestIdFloor(0)).toBe(0);
    expect(clockRequestIdFloor(-5)).toBe(0);
    expect(clockRequestIdFloor(Number.NaN)).toBe(0);
    expect(clockRequestIdFloor(Number.POSITIVE_INFINITY)).toBe(0);
    expect(clockRequestIdFloor(2 ** 52)).toBe(0); // ids would leave the safe integers
  });

  it('a repeating random source mints another auto id when the incarnation starts elsewhere in time or storage', () => {
    const mint = (salt: string): string => createClientIdentity({ type: 'auto' }, nodeId('a'), seededRandom(7), { restoredEntries: [], salt }).clientId;
    expect(mint('0:0:0')).toBe(mint('0:0:0'));
    expect(new Set([mint('0:0:0'), mint('250:0:0'), mint('0:1:0'), mint('0:0:4'), mint('')]).size).toBe(5);
    for (const salt of ['0:0:0', '250:3:17']) expect(mint(salt)).toMatch(/^a-[0-9a-f]{16}$/);
  });

  it('an auto id the restored log already holds (a random source that repeated across a restart) is minted again', () => {
    const seeded = (): (() => number) => {
      let draws = 0;
      return () => ((draws += 1) % 11) / 11;
    };
    const earlier = createClientIdentity({ type: 'auto' }, nodeId('a'), seeded(), { restoredEntries: [] }).clientId;
    const restarted = createClientIdentity({ type: 'auto' }, nodeId('a'), seeded(), { restoredEntries: [entry(1, earlier, 1), entry(2, earlier, 2)], restoredLastIndex: 2 });
    expect(restarted.clientId).toMatch(/^a-[0-9a-f]{16}$/);
    expect(restarted.clientId).not.toBe(earlier);
    expect(restarted.stamp(undefined)).toEqual({ clientId: restarted.clientId, requestId: 1 });
    // A source that never changes cannot give a fresh id: the request ids then start above the held ones.
    const stuck = createClientIdentity({ type: 'auto' }, nodeId('a'), () => 0.5, { restoredEntries: [entry(1, createClientIdentity({ type: 'auto' }, nodeId('a'), () => 0.5, { restoredEntries: [] }).clientId, 7)], restoredLastIndex: 1 });
    expect(stuck.stamp(undefined)?.requestId).toBe(8);
  });

  it('an auto id that collides mints a fresh suffix and starts its request ids again', () => {
    let draws = 0;
    const random = (): number => ((draws += 1) % 7) / 7;
    const identity = createClientIdentity({ type: 'auto' }, nodeId('a'), random, { restoredEntries: [] });
    const before = identity.clientId;
    expect(before).toMatch(/^a-[0-9a-f]{16}$/);
    identity.stamp(undefined);
    const verdict = identity.observeCommitted(entry(5, before, 3));
    expect(verdict.type).toBe('reminted');
    expect(identity.clientId).not.toBe(before);
    expect(identity.stamp(undefined)).toEqual({ clientId: identity.clientId, requestId: 1 });
  });

  it('refuses a caller\'s request id that every session table would skip: more than a window below one the client used', () => {
    const identity = createClientIdentity({ type: 'durable', clientId: clientId('writer') }, nodeId('a'), Math.random, { restoredEntries: [], clockFloor: 5_000_000 });
    identity.checkCallerRequestId(1); // nothing used yet: any id goes
    const issued = identity.stamp(undefined)?.requestId ?? 0; // the node's own id, above the clock floor
    expect(issued).toBe(5_000_001);
    expect(() => identity.checkCallerRequestId(3)).toThrow(/requestId 3 is more than 1024 below request id 5000001, which client "writer" already used/);
    identity.checkCallerRequestId(issued - 1023); // a retry inside the window still goes
    expect(() => identity.checkCallerRequestId(issued - 1024)).toThrow(RangeError);
    // The caller's own ids count the same way.
    const own = createClientIdentity({ type: 'durable', clientId: clientId('writer') }, nodeId('a'), Math.random, { restoredEntries: [] });
    own.stamp(2_000);
    own.checkCallerRequestId(977);
    expect(() => own.checkCallerRequestId(976)).toThrow(RangeError);
  });

  it('counts the ids its restored log holds and the ones it sees committed under its own id', () => {
    const restored = createClientIdentity({ type: 'durable', clientId: clientId('writer') }, nodeId('a'), Math.random, { restoredEntries: [entry(1, 'writer', 9_000), entry(2, 'other', 90_000)] });
    expect(() => restored.checkCallerRequestId(7_976)).toThrow(RangeError);
    restored.checkCallerRequestId(7_977);
    const watching = createClientIdentity({ type: 'durable', clientId: clientId('writer') }, nodeId('a'), Math.random, { restoredEntries: [] });
    expect(watching.observeCommitted(entry(3, 'other', 90_000)).type).toBe('none');
    watching.checkCallerRequestId(1);
    watching.observeCommitted(entry(4, 'writer', 5_000));
    expect(() => watching.checkCallerRequestId(1)).toThrow(RangeError);
    // A keyless identity sends no keys, so it has nothing to refuse.
    const keyless = createClientIdentity({ type: 'none' }, nodeId('a'), Math.random, { restoredEntries: [entry(1, 'a', 9_000)] });
    keyless.checkCallerRequestId(1);
  });
});
