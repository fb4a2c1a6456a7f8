// Small bounded binary writer and reader used by the ClientSessionTable's snapshot format
// (and by the example key-value state machine in src/testing, which stores that table inside
// its own snapshot). Every read is bounds-checked and names the field it was reading, because
// these bytes come back from storage and from peers' snapshots: a damaged or hostile snapshot
// must fail with a clear RangeError, never with an out-of-range read or a silent wrong value.
import { copyBytes } from './bytes.ts';


interface TextCodecs {
  readonly TextEncoder: new () => { encode(text: string): Uint8Array };
  readonly TextDecoder: new (
    label: string,
    options: { fatal: boolean; ignoreBOM: boolean },
  ) => { decode(bytes: Uint8Array): string };
}

// Core compiles without the DOM lib (it must not depend on a browser), yet every runtime we
// target (browsers, workers, Node >= 20) has TextEncoder/TextDecoder, so reach them through
// globalThis with a minimal type rather than pulling in a whole lib.
const textCodecs = globalThis as unknown as TextCodecs;
const utf8Encoder = new textCodecs.TextEncoder();
// ignoreBOM: the default strips a leading U+FEFF, and a client id that begins with one would be
// restored as another client, forgetting which of its requests were applied.
const utf8Decoder = new textCodecs.TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// A lone surrogate cannot be encoded as UTF-8; TextEncoder would silently replace it with
// U+FFFD, so a string would not survive a round trip. Refuse it instead.
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function assertWellFormedText(text: string, what: string): void {
  if (loneSurrogate.test(text)) {
    throw new RangeError(`${what} is not well-formed Unicode (it contains a lone surrogate)`);
  }
}

export function encodeUtf8(text: string, what: string): Uint8Array {
  assertWellFormedText(text, what);
  return utf8Encoder.encode(text);
}

/** Largest number of bytes an unsigned LEB128 varint of a safe integer can take (53 bits). */
const maxVarintBytes = 8;

export class ByteWriter {
  private buffer = new Uint8Array(64);
  private length = 0;

  byte(value: number): void {
    this.reserve(1);
    this.buffer[this.length] = value & 0xff;
    this.length += 1;
  }

  /** Unsigned LEB128: small numbers (the common case) take one byte. */
  unsigned(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`cannot encode ${value}: expected a safe non-negative integer`);
    }
    let remaining = value;
    while (remaining >= 0x80) {
      this.byte((remaining % 0x80) | 0x80);
      remaining = Math.floor(remaining / 0x80);
    }
    this.byte(remaining);
  }

  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Length-prefixed bytes. */
  bytes(bytes: Uint8Array): void {
    this.unsigned(bytes.length);
    this.raw(bytes);
  }

  /** Length-prefixed UTF-8. */
  text(value: string, what: string): void {
    this.bytes(encodeUtf8(value, what));
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < this.length + extra) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }
}

export class ByteReader {
  private position = 0;

  /** `what` names the whole structure in error messages, e.g. "ClientSessionTable bytes". */
  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
  ) {}

  get offset(): number {
    return this.position;
  }

  get remaining(): number {
    return this.bytes.length - this.position;
  }

  fail(message: string): never {
    throw new RangeError(`${this.what}: ${message}`);
  }

  byte(field: string): number {
    const value = this.bytes[this.position];
    if (value === undefined) this.fail(`truncated: no byte left for ${field} at offset ${this.position}`);
    this.position += 1;
    return value;
  }

  /** Rejects overlong encodings, so every value has exactly one encoding (byte-identical output). */
  unsigned(field: string, maximum: number = Number.MAX_SAFE_INTEGER): number {
    const start = this.position;
    let value = 0;
    for (let index = 0; index < maxVarintBytes; index += 1) {
      const current = this.byte(field);
      value += (current & 0x7f) * 2 ** (7 * index);
      if (current < 0x80) {
        if (current === 0 && index > 0) this.fail(`${field} at offset ${start} has an overlong encoding`);
        if (value > maximum) this.fail(`${field} is ${value}, above its maximum ${maximum}`);
        return value;
      }
    }
    return this.fail(`${field} at offset ${start} is longer than ${maxVarintBytes} bytes`);
  }

  raw(field: string, length: number): Uint8Array {
    if (length > this.remaining) {
      this.fail(`truncated: ${field} needs ${length} bytes at offset ${this.position}, ${this.remaining} left`);
    }
    const slice = copyBytes(this.bytes.subarray(this.position, this.position + length));
    this.position += length;
    return slice;
  }

  bytesField(field: string, maximumLength: number): Uint8Array {
    const length = this.unsigned(`${field} length`, maximumLength);
    return this.raw(field, length);
  }

  text(field: string, maximumBytes: number): string {
    const encoded = this.bytesField(field, maximumBytes);
    try {
      return utf8Decoder.decode(encoded);
    } catch {
      return this.fail(`${field} is not valid UTF-8`);
    }
  }

  expectEnd(): void {
    if (this.remaining !== 0) {
      this.fail(`${this.remaining} trailing bytes after the end of the data at offset ${this.position}`);
    }
  }
}
