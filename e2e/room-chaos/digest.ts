// A short fingerprint of an applied-id list, so a page can report what it holds (a read's answer,
// a dispatch's resulting state) without shipping the whole list over the DevTools connection on
// every operation. The checker recomputes the digest of every prefix of the final list: an
// observation is a prefix of the final history exactly when its (length, digest) pair matches.
// FNV-1a over the ids with a separator, 32 bits: a collision would hide a divergence, not invent one.

/** The running state of a digest: extend it id by id. */
export const emptyDigest = 0x811c9dc5;

export function extendDigest(digest: number, id: string): number {
  let hash = digest;
  for (let position = 0; position < id.length; position += 1) hash = Math.imul(hash ^ id.charCodeAt(position), 0x01000193) >>> 0;
  return Math.imul(hash ^ 0x2c, 0x01000193) >>> 0;
}

export function digestOf(ids: readonly string[]): number {
  let digest = emptyDigest;
  for (const id of ids) digest = extendDigest(digest, id);
  return digest;
}

/** digests[n] is the digest of the first n ids. */
export function prefixDigests(ids: readonly string[]): number[] {
  const digests = [emptyDigest];
  for (const id of ids) digests.push(extendDigest(digests[digests.length - 1] ?? emptyDigest, id));
  return digests;
}

/** What a page reports about an applied-id list. */
export interface ListFingerprint {
  readonly length: number;
  readonly digest: number;
}
