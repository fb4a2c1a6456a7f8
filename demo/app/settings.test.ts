import { describe, expect, it } from 'vitest';
import { readBoardVersion, readUnreachableAfterMs } from './settings.ts';

const read = (search: string): number | undefined => readUnreachableAfterMs(new URLSearchParams(search));

describe('readUnreachableAfterMs', () => {
  it('is undefined without the parameter: joinRoom keeps its default', () => {
    expect(read('room=board&name=Ana')).toBeUndefined();
  });

  it('reads whole milliseconds within the policy range', () => {
    expect(read('unreachableAfterMs=3000')).toBe(3_000);
    expect(read('unreachableAfterMs=1')).toBe(1);
    expect(read('unreachableAfterMs=86400000')).toBe(86_400_000);
  });

  it('ignores what the policy would refuse, so a typo does not fail the join', () => {
    for (const bad of ['', '0', '-5', '2.5', '3e3', ' 3000', 'abc', '86400001', '999999999']) expect(read(`unreachableAfterMs=${encodeURIComponent(bad)}`), bad).toBeUndefined();
  });
});

describe('readBoardVersion', () => {
  const version = (search: string): number | undefined => readBoardVersion(new URLSearchParams(search));

  it('is undefined without the parameter: the board runs at its own version', () => {
    expect(version('room=board')).toBeUndefined();
  });

  it('reads a whole number within the store\'s range', () => {
    expect(version('version=2')).toBe(2);
    expect(version(`version=${2 ** 31 - 1}`)).toBe(2 ** 31 - 1);
  });

  it('ignores what the store would refuse, so a typo does not fail the join', () => {
    for (const bad of ['', '0', '-1', '1.5', '2e0', 'two', String(2 ** 31), '99999999999']) expect(version(`version=${encodeURIComponent(bad)}`), bad).toBeUndefined();
  });
});
