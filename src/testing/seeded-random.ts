// A deterministic random source (mulberry32): one seed replays a whole simulation exactly.
export function seededRandom(seed: number): () => number {
  let state = Math.floor(seed) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** A child seed for a named part of a simulation, so adding a node does not reshuffle others. */
export function deriveSeed(seed: number, label: string): number {
  let hash = Math.floor(seed) >>> 0;
  for (let position = 0; position < label.length; position += 1) hash = Math.imul(hash ^ label.charCodeAt(position), 0x01000193) >>> 0;
  return hash;
}
