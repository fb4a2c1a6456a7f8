import { describe, expect, it } from 'vitest';
import { createStagedWatchable, setTogether, stagedChange } from './observable.ts';

describe('setTogether', () => {
  it('stores every value before it announces any, and announces only the changed ones, in order', () => {
    const role = createStagedWatchable('follower');
    const term = createStagedWatchable(1);
    const unchanged = createStagedWatchable('same');
    const heard: string[] = [];
    role.subscribe((value) => heard.push(`role ${value} with term ${term.value}`));
    term.subscribe((value) => heard.push(`term ${value} with role ${role.value}`));
    unchanged.subscribe((value) => heard.push(`unchanged ${value}`));
    setTogether([stagedChange(role, 'leader'), stagedChange(term, 2), stagedChange(unchanged, 'same')]);
    expect(heard).toEqual(['role leader with term 2', 'term 2 with role leader']);
  });

  it('set on a staged watchable still stores and announces at once', () => {
    const value = createStagedWatchable(0);
    const heard: number[] = [];
    value.subscribe((next) => heard.push(next));
    value.set(1);
    value.set(1);
    expect(heard).toEqual([1]);
  });
});
