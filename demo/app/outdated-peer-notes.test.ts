import { describe, expect, it } from 'vitest';
import { createOutdatedPeerNotes, maxNotedOutdatedPeers } from './outdated-peer-notes.ts';
import type { PeerRelease } from './peer-release.ts';

const stoppedAt = (index: number): PeerRelease => ({ version: 1, outdated: { seenVersion: 2, index } });
const worded = (note: ReturnType<ReturnType<typeof createOutdatedPeerNotes>>): string | null => (note === null ? null : note((id) => `name of ${id}`));

describe('the timeline notes of members whose older release stopped', () => {
  it('note each stop once, a new stop of the same peer again, and nothing for a release that folds or is unknown', () => {
    const note = createOutdatedPeerNotes();
    expect(note('bo', { version: 2, outdated: null }, 2)).toBeNull();
    expect(note('bo', undefined, 2)).toBeNull();
    expect(worded(note('bo', stoppedAt(14), 2))).toMatch(/^name of bo runs an older version of the board \(version 1\): entry 14 was written by version 2/);
    expect(note('bo', stoppedAt(14), 2)).toBeNull();
    expect(note('cy', stoppedAt(14), 2)).not.toBeNull();
    expect(note('bo', stoppedAt(20), 2)).not.toBeNull(); // another stop
  });

  it('note nothing on a page older than what stopped the peer', () => {
    const note = createOutdatedPeerNotes();
    expect(note('bo', stoppedAt(14), 1)).toBeNull();
    expect(note('bo', { version: 2, outdated: { seenVersion: 3, index: 30 } }, 2)).toBeNull();
    expect(note('bo', { version: 2, outdated: { seenVersion: 3, index: 30 } }, 4)).not.toBeNull();
  });

  it('remember at most maxNotedOutdatedPeers peers: the longest noted is forgotten first, and noted again if heard so', () => {
    const note = createOutdatedPeerNotes();
    for (let k = 0; k <= maxNotedOutdatedPeers; k += 1) expect(note(`peer-${k}`, stoppedAt(14), 2)).not.toBeNull();
    expect(note(`peer-${maxNotedOutdatedPeers}`, stoppedAt(14), 2)).toBeNull();
    expect(note('peer-1', stoppedAt(14), 2)).toBeNull();
    expect(note('peer-0', stoppedAt(14), 2)).not.toBeNull();
  });
});
