import { describe, expect, it } from 'vitest';
import { createEmitter, createStagedWatchable, createWatchable, setTogether, stagedChange } from './observable.ts';

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

describe('watchables and emitters', () => {
  it('a value set from inside a listener reaches every listener after the one being delivered, so each ends on the latest', () => {
    const watched = createWatchable(0);
    watched.subscribe((value) => {
      if (value === 1) watched.set(2);
    });
    const later: number[] = [];
    watched.subscribe((value) => later.push(value));
    watched.set(1);
    expect(watched.value).toBe(2);
    expect(later).toEqual([1, 2]);
  });

  it('the same function subscribed twice is two subscriptions: one unsubscribe ends only its own', () => {
    const watched = createWatchable(0);
    const calls: number[] = [];
    const listener = (value: number): void => {
      calls.push(value);
    };
    const first = watched.subscribe(listener);
    watched.subscribe(listener);
    watched.set(1);
    first();
    first();
    watched.set(2);
    expect(calls).toEqual([1, 1, 2]);
  });

  it('listeners that keep emitting from inside an emit are stopped at a bound, and the emitter keeps working', async () => {
    const emitter = createEmitter<number>();
    let delivered = 0;
    emitter.subscribe((value) => {
      delivered += 1;
      emitter.emit(value + 1);
    });
    const reported = new Promise<unknown>((resolve) => process.once('unhandledRejection', resolve));
    emitter.emit(0);
    expect(delivered).toBe(10_001);
    expect(String(await reported)).toMatch(/more than 10000 values/);
    delivered = 0;
    const quiet = createEmitter<number>();
    quiet.subscribe(() => (delivered += 1));
    quiet.emit(1);
    expect(delivered).toBe(1);
  });
});
