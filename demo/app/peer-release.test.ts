// Guards the release each page gossips (peer-release.ts): what its store's StoreVersionError is
// reduced to, and what the decoder takes from a peer: a known shape with bounded integers, or
// nothing (a peer's JSON is not trusted to have the fields the panel reads).
import { describe, expect, it } from 'vitest';
import { StoreVersionError } from 'raftmesh';
import { maxBoardVersion, peerReleaseOf, releaseOf } from './peer-release.ts';

describe('a page’s gossiped release', () => {
  it('keeps only the version and, from a store that stopped, the version it met and the entry', () => {
    expect(releaseOf(2, null)).toEqual({ version: 2, outdated: null });
    const stopped = releaseOf(1, new StoreVersionError(1, 2, 14));
    expect(stopped).toEqual({ version: 1, outdated: { seenVersion: 2, index: 14 } });
    // Not the error's message: a status frame stays a few hundred bytes.
    expect(JSON.stringify(stopped)).toBe('{"version":1,"outdated":{"seenVersion":2,"index":14}}');
  });

  it('reads back what a page sends', () => {
    for (const release of [releaseOf(1, null), releaseOf(0, null), releaseOf(1, { seenVersion: 2, index: 14 }), releaseOf(maxBoardVersion - 1, { seenVersion: maxBoardVersion, index: Number.MAX_SAFE_INTEGER })]) {
      expect(peerReleaseOf(JSON.parse(JSON.stringify(release)))).toEqual(release);
    }
  });

  it('refuses a release that is not one: a version out of the store’s range, an index that is not a log index, a version met that is not newer', () => {
    const malformed: unknown[] = [
      null,
      'release 1',
      [1],
      {},
      { version: 1 },
      { version: '1', outdated: null },
      { version: -1, outdated: null },
      { version: 1.5, outdated: null },
      { version: maxBoardVersion + 1, outdated: null },
      { version: 1, outdated: 2 },
      { version: 1, outdated: [] },
      { version: 1, outdated: {} },
      { version: 1, outdated: { seenVersion: 2 } },
      { version: 1, outdated: { seenVersion: 2, index: 0 } },
      { version: 1, outdated: { seenVersion: 2, index: -3 } },
      { version: 1, outdated: { seenVersion: 2, index: 2 ** 53 } },
      { version: 1, outdated: { seenVersion: 2, index: '14' } },
      { version: 1, outdated: { seenVersion: 1, index: 14 } },
      { version: 2, outdated: { seenVersion: 1, index: 14 } },
      { version: 1, outdated: { seenVersion: maxBoardVersion + 1, index: 14 } },
    ];
    for (const value of malformed) expect(peerReleaseOf(value), JSON.stringify(value)).toBeNull();
  });
});
