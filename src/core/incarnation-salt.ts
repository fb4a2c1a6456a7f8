// What tells one incarnation of a node from the next when its random source repeats itself (a
// seededRandom given the same seed at every restart, as deterministic tests do): when it started
// and what its storage held. Mixed into what an incarnation draws at random and must not share
// with the one before: its auto client id (auto-client-id.ts) and where its correlation ids start
// (core-state.ts). A repeating source then repeats those only for a restart at the same clock
// reading on unchanged storage.

/** The salt of an incarnation that starts at `now` on a stored term and a last covered index. */
export function incarnationSalt(now: number, term: number, lastIndex: number): string {
  return `${now}:${term}:${lastIndex}`;
}

/** 16 bits of FNV-1a over the salt and the word's position; 0 for no salt. */
export function saltWord(salt: string, position: number): number {
  if (salt.length === 0) return 0;
  let hash = 0x811c9dc5 ^ position;
  for (let index = 0; index < salt.length; index += 1) {
    hash ^= salt.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash ^ (hash >>> 16)) & 0xffff;
}

/**
 * A number in [0, 2^48) from one draw, its three 16-bit words each XORed with a word of the
 * salt: uniform as the draw is, and different for a different salt even when the draw repeats.
 */
export function salted48(sample: number, salt: string, firstPosition: number): number {
  const drawn = Math.floor(sample * 2 ** 48);
  let mixed = 0;
  for (let word = 0; word < 3; word += 1) {
    const bits = Math.floor(drawn / 2 ** (16 * word)) % 0x10000;
    mixed += ((bits ^ saltWord(salt, firstPosition + word)) & 0xffff) * 2 ** (16 * word);
  }
  return mixed;
}
