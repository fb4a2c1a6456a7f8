import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { bundleCapacity, bundledBytes, chunkKind, createReassembler, encodeBundle, encodeChunk, splitBundle, wholeFrameCapacity, type Reassembler } from './framing.ts';

const chunkBytes = 64;

function chunksOf(frame: Uint8Array, size = chunkBytes): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  do {
    const { chunk, consumed } = encodeChunk(frame, offset, size);
    chunks.push(chunk);
    offset += consumed;
  } while (offset < frame.length);
  return chunks;
}

const frameOf = (length: number): Uint8Array => Uint8Array.from({ length }, (_, index) => (index * 7 + 3) & 0xff);

function feed(reassembler: Reassembler, chunks: readonly Uint8Array[]): { frames: Uint8Array[]; dropped: string[] } {
  const frames: Uint8Array[] = [];
  const dropped: string[] = [];
  for (const chunk of chunks) {
    const result = reassembler.accept(chunk);
    if (result.frame !== null) frames.push(result.frame);
    dropped.push(...result.dropped);
  }
  return { frames, dropped };
}

describe('framing', () => {
  it('sends a frame that fits as one whole message, and larger ones as first + continuations, none over the chunk size', () => {
    expect(chunksOf(frameOf(wholeFrameCapacity(chunkBytes)))).toHaveLength(1);
    const chunks = chunksOf(frameOf(1000));
    expect(chunks[0]?.[0]).toBe(chunkKind.first);
    expect(chunks.slice(1).every((chunk) => chunk[0] === chunkKind.continuation)).toBe(true);
    expect(chunks.every((chunk) => chunk.length <= chunkBytes)).toBe(true);
    expect(chunksOf(new Uint8Array(0))).toEqual([new Uint8Array([chunkKind.whole])]);
  });

  it('reassembles frames of every size around the chunk boundaries, back to back', () => {
    const sizes = [0, 1, 62, 63, 64, 65, 118, 119, 120, 121, 1000, 4096];
    const frames = sizes.map(frameOf);
    const reassembler = createReassembler({ maxFrameBytes: 10_000, allowMultipleChunks: true });
    const result = feed(reassembler, frames.flatMap((frame) => chunksOf(frame)));
    expect(result.dropped).toEqual([]);
    expect(result.frames).toEqual(frames);
    expect(reassembler.bufferedBytes).toBe(0);
  });

  it('drops a frame announced larger than the bound before buffering any of it, then skips its parts', () => {
    const reassembler = createReassembler({ maxFrameBytes: 500, allowMultipleChunks: true });
    const result = feed(reassembler, [...chunksOf(frameOf(501)), ...chunksOf(frameOf(10))]);
    expect(result.dropped).toEqual(['oversized']);
    expect(result.frames).toEqual([frameOf(10)]);
    expect(reassembler.bufferedBytes).toBe(0);
  });

  it('drops, once, a sequence whose parts overrun the announced length, and recovers at the next frame', () => {
    const reassembler = createReassembler({ maxFrameBytes: 10_000, allowMultipleChunks: true });
    const chunks = chunksOf(frameOf(200));
    const extra = encodeChunk(frameOf(400), 100, chunkBytes).chunk;
    const result = feed(reassembler, [...chunks.slice(0, -1), extra, extra, ...chunks.slice(-1), ...chunksOf(frameOf(300))]);
    expect(result.dropped).toEqual(['malformed']);
    expect(result.frames).toEqual([frameOf(300)]);
  });

  it('drops continuations with no first part, unknown kinds, empty messages and a first part that needed no more', () => {
    const reassembler = createReassembler({ maxFrameBytes: 10_000, allowMultipleChunks: true });
    const lying = new Uint8Array([chunkKind.first, 0, 0, 0, 2, 9, 9]);
    for (const chunk of [new Uint8Array([chunkKind.continuation, 1]), new Uint8Array([7, 1]), new Uint8Array(0), lying, new Uint8Array([chunkKind.first, 0])]) {
      reassembler.reset();
      expect(reassembler.accept(chunk)).toEqual({ frame: null, dropped: ['malformed'] });
    }
  });

  it('counts an interrupted frame when a new frame starts, and still delivers the new one', () => {
    const reassembler = createReassembler({ maxFrameBytes: 10_000, allowMultipleChunks: true });
    const partial = chunksOf(frameOf(500)).slice(0, 2);
    const result = feed(reassembler, [...partial, ...chunksOf(frameOf(5))]);
    expect(result).toEqual({ frames: [frameOf(5)], dropped: ['malformed'] });
  });

  it('counts both frames when a chunk that is refused itself interrupts a frame in progress', () => {
    const partial = chunksOf(frameOf(500)).slice(0, 2);
    const tooLarge = createReassembler({ maxFrameBytes: 600, allowMultipleChunks: true });
    expect(feed(tooLarge, [...partial, ...chunksOf(frameOf(700))])).toEqual({ frames: [], dropped: ['malformed', 'oversized'] });
    const wholeTooLarge = createReassembler({ maxFrameBytes: 30, allowMultipleChunks: true });
    wholeTooLarge.accept(new Uint8Array([chunkKind.first, 0, 0, 0, 20, 1, 2, 3]));
    expect(wholeTooLarge.accept(new Uint8Array([chunkKind.whole, ...frameOf(31)]))).toEqual({ frame: null, dropped: ['malformed', 'oversized'] });
    for (const bad of [new Uint8Array([chunkKind.first, 0, 0, 0, 2, 9, 9]), new Uint8Array([7, 1]), new Uint8Array(0)]) {
      const reassembler = createReassembler({ maxFrameBytes: 10_000, allowMultipleChunks: true });
      feed(reassembler, partial);
      expect(reassembler.accept(bad)).toEqual({ frame: null, dropped: ['malformed', 'malformed'] });
      // Skipping after the break: the stray rest of the interrupted frame costs nothing more.
      expect(feed(reassembler, [...chunksOf(frameOf(500)).slice(2), ...chunksOf(frameOf(5))])).toEqual({ frames: [frameOf(5)], dropped: [] });
    }
  });

  it('refuses multi-part frames where only whole frames may travel (the control channel)', () => {
    const reassembler = createReassembler({ maxFrameBytes: 10_000, allowMultipleChunks: false });
    const result = feed(reassembler, [...chunksOf(frameOf(500)), ...chunksOf(frameOf(5))]);
    expect(result).toEqual({ frames: [frameOf(5)], dropped: ['malformed'] });
  });

  it('never holds more than the bound while reassembling', () => {
    const reassembler = createReassembler({ maxFrameBytes: 1000, allowMultipleChunks: true });
    let highest = 0;
    for (const chunk of chunksOf(frameOf(1000))) {
      reassembler.accept(chunk);
      highest = Math.max(highest, reassembler.bufferedBytes);
    }
    expect(highest).toBeLessThanOrEqual(1000);
  });

  it('holds memory in proportion to the bytes of a frame in progress, not to how many messages carried them', () => {
    // A hostile (or tiny-chunked) peer announces a large frame, then sends it one byte per
    // message: every message has its own buffer, so keeping each part as a view of its message
    // held some hundred bytes of objects per byte, far past maxFrameBytes.
    setFlagsFromString('--expose-gc');
    const collectGarbage = runInNewContext('gc') as () => void;
    const maxFrameBytes = 512 * 1024;
    const reassembler = createReassembler({ maxFrameBytes, allowMultipleChunks: true });
    collectGarbage();
    const before = process.memoryUsage().heapUsed;
    const first = new Uint8Array([chunkKind.first, (maxFrameBytes >>> 24) & 0xff, (maxFrameBytes >>> 16) & 0xff, (maxFrameBytes >>> 8) & 0xff, maxFrameBytes & 0xff, 1]);
    expect(reassembler.accept(first)).toEqual({ frame: null, dropped: [] });
    let dropped = 0;
    for (let index = 1; index < maxFrameBytes - 1; index++) {
      // A fresh buffer per message, as a browser hands them over.
      const message = new Uint8Array(new ArrayBuffer(2));
      message[0] = chunkKind.continuation;
      message[1] = index & 0xff;
      dropped += reassembler.accept(message).dropped.length;
    }
    expect(dropped).toBe(0);
    collectGarbage();
    const held = process.memoryUsage().heapUsed - before;
    expect(reassembler.bufferedBytes).toBe(maxFrameBytes - 1);
    expect(held).toBeLessThan(8 * maxFrameBytes);
    const last = reassembler.accept(new Uint8Array([chunkKind.continuation, 0xff]));
    expect(last.frame?.length).toBe(maxFrameBytes);
    expect(last.frame?.[maxFrameBytes - 1]).toBe(0xff);
    expect(last.frame?.[300]).toBe(300 & 0xff);
  });
});

describe('bundles', () => {
  it('round-trips two or more frames, a zero-length one among them, as one message', () => {
    const frames = [frameOf(5), new Uint8Array(0), frameOf(17), frameOf(1)];
    const chunk = encodeBundle(frames);
    expect(chunk[0]).toBe(chunkKind.bundle);
    expect(chunk.length).toBe(1 + frames.reduce((sum, frame) => sum + bundledBytes(frame), 0));
    expect(splitBundle(chunk, 100)).toEqual(frames);
    expect(splitBundle(encodeBundle([new Uint8Array(0), new Uint8Array(0)]), 100)).toEqual([new Uint8Array(0), new Uint8Array(0)]);
  });

  it('fits a bundle of frames whose bundled bytes sum to the capacity in one chunk', () => {
    const capacity = bundleCapacity(chunkBytes);
    const half = (capacity - 4) / 2;
    const frames = [frameOf(Math.floor(half)), frameOf(Math.ceil(half))];
    const chunk = encodeBundle(frames);
    expect(chunk.length).toBeLessThanOrEqual(chunkBytes);
    expect(splitBundle(chunk, 10_000)).toEqual(frames);
    // The u16 length field caps the capacity however large a chunk may be.
    expect(bundleCapacity(1024 * 1024)).toBe(2 + 0xffff);
  });

  it('carries a frame of 256 bytes or more (both length bytes in use)', () => {
    const frames = [frameOf(300), frameOf(2)];
    expect(splitBundle(encodeBundle(frames), 10_000)).toEqual(frames);
  });

  it('refuses a bundle of one frame or of none: a single frame travels as a whole message', () => {
    expect(splitBundle(encodeBundle([frameOf(5)]), 100)).toBeNull();
    expect(splitBundle(new Uint8Array([chunkKind.bundle]), 100)).toBeNull();
  });

  it('refuses a truncated length field and a length beyond the message', () => {
    const valid = encodeBundle([frameOf(3), frameOf(4)]);
    const truncatedLength = new Uint8Array([...valid, 0]);
    expect(splitBundle(truncatedLength, 100)).toBeNull();
    const overrun = valid.slice(0, valid.length - 1);
    expect(splitBundle(overrun, 100)).toBeNull();
    expect(splitBundle(new Uint8Array([chunkKind.bundle, 0, 1, 9, 0, 200, 1, 2]), 100)).toBeNull();
  });

  it('refuses a frame longer than maxFrameBytes inside a bundle', () => {
    const chunk = encodeBundle([frameOf(3), frameOf(11)]);
    expect(splitBundle(chunk, 11)).not.toBeNull();
    expect(splitBundle(chunk, 10)).toBeNull();
  });

  it('refuses a message that is not a bundle', () => {
    const bundle = encodeBundle([frameOf(3), frameOf(4)]);
    for (const kind of [chunkKind.whole, chunkKind.first, chunkKind.continuation, 7]) {
      const other = bundle.slice();
      other[0] = kind;
      expect(splitBundle(other, 100)).toBeNull();
    }
    expect(splitBundle(new Uint8Array(0), 100)).toBeNull();
  });

  it('is malformed to a reassembler (bundles never enter one)', () => {
    const reassembler = createReassembler({ maxFrameBytes: 10_000, allowMultipleChunks: true });
    expect(reassembler.accept(encodeBundle([frameOf(3), frameOf(4)]))).toEqual({ frame: null, dropped: ['malformed'] });
  });
});
