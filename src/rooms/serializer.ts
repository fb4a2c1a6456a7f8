// How a room's application values (commands, state) become bytes for the log and snapshots.
// The default is JSON through TextEncoder: readable, good enough for most collaborative state;
// an application with binary or large state passes its own.

export interface Serializer<T> {
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

const encoder = new TextEncoder();
// fatal: a corrupt byte must fail the decode, not become U+FFFD in someone's state.
const decoder = new TextDecoder('utf-8', { fatal: true });

/** JSON text as UTF-8. Values must survive JSON.stringify/parse (no Map, no undefined fields). */
export function jsonSerializer<T>(): Serializer<T> {
  return {
    encode: (value) => encoder.encode(JSON.stringify(value)),
    decode: (bytes) => JSON.parse(decoder.decode(bytes)) as T,
  };
}
