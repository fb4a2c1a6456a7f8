import { describe, expect, it } from 'vitest';
import { releaseExplanation, releaseText } from './release-text.ts';

describe('the cluster panel’s version column', () => {
  it('shows the version a member’s page runs, and marks one whose store stopped with the entry and the version it needs', () => {
    expect(releaseText({ version: 2, outdated: null })).toBe('2');
    expect(releaseText({ version: 1, outdated: { seenVersion: 2, index: 14 } })).toBe('1 — outdated at entry 14 (needs version 2)');
    expect(releaseText(null)).toBe('–');
  });

  it('explains in its tooltip what an outdated member still does and what it does not', () => {
    expect(releaseExplanation({ version: 1, outdated: { seenVersion: 2, index: 14 } })).toBe(
      'its page runs version 1 of the board, but entry 14 of the log was written by version 2: its board stopped there and it cannot change the board until it is reloaded with the newer version (nothing is lost). Its node still votes and acknowledges.',
    );
    expect(releaseExplanation({ version: 2, outdated: null })).toBe('its page runs version 2 of the board');
    expect(releaseExplanation(null)).toMatch(/^unknown: /);
  });
});
