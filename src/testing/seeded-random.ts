// A deterministic random source (mulberry32): one seed replays a whole simulation exactly.

/**
 * The 32-bit state a seed starts from. Any safe integer is a seed, taken modulo 2^32 (so -1 and
 * 2^32 - 1 are one seed, as are 0 and 2^32). Anything else is refused: NaN (an unset
 * `Number(process.env.SEED)`), Infinity or a fraction (`Math.random()`) would otherwise all
 * quietly become seed 0, and every "random" run would be the same one.
 */
function seedState(seed: number, caller: string): number {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`${caller}: the seed must be a safe integer, got ${typeof seed === 'number' ? seed : `${typeof seed} ${String(seed)}`}`);
  return seed >>> 0;
}

/**
 * A seeded source of numbers in [0, 1), for `RaftConfig.random` and test schedules: the same
 * seed gives the same sequence on every run and platform. Throws a RangeError unless `seed` is a
 * safe integer (taken modulo 2^32).
 */
export function seededRandom(seed: number): () => number {
  let state = seedState(seed, 'seededRandom');
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A child seed (a 32-bit unsigned integer) for a named part of a simulation, so adding a node
 * does not reshuffle the others' randomness. The same rules for `seed` as seededRandom.
 */
export function deriveSeed(seed: number, label: string): number {
  let hash = seedState(seed, 'deriveSeed');
  for (let position = 0; position < label.length; position += 1) hash = Math.imul(hash ^ label.charCodeAt(position), 0x01000193) >>> 0;
  return hash;
}
