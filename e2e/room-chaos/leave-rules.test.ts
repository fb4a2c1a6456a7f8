import { describe, expect, it } from 'vitest';
import { leaveWithoutMajorityReason } from './leave-rules.ts';

describe('when the rooms campaign holds a leave back', () => {
  it('holds back a voter whose leave would leave fewer live voters than a majority (seed 46: one voter gone for good)', () => {
    expect(leaveWithoutMajorityReason(['a', 'b', 'c'], 'b', ['b', 'c'])).toMatch(/b is one of 3 voters \[a, b, c\], and without it 1 live voter\(s\) cannot make a majority of 2/);
  });

  it('lets a voter leave while a majority of the configuration lives without it', () => {
    expect(leaveWithoutMajorityReason(['a', 'b', 'c'], 'b', ['a', 'b', 'c'])).toBeNull();
    expect(leaveWithoutMajorityReason(['a', 'b', 'c', 'd', 'e'], 'e', ['a', 'b', 'c', 'e'])).toBeNull();
  });

  it('always lets a learner or a stranger leave', () => {
    expect(leaveWithoutMajorityReason(['a', 'b', 'c'], 'd', ['d'])).toBeNull();
  });
});
