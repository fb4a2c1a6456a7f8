// A review found on 2026-12-06 that reassembly kept one copied Uint8Array per chunk: 1-byte chunks
// cost about 200 bytes of memory per byte, so snapshotTotalCeiling bounded bytes, not memory.
// An outside review (snap52) found a half-built reassembly kept for good once its transfer was
// abandoned (a leader change mid-stream, the follower then brought up to date from the log).
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createCoreHarness, type HarnessNode } from './core-harness.test-support.ts';
import type { InstallSnapshot } from './messages.ts';
import { acceptChunk, type SnapshotReassembly } from './snapshot-reassembly.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function retainedBytes(): number {
  gc();
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

const meta = { lastIncludedIndex: 10, lastIncludedTerm: 2 };

function oneByteChunk(offset: number, totalBytes: number): InstallSnapshot {
  return { type: 'installSnapshot', term: 3, meta, totalBytes, offset, data: new Uint8Array([offset & 0xff]) };
}

describe('snapshot reassembly memory', () => {
  it('the buffer stays within twice the bytes received (or one first buffer), whatever total the sender claims', () => {
    const claimedBytes = 64 * 1024 * 1024;
    let reassembly: SnapshotReassembly | null = null;
    for (let offset = 0; offset < 100_000; offset += 1) {
      const verdict = acceptChunk(reassembly, oneByteChunk(offset, claimedBytes), claimedBytes);
      if (verdict.type !== 'progress') throw new Error(`expected progress, got ${verdict.type}`);
      reassembly = verdict.reassembly;
      expect(reassembly.buffer.length).toBeLessThanOrEqual(Math.max(16 * 1024, 2 * reassembly.received));
    }
    expect(reassembly?.received).toBe(100_000);
  });

  it('a completed reassembly is exactly the bytes sent, in order, and no larger', () => {
    const totalBytes = 40_000;
    let reassembly: SnapshotReassembly | null = null;
    let state: Uint8Array | null = null;
    for (let offset = 0; offset < totalBytes; offset += 1) {
      const verdict = acceptChunk(reassembly, oneByteChunk(offset, totalBytes), totalBytes);
      if (verdict.type === 'complete') state = verdict.state;
      else if (verdict.type === 'progress') reassembly = verdict.reassembly;
      else throw new Error(`unexpected ${verdict.type}`);
    }
    expect(state?.length).toBe(totalBytes);
    expect(state?.every((byte, offset) => byte === (offset & 0xff))).toBe(true);
  });

  it('memory held by a partial reassembly of 1-byte chunks stays within a small multiple of the bytes received', () => {
    const harness = createCoreHarness(['a', 'b', 'c'], 3);
    harness.advance(2_000);
    const [leader] = harness.leaders();
    if (leader === undefined) throw new Error('no leader');
    const follower = [...harness.nodes.values()].find((node) => node !== leader)!;
    const term = leader.core.term;
    const chunks = 1_000_000; // a 1 MB snapshot, one byte per frame, the last byte withheld
    const totalBytes = chunks + 1;
    const streamedMeta = { lastIncludedIndex: 1_000, lastIncludedTerm: term };
    const frame = new Uint8Array(64); // a decoded frame: data is a view into it
    const before = retainedBytes();
    for (let offset = 0; offset < chunks; offset += 1) {
      const message: InstallSnapshot = { type: 'installSnapshot', term, meta: streamedMeta, totalBytes, offset, data: frame.subarray(offset % 63, (offset % 63) + 1) };
      follower.core.receive(harness.now, leader.id, message);
      if (offset % 10_000 === 0) while (follower.core.takeReady() !== null);
    }
    while (follower.core.takeReady() !== null);
    const heldPerByte = (retainedBytes() - before) / chunks;
    expect(follower.core.commitIndex).toBeLessThan(1_000); // still reassembling
    expect(heldPerByte).toBeLessThanOrEqual(8);
  }, 120_000);
});

/** The follower's half-built snapshot (core-state.ts `reassembly`), read through the core's internals. */
function reassemblyOf(node: HarnessNode): { readonly received: number; readonly buffer: Uint8Array; readonly meta: { readonly lastIncludedIndex: number } } | null {
  return (node.core as unknown as { core: { reassembly: { received: number; buffer: Uint8Array; meta: { lastIncludedIndex: number } } | null } }).core.reassembly;
}

describe('a half-built snapshot outlives the transfer it belonged to (review snap52)', () => {
  it('after a leader change mid-transfer, a follower brought up to date from the new leader\'s log drops the old reassembly buffer', () => {
    const chunkBytes = 1024;
    const harness = createCoreHarness(['a', 'b', 'c'], 3, ['a', 'b', 'c'], { snapshotChunkCeiling: chunkBytes, snapshotBytesPerSecond: 16 * 1024 });
    harness.advance(400);
    const leader = harness.leaders()[0]!;
    const [follower, other] = [...harness.nodes.values()].filter((node) => node !== leader) as [HarnessNode, HarnessNode];
    harness.isolate(follower.id);
    for (let k = 1; k <= 5; k += 1) leader.core.propose(harness.now, k, new Uint8Array([k]), null);
    harness.advance(20);
    // A 256 KiB snapshot: 16 s at 16 KiB/s.
    leader.core.publishSnapshot(harness.now, leader.core.applicableIndex, new Uint8Array(256 * 1024).fill(7));
    harness.settle();
    harness.heal();
    harness.advance(4_000); // about a quarter of the stream
    const partial = reassemblyOf(follower);
    expect(partial?.received ?? 0).toBeGreaterThan(32 * 1024);
    // The leader goes away; the other voter, which never compacted, leads and replicates from its log.
    harness.isolate(leader.id);
    harness.advance(3_000);
    const newLeader = harness.leaders().find((node) => node !== leader);
    expect(newLeader?.id).toBe(other.id);
    expect(follower.core.commitIndex).toBe(other.core.commitIndex);
    expect(follower.core.commitIndex).toBeGreaterThan(partial?.meta.lastIncludedIndex ?? Number.POSITIVE_INFINITY);
    // Nothing will ever complete that reassembly (its index is committed here now), yet its buffer stays.
    harness.advance(30_000);
    expect(reassemblyOf(follower)?.buffer.length ?? 0).toBe(0);
  }, 60_000);

  it('within one term, a reassembly goes once the commit index reaches its index from the log', () => {
    const harness = createCoreHarness(['a', 'b', 'c'], 3);
    harness.advance(2_000);
    const leader = harness.leaders()[0]!;
    const follower = [...harness.nodes.values()].find((node) => node !== leader)!;
    const term = leader.core.term;
    const ahead = follower.core.commitIndex + 3;
    // The first chunk of a snapshot through an index the follower has not committed yet, from its own leader.
    const chunk: InstallSnapshot = { type: 'installSnapshot', term, meta: { lastIncludedIndex: ahead, lastIncludedTerm: term }, totalBytes: 4096, offset: 0, data: new Uint8Array(1024) };
    follower.core.receive(harness.now, leader.id, chunk);
    while (follower.core.takeReady() !== null);
    expect(reassemblyOf(follower)?.received).toBe(1024);
    for (let k = 1; k <= 2; k += 1) leader.core.propose(harness.now, k, new Uint8Array([k]), null);
    harness.advance(100);
    expect(follower.core.commitIndex).toBeLessThan(ahead);
    expect(reassemblyOf(follower)?.received).toBe(1024); // still a snapshot the follower may need
    leader.core.propose(harness.now, 3, new Uint8Array([3]), null);
    harness.advance(100);
    expect(follower.core.commitIndex).toBeGreaterThanOrEqual(ahead);
    expect(reassemblyOf(follower)).toBeNull();
  });
});
