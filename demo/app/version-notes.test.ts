import { describe, expect, it } from 'vitest';
import { outdatedBannerText, storeOutdatedNote } from './version-notes.ts';
import { storeOptions } from '../board/store-options.ts';

describe('a page whose board store met a newer version of the board', () => {
  it('notes the versions and the entry in the timeline, and that a reload loses nothing', () => {
    expect(storeOutdatedNote({ type: 'storeOutdated', storeVersion: 1, seenVersion: 2, index: 42, at: 0 })).toBe(
      'a newer version of the board (version 2; this page runs version 1) wrote entry 42: this page stopped updating the board there and cannot change it; reload it to get the newer version (nothing is lost)',
    );
  });

  it('asks for a reload in the banner', () => {
    expect(outdatedBannerText).toBe('A newer version of this board is running in this room: reload this page to get it. Until then this page shows the board as it was and cannot change it.');
  });

  it('runs the board at version 1: the first versioned release, which folds the version-0 entries and snapshots already in browsers', () => {
    expect(storeOptions.version).toBe(1);
  });
});
