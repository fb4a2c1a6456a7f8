// How many state bytes one InstallSnapshot frame can carry. Every chunk's frame repeats the
// snapshot's meta, whose configuration names every member (twice in a joint one), with ids of up
// to 256 characters: a constant headroom under the transport's frame bound left frames too large
// to be carried, and a follower behind the floor never caught up. The sizes below follow the
// codec's layout (message-codec.ts, records.ts); src/codec/snapshot-frame-size.test.ts pairs
// them with real encodings.
import type { ClusterConfig, ConfigPayload, SnapshotMeta } from './types.ts';

/** Bytes of a varint of a counter at most: 8 holds 56 bits, past Number.MAX_SAFE_INTEGER. */
const varintCeilingBytes = 8;

/**
 * An InstallSnapshot frame besides its meta and data: version and type bytes, and the varints
 * whose values change from chunk to chunk or term to term (term, totalBytes, offset, the data's
 * length), counted at their largest.
 */
export const installSnapshotFixedBytes = 2 + 4 * varintCeilingBytes;

export function varintBytes(value: number): number {
  let bytes = 1;
  for (let remaining = value; remaining >= 0x80; remaining = Math.floor(remaining / 0x80)) bytes += 1;
  return bytes;
}

/** UTF-8 bytes of well-formed text (ids are validated as such: no lone surrogates). */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let position = 0; position < text.length; position += 1) {
    const unit = text.charCodeAt(position);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff) {
      bytes += 4; // a surrogate pair: one code point of four bytes
      position += 1;
    } else bytes += 3;
  }
  return bytes;
}

function idsBytes(ids: readonly string[]): number {
  let bytes = varintBytes(ids.length);
  for (const id of ids) {
    const length = utf8Bytes(id);
    bytes += varintBytes(length) + length;
  }
  return bytes;
}

function clusterConfigBytes(config: ClusterConfig): number {
  return idsBytes(config.voters) + 1 + (config.learners === undefined ? 0 : idsBytes(config.learners));
}

function configPayloadBytes(payload: ConfigPayload): number {
  return 1 + (payload.old === null ? 0 : clusterConfigBytes(payload.old)) + clusterConfigBytes(payload.new);
}

/** The encoded meta: index, term, the configuration's flag and the configuration. */
export function snapshotMetaBytes(meta: SnapshotMeta): number {
  return varintBytes(meta.lastIncludedIndex) + varintBytes(meta.lastIncludedTerm) + 1 + (meta.config === undefined ? 0 : configPayloadBytes(meta.config));
}

/**
 * The chunk size for a snapshot: the ceiling, or what a frame of `frameBytes` leaves after the
 * header and this meta. At least one byte: a configuration too large for any frame could not be
 * replicated in an AppendEntries either (its own entry would not fit), and its chunks are then
 * dropped by the transport as such an entry would be.
 */
export function snapshotChunkBytes(meta: SnapshotMeta, chunkCeilingBytes: number, frameBytes: number): number {
  return Math.max(1, Math.min(chunkCeilingBytes, frameBytes - installSnapshotFixedBytes - snapshotMetaBytes(meta)));
}
