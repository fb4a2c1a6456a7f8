import { describe, expect, it } from 'vitest';
import { nodeId } from './types.ts';
import { WedgeDetector } from './wedge-detector.ts';

const leader = nodeId('leader');

describe('WedgeDetector', () => {
  it('reports a sender once when its frames keep being refused for the whole window', () => {
    const detector = new WedgeDetector(1_000);
    const reports: number[] = [];
    for (let now = 0; now <= 3_000; now += 50) if (detector.refused(leader, 'senderNotVoter', now)) reports.push(now);
    expect(reports).toEqual([1_000]);
  });

  it('does not count refusals far apart as a wedge: silence for a window starts the streak again', () => {
    const detector = new WedgeDetector(1_000);
    expect(detector.refused(leader, 'termJump', 0)).toBe(false);
    expect(detector.refused(leader, 'termJump', 5_000)).toBe(false); // a second frame minutes later
    expect(detector.refused(leader, 'termJump', 5_900)).toBe(false); // the new streak is 900 ms old
    expect(detector.refused(leader, 'termJump', 6_000)).toBe(true);
  });

  it('ignores refusals that are not about leader authority or terms, and forgets a sender once accepted', () => {
    const detector = new WedgeDetector(1_000);
    expect(detector.refused(leader, 'senderNotMember', 0)).toBe(false);
    expect(detector.refused(leader, 'senderNotMember', 2_000)).toBe(false);
    detector.refused(leader, 'leaderNotPinned', 0);
    detector.accepted(leader);
    expect(detector.refused(leader, 'leaderNotPinned', 1_500)).toBe(false); // a new streak
    expect(detector.refused(leader, 'leaderNotPinned', 2_500)).toBe(true);
  });
});
