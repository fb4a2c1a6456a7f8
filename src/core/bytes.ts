// Byte comparison, shared by the engine, the codec and the test suites that check bytes.

export function sameBytes(left: Uint8Array, right: Uint8Array): boolean {
  if (left.length !== right.length) return false;
  for (let position = 0; position < left.length; position += 1) if (left[position] !== right[position]) return false;
  return true;
}

/**
 * A copy of `bytes` in a fresh ArrayBuffer of its own, as a plain Uint8Array. Not `bytes.slice()`:
 * on a Node Buffer (a Uint8Array, so accepted wherever bytes are) slice is subarray, a view of
 * the same memory, so a "copy" made that way shared its bytes with the caller's buffer, the log
 * and storage (a review of the session's fixes, 2026-12-07). A range is copied as
 * copyBytes(bytes.subarray(start, end)).
 */
export function copyBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}
