import { describe, expect, it } from 'vitest';
import { seededRandom } from '../testing/index.ts';
import { createUnresolvedRequestIds } from './unresolved-request-ids.ts';

describe('the lowest unresolved request id', () => {
  it('matches a plain scan over random adds and removals, ids rising with some going back', () => {
    for (let seed = 1; seed <= 20; seed += 1) {
      const random = seededRandom(seed);
      const ids = createUnresolvedRequestIds();
      const live = new Map<number, number>();
      let nextProposal = 1;
      let nextRequest = 1;
      for (let step = 0; step < 5_000; step += 1) {
        if (live.size < 1_024 && random() < 0.55) {
          // Mostly rising ids; sometimes a caller's id a little below, sometimes one repeated.
          const requestId = random() < 0.1 ? Math.max(1, nextRequest - 1 - Math.floor(random() * 500)) : nextRequest++;
          ids.add(nextProposal, requestId);
          live.set(nextProposal, requestId);
          nextProposal += 1;
        } else if (live.size > 0) {
          // Mostly the oldest resolves first, sometimes any.
          const keys = [...live.keys()];
          const proposalId = random() < 0.7 ? (keys[0] as number) : (keys[Math.floor(random() * keys.length)] as number);
          ids.remove(proposalId);
          live.delete(proposalId);
        }
        const expected = live.size === 0 ? null : Math.min(...live.values());
        expect(ids.lowest()).toBe(expected);
      }
      ids.remove(123_456_789); // unknown: nothing happens
      ids.clear();
      expect(ids.lowest()).toBeNull();
    }
  });
});
