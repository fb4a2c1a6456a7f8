import { describe, expect, it } from 'vitest';
import { readUnreachableAfterMs } from './settings.ts';

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
