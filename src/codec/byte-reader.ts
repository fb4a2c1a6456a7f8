// A bounds-checked reader. Every read checks the remaining length first; a failure is recorded
// once and later reads return zero values, so decoders stay linear and never throw.
import { copyBytes, sameBytes } from '../core/bytes.ts';
import { maxIdLength } from '../core/types.ts';
import { codecLimits } from './limits.ts';

export type DecodeFailure =
  | 'empty'
  | 'unsupportedVersion'
  | 'unknownType'
  | 'truncated'
  | 'trailingBytes'
  | 'outOfRange'
  | 'tooLarge'
  | 'invalidText'
  | 'invalidField';

export type DecodeResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: DecodeFailure; readonly detail?: string };

// ignoreBOM: the default strips a leading U+FEFF, yet an id may begin with one (it is well-formed
// text that nodeId() and clientId() accept): decoded without it, it would come back as another id.
const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

let lastIdBytes: Uint8Array | null = null;
let lastIdText = '';

export class ByteReader {
  private offset: number;
  failure: DecodeFailure | null = null;
  detail = '';

  constructor(
    private readonly bytes: Uint8Array,
    start = 0,
  ) {
    this.offset = start;
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  fail(reason: DecodeFailure, detail: string): void {
    if (this.failure !== null) return;
    this.failure = reason;
    this.detail = detail;
    this.offset = this.bytes.length;
  }

  byte(): number {
    if (this.offset >= this.bytes.length) {
      this.fail('truncated', 'byte');
      return 0;
    }
    return this.bytes[this.offset++] as number;
  }

  boolean(field: string): boolean {
    const value = this.byte();
    if (value > 1) this.fail('invalidField', `${field} is not a boolean`);
    return value === 1;
  }

  /** LEB128 of 0 .. 2^53-1; overlong (a trailing zero group) or larger encodings are refused. */
  varint(field: string): number {
    let value = 0;
    let scale = 1;
    for (let count = 0; count < 8; count += 1) {
      if (this.offset >= this.bytes.length) {
        this.fail('truncated', field);
        return 0;
      }
      const byte = this.bytes[this.offset++] as number;
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) {
        if (byte === 0 && count > 0) this.fail('outOfRange', `${field} is an overlong varint`);
        if (!Number.isSafeInteger(value)) this.fail('outOfRange', `${field} exceeds 2^53-1`);
        return value;
      }
      scale *= 0x80;
    }
    this.fail('outOfRange', `${field} exceeds 2^53-1`);
    return 0;
  }

  /** A count whose items take at least `minimumItemBytes` each: checked before allocating. */
  count(field: string, maximum: number, minimumItemBytes: number): number {
    const value = this.varint(field);
    if (value > maximum) this.fail('tooLarge', `${field} ${value} exceeds ${maximum}`);
    else if (value * minimumItemBytes > this.remaining) this.fail('truncated', `${field} ${value} cannot fit`);
    return this.failure === null ? value : 0;
  }

  /** A view into the frame (no copy): callers must not mutate decoded byte fields. */
  bytesField(field: string, maximum: number): Uint8Array {
    const length = this.varint(field);
    if (length > maximum) {
      this.fail('tooLarge', `${field} of ${length} bytes exceeds ${maximum}`);
      return new Uint8Array(0);
    }
    if (length > this.remaining) {
      this.fail('truncated', field);
      return new Uint8Array(0);
    }
    const view = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return view;
  }

  /** A non-empty id string of at most maxIdLength UTF-16 units, valid UTF-8. */
  id(field: string): string {
    const raw = this.bytesField(field, codecLimits.maxIdBytes);
    if (this.failure !== null) return '';
    // The same few ids recur in every frame: reuse the last decoding when the bytes match.
    if (lastIdBytes !== null && sameBytes(lastIdBytes, raw)) return lastIdText;
    let value: string;
    try {
      value = textDecoder.decode(raw);
    } catch {
      this.fail('invalidText', `${field} is not valid UTF-8`);
      return '';
    }
    if (value.length > 0 && value.length <= maxIdLength) {
      lastIdBytes = copyBytes(raw);
      lastIdText = value;
    }
    if (value.length === 0 || value.length > maxIdLength) this.fail('invalidField', `${field} must be 1..${maxIdLength} characters`);
    return value;
  }
}
