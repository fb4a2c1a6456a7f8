// A review found on 2026-12-06 that reassembly kept one copied Uint8Array per chunk: 1-byte chunks
// cost about 200 bytes of memory per byte, so snapshotTotalCeiling bounded bytes, not memory.
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createCoreHarness } from './core-harness.test-support.ts';
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
