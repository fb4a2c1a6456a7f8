// A growable byte buffer with LEB128 varints, so encoders allocate once per frame in the
// common case and never per field.
const textEncoder = new TextEncoder();

/** Ids repeat in every frame (the same client id on every entry): keep a few encoded. */
const encodedTextCache = new Map<string, Uint8Array>();
const encodedTextCacheSize = 256;

function encodeText(value: string): Uint8Array {
  const cached = encodedTextCache.get(value);
  if (cached !== undefined) return cached;
  const encoded = textEncoder.encode(value);
  if (encodedTextCache.size >= encodedTextCacheSize) encodedTextCache.clear();
  encodedTextCache.set(value, encoded);
  return encoded;
}

export class ByteWriter {
  private buffer: Uint8Array;
  private length = 0;

  constructor(estimatedBytes = 64) {
    this.buffer = new Uint8Array(Math.max(16, estimatedBytes));
  }

  private ensure(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < needed) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }

  byte(value: number): void {
    this.ensure(1);
    this.buffer[this.length++] = value;
  }

  /** Unsigned LEB128 of a safe non-negative integer (at most 8 bytes for 2^53 - 1). */
  varint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`cannot encode ${value}: counters are safe non-negative integers`);
    this.ensure(8);
    let remaining = value;
    while (remaining >= 0x80) {
      this.buffer[this.length++] = (remaining % 0x80) | 0x80;
      remaining = Math.floor(remaining / 0x80);
    }
    this.buffer[this.length++] = remaining;
  }

  bytes(value: Uint8Array): void {
    this.varint(value.length);
    this.ensure(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
  }

  text(value: string): void {
    this.bytes(encodeText(value));
  }

  /** Bytes written so far. */
  get byteLength(): number {
    return this.length;
  }

  finish(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }
}
