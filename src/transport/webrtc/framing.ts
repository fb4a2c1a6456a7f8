// Framing: a Raft frame of any size up to the transport's maximum travels as data channel
// messages of at most `chunkBytes`, so users never meet a browser's message-size limit.
//
//   whole     [0][frame]                     the frame fits in one message
//   first     [1][total length u32 BE][part] the first part of a frame that needs more
//   continue  [2][part]                      the next part, in order
//   bundle    [3]([length u16 BE][frame])*   two or more small frames in one message
//
// Bundles exist because a data channel message costs far more than its bytes: every message is
// a trip through the browser's network thread, SCTP and DTLS, in both processes. A burst of
// small frames to one peer (a follower forwarding hundreds of proposals, a leader answering them)
// went out as hundreds of messages and that, not the bytes, bounded throughput (bench:browser).
// Only the control channel carries bundles; only `whole` frames are ever bundled.
//
// Each data channel is ordered and reliable, so parts need no offsets or ids: a channel carries
// one frame's parts back to back. The reassembler still checks everything (a peer may be buggy
// or hostile): lengths must add up, a frame may not exceed the bound, and a broken sequence is
// dropped whole and reported once (never thrown), after which the reassembler skips to the next
// frame start.
import { copyBytes } from '../../core/bytes.ts';


export const chunkKind = { whole: 0, first: 1, continuation: 2, bundle: 3 } as const;
const firstHeaderBytes = 5;
const shortHeaderBytes = 1;
const bundledLengthBytes = 2;

/** The largest frame that travels as one `whole` message (the control channel carries these). */
export function wholeFrameCapacity(chunkBytes: number): number {
  return chunkBytes - shortHeaderBytes;
}

export interface EncodedChunk {
  readonly chunk: Uint8Array<ArrayBuffer>;
  /** Frame bytes this chunk carries (advance the offset by this much). */
  readonly consumed: number;
}

/** The message carrying `frame` from `offset` on; call again with the advanced offset until the end. */
export function encodeChunk(frame: Uint8Array, offset: number, chunkBytes: number): EncodedChunk {
  if (offset === 0 && frame.length <= wholeFrameCapacity(chunkBytes)) {
    return { chunk: withHeader([chunkKind.whole], frame), consumed: frame.length };
  }
  if (offset === 0) {
    const part = frame.subarray(0, chunkBytes - firstHeaderBytes);
    const length = frame.length;
    const header = [chunkKind.first, (length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff];
    return { chunk: withHeader(header, part), consumed: part.length };
  }
  const part = frame.subarray(offset, offset + chunkBytes - shortHeaderBytes);
  return { chunk: withHeader([chunkKind.continuation], part), consumed: part.length };
}

/** Bytes `frame` takes inside a bundle. */
export function bundledBytes(frame: Uint8Array): number {
  return bundledLengthBytes + frame.length;
}

/** The largest sum of bundledBytes() one bundle message may carry. */
export function bundleCapacity(chunkBytes: number): number {
  return Math.min(chunkBytes - shortHeaderBytes, bundledLengthBytes + 0xffff);
}

/** One message carrying `frames` (two or more, their bundledBytes summing to at most bundleCapacity). */
export function encodeBundle(frames: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let length = shortHeaderBytes;
  for (const frame of frames) length += bundledBytes(frame);
  const chunk = new Uint8Array(length);
  chunk[0] = chunkKind.bundle;
  let offset = shortHeaderBytes;
  for (const frame of frames) {
    chunk[offset] = (frame.length >>> 8) & 0xff;
    chunk[offset + 1] = frame.length & 0xff;
    chunk.set(frame, offset + bundledLengthBytes);
    offset += bundledBytes(frame);
  }
  return chunk;
}

/**
 * The frames of a bundle message, as views into it, or null when it is malformed: fewer than two
 * frames, or lengths that do not add up to exactly the message (a peer may be buggy or hostile).
 */
export function splitBundle(chunk: Uint8Array, maxFrameBytes: number): Uint8Array[] | null {
  if (chunk[0] !== chunkKind.bundle) return null;
  const frames: Uint8Array[] = [];
  let offset = shortHeaderBytes;
  while (offset < chunk.length) {
    if (offset + bundledLengthBytes > chunk.length) return null;
    const length = ((chunk[offset] ?? 0) << 8) | (chunk[offset + 1] ?? 0);
    const start = offset + bundledLengthBytes;
    if (start + length > chunk.length || length > maxFrameBytes) return null;
    frames.push(chunk.subarray(start, start + length));
    offset = start + length;
  }
  return frames.length >= 2 ? frames : null;
}

function withHeader(header: readonly number[], part: Uint8Array): Uint8Array<ArrayBuffer> {
  const chunk = new Uint8Array(header.length + part.length);
  chunk.set(header, 0);
  chunk.set(part, header.length);
  return chunk;
}

/** Why a frame was dropped on the receiving side. */
export type ReassemblyDrop = 'malformed' | 'oversized';

export interface ReassemblyResult {
  /** A complete frame, when this chunk finished one. */
  readonly frame: Uint8Array | null;
  /**
   * One reason per frame this chunk cost: the frame in progress when the chunk interrupted it, and
   * the chunk's own frame when that one is refused too (so up to two). Empty when nothing was lost.
   */
  readonly dropped: readonly ReassemblyDrop[];
}

export interface Reassembler {
  accept(chunk: Uint8Array): ReassemblyResult;
  /** Bytes held for the frame in progress (bounded by maxFrameBytes). */
  readonly bufferedBytes: number;
  reset(): void;
}

export interface ReassemblerOptions {
  readonly maxFrameBytes: number;
  /** False for the control channel: only whole frames travel there, anything else is malformed. */
  readonly allowMultipleChunks: boolean;
}

type ReassemblyState =
  | { readonly type: 'idle' }
  | { readonly type: 'assembling'; readonly totalBytes: number; buffer: Uint8Array; receivedBytes: number }
  | { readonly type: 'skipping' };

/** Shared by every result that lost nothing: most chunks, on the receive path of every frame. */
const noDrops: readonly ReassemblyDrop[] = Object.freeze([]);
const nothing: ReassemblyResult = { frame: null, dropped: noDrops };

/** The smallest buffer a frame in progress starts with (a frame needs more than one chunk). */
const minimumBufferBytes = 64 * 1024;

/**
 * Copies a part into the frame's buffer, which doubles as needed up to the announced length. Parts
 * are copied, not kept as views of their messages: every message has a buffer and objects of its
 * own, some hundred bytes, so a peer sending a large frame a byte per message held that much per
 * byte, hundreds of times maxFrameBytes. Growing by doubling keeps the copies at about two per
 * byte, and the memory within twice what arrived (and never over the announced length).
 */
function append(state: { readonly totalBytes: number; buffer: Uint8Array; receivedBytes: number }, part: Uint8Array): void {
  const needed = state.receivedBytes + part.length;
  if (needed > state.buffer.length) {
    const grown = new Uint8Array(Math.min(state.totalBytes, Math.max(needed, state.buffer.length * 2)));
    grown.set(state.buffer.subarray(0, state.receivedBytes));
    state.buffer = grown;
  }
  state.buffer.set(part, state.receivedBytes);
  state.receivedBytes = needed;
}

export function createReassembler(options: ReassemblerOptions): Reassembler {
  let state: ReassemblyState = { type: 'idle' };

  /**
   * The frame in progress, lost when a chunk that is not its continuation arrives. Read before the
   * state changes; a frame already skipped was counted when it broke.
   */
  const interrupted = (): readonly ReassemblyDrop[] => (state.type === 'assembling' ? ['malformed'] : noDrops);

  /** Drops this chunk's frame (and any frame in progress); its stray continuations are then skipped silently. */
  const drop = (reason: ReassemblyDrop): ReassemblyResult => {
    const dropped = [...interrupted(), reason];
    state = { type: 'skipping' };
    return { frame: null, dropped };
  };

  function whole(chunk: Uint8Array): ReassemblyResult {
    const lost = interrupted();
    const frame = chunk.length - shortHeaderBytes <= options.maxFrameBytes ? copyBytes(chunk.subarray(shortHeaderBytes)) : null;
    state = { type: 'idle' };
    if (frame === null) return { frame: null, dropped: [...lost, 'oversized'] };
    return { frame, dropped: lost };
  }

  function first(chunk: Uint8Array): ReassemblyResult {
    if (!options.allowMultipleChunks || chunk.length < firstHeaderBytes) return drop('malformed');
    const totalBytes = (((chunk[1] ?? 0) << 24) | ((chunk[2] ?? 0) << 16) | ((chunk[3] ?? 0) << 8) | (chunk[4] ?? 0)) >>> 0;
    const lost = interrupted();
    const part = chunk.subarray(firstHeaderBytes);
    if (totalBytes > options.maxFrameBytes) return drop('oversized');
    // A frame that fits in its first part should have been sent whole: a sender bug or a probe.
    if (part.length === 0 || totalBytes <= part.length) return drop('malformed');
    state = { type: 'assembling', totalBytes, buffer: new Uint8Array(Math.min(totalBytes, Math.max(part.length * 2, minimumBufferBytes))), receivedBytes: 0 };
    append(state, part);
    return lost.length === 0 ? nothing : { frame: null, dropped: lost };
  }

  function continuation(chunk: Uint8Array): ReassemblyResult {
    if (state.type === 'skipping') return nothing;
    if (state.type === 'idle') return drop('malformed');
    const part = chunk.subarray(shortHeaderBytes);
    // The overrunning part belongs to the frame in progress: one frame lost, not two.
    if (part.length === 0 || state.receivedBytes + part.length > state.totalBytes) {
      state = { type: 'skipping' };
      return { frame: null, dropped: ['malformed'] };
    }
    append(state, part);
    if (state.receivedBytes < state.totalBytes) return nothing;
    // The buffer grew to exactly totalBytes (append() caps it there): it is the frame.
    const frame = state.buffer;
    state = { type: 'idle' };
    return { frame, dropped: noDrops };
  }

  return {
    accept(chunk) {
      switch (chunk[0]) {
        case chunkKind.whole:
          return whole(chunk);
        case chunkKind.first:
          return first(chunk);
        case chunkKind.continuation:
          return continuation(chunk);
        default:
          // Empty or an unknown kind: nothing after it can be trusted to belong to a frame.
          return drop('malformed');
      }
    },
    get bufferedBytes() {
      return state.type === 'assembling' ? state.receivedBytes : 0;
    },
    reset() {
      state = { type: 'idle' };
    },
  };
}
