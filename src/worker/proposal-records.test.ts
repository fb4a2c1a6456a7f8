// A burst of proposals crosses to the worker as one buffer (proposal-records.ts): each proposal
// arrives with its call id, request id and the bytes it had at the call, and a proposal whose
// call was aborted before the burst went does not arrive at all.
import { describe, expect, it } from 'vitest';
import { createProposalBurst, decodeProposalBurst } from './proposal-records.ts';

const plain = (proposals: ReturnType<typeof decodeProposalBurst>): unknown[] => proposals.map(({ callId, command, requestId }) => [callId, [...command], requestId]);

describe('proposal bursts', () => {
  it('each proposal arrives with its ids and the bytes it had when proposed', () => {
    const burst = createProposalBurst();
    const reused = new Uint8Array([1, 2, 3]);
    burst.add(1, reused, null, false);
    reused.fill(9); // an encoder reusing its output buffer right after propose returned
    burst.add(2, reused, 1, false);
    burst.add(2 ** 40, new Uint8Array(0), Number.MAX_SAFE_INTEGER, false);
    expect(burst.size).toBe(3);
    expect(plain(decodeProposalBurst(burst.finish()))).toEqual([
      [1, [1, 2, 3], null],
      [2, [9, 9, 9], 1],
      [2 ** 40, [], Number.MAX_SAFE_INTEGER],
    ]);
  });

  it('holds exactly its proposals: a view into a large buffer does not bring that buffer along', () => {
    const burst = createProposalBurst();
    const arena = new Uint8Array(64 * 1024);
    for (let callId = 1; callId <= 20; callId += 1) burst.add(callId, arena.subarray(callId * 100, callId * 100 + 100).fill(callId), null, false);
    const buffer = burst.finish();
    expect(buffer.byteLength).toBe(20 * (1 + 1 + 1 + 100)); // call id, no request id, length, bytes
    const proposals = decodeProposalBurst(buffer);
    expect(proposals.map(({ command }) => command.length === 100 && command.every((byte) => byte === command[0]) && command[0])).toEqual(Array.from({ length: 20 }, (_, position) => position + 1));
  });

  it('a removed proposal is left out, the others keep their order; removing twice or an unknown id says false', () => {
    const burst = createProposalBurst();
    for (let callId = 1; callId <= 4; callId += 1) burst.add(callId, new Uint8Array([callId]), callId === 3 ? 30 : null, false);
    expect(burst.remove(2)).toBe(true);
    expect(burst.remove(2)).toBe(false);
    expect(burst.remove(99)).toBe(false);
    expect(burst.size).toBe(3);
    expect(plain(decodeProposalBurst(burst.finish()))).toEqual([
      [1, [1], null],
      [3, [3], 30],
      [4, [4], null],
    ]);
  });

  it('refuses a request id that is not a positive safe integer before writing any of it: the other proposals arrive intact', () => {
    // The page validates first (remote-node.ts, as createRaftNode does); this guards the burst.
    const burst = createProposalBurst();
    burst.add(1, new Uint8Array([1]), 5, false);
    for (const odd of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60, '5' as unknown as number]) {
      expect(() => burst.add(2, new Uint8Array([2]), odd, true)).toThrow(RangeError);
    }
    burst.add(3, new Uint8Array([3]), null, true);
    expect(plain(decodeProposalBurst(burst.finish()))).toEqual([
      [1, [1], 5],
      [3, [3], null],
    ]);
  });

  it('carries a command of any length (the engine refuses one too large with its own error)', () => {
    const burst = createProposalBurst();
    burst.add(1, new Uint8Array(100_000).fill(5), null, false);
    const [proposal] = decodeProposalBurst(burst.finish());
    expect(proposal?.command.length).toBe(100_000);
  });

  it('refuses a malformed burst loudly', () => {
    const burst = createProposalBurst();
    burst.add(1, new Uint8Array(10), null, false);
    const bytes = new Uint8Array(burst.finish());
    expect(() => decodeProposalBurst(bytes.slice(0, bytes.length - 1).buffer)).toThrow(/malformed proposal batch: truncated/);
    expect(() => decodeProposalBurst(new Uint8Array([1, 3]).buffer)).toThrow(/request id form 3/);
    // The form that carried an unvalidated id as text is gone: the page sends only counters.
    expect(() => decodeProposalBurst(new Uint8Array([1, 2, 1, 49, 0]).buffer)).toThrow(/request id form 2/);
    expect(() => decodeProposalBurst(new Uint8Array([1, 8, 0]).buffer)).toThrow(/request id form 8/);
  });

  it('says which proposals the caller can abort, whatever their request id', () => {
    const burst = createProposalBurst();
    const requestIds = [null, 7, 9, null, 8, 2 ** 40];
    requestIds.forEach((requestId, position) => burst.add(position + 1, new Uint8Array([position]), requestId, position >= 3));
    const proposals = decodeProposalBurst(burst.finish());
    expect(proposals.map(({ abortable }) => abortable)).toEqual([false, false, false, true, true, true]);
    expect(proposals.map(({ requestId }) => requestId)).toEqual(requestIds);
  });
});
