// The engine sizes snapshot chunks from core/snapshot-frame.ts's count of the frame's bytes, which
// follows this codec's layout without importing it: paired here with real encodings, so a change
// to either that breaks the count fails. (A review found on 2026-12-06 that a constant headroom
// let frames with long ids exceed the transport's bound.)
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InstallSnapshot } from '../core/messages.ts';
import { snapshotChunkBytes, snapshotMetaBytes, varintBytes } from '../core/snapshot-frame.ts';
import type { ConfigPayload, NodeId, SnapshotMeta } from '../core/types.ts';
import { messageArbitrary } from './arbitraries.ts';
import { encodeMessage } from './message-codec.ts';

const installSnapshots = messageArbitrary.filter((message): message is InstallSnapshot => message.type === 'installSnapshot');

/** Ten members of 256 UTF-16 units (each id 256 to 768 UTF-8 bytes), listed twice in a joint configuration. */
function longIdJointConfig(unit: string): ConfigPayload {
  const ids = Array.from({ length: 10 }, (_, position) => `${String.fromCharCode(97 + position)}${unit.repeat((256 - 1) / unit.length)}`.slice(0, 256) as NodeId);
  return { old: { voters: ids.slice(0, 5), learners: ids.slice(5) }, new: { voters: ids.slice(0, 3), learners: ids.slice(3) } };
}

describe('InstallSnapshot frame sizes as the engine counts them', () => {
  it('the meta counts exactly what the codec writes, for any message', () => {
    fc.assert(
      fc.property(installSnapshots, (message) => {
        const encoded = encodeMessage(message);
        const counted = 2 + varintBytes(message.term) + snapshotMetaBytes(message.meta) + varintBytes(message.totalBytes) + varintBytes(message.offset) + varintBytes(message.data.length) + message.data.length;
        expect(encoded.length).toBe(counted);
      }),
      { numRuns: 500 },
    );
  });

  for (const [name, unit] of [
    ['ASCII', 'x'],
    ['two-byte', 'é'],
    ['three-byte', '漢'],
    ['astral (surrogate pairs)', '😀'],
  ] as const) {
    it(`a chunk's frame fits the bound exactly enough, with 256-character ${name} ids in a joint configuration`, () => {
      const meta: SnapshotMeta = { lastIncludedIndex: Number.MAX_SAFE_INTEGER, lastIncludedTerm: Number.MAX_SAFE_INTEGER, config: longIdJointConfig(unit) };
      for (const frameBytes of [32 * 1024, 64 * 1024]) {
        const chunkBytes = snapshotChunkBytes(meta, 16 * 1024 * 1024, frameBytes);
        const worst: InstallSnapshot = { type: 'installSnapshot', term: Number.MAX_SAFE_INTEGER, meta, totalBytes: Number.MAX_SAFE_INTEGER, offset: Number.MAX_SAFE_INTEGER - chunkBytes, data: new Uint8Array(chunkBytes) };
        const size = encodeMessage(worst).length;
        expect(size).toBeLessThanOrEqual(frameBytes);
        // Not wasteful: only the varints' worst case is left over.
        expect(size).toBeGreaterThan(frameBytes - 32);
      }
    });
  }

  it('the chunk ceiling still applies when the frame has room', () => {
    expect(snapshotChunkBytes({ lastIncludedIndex: 5, lastIncludedTerm: 1 }, 1_000, 64 * 1024)).toBe(1_000);
  });
});
