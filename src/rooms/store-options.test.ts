// The store's options and their bounds (resolveStoreOptions). `snapshotEvery: Infinity` means never
// publish: for a store that cannot compute the state from the commands (an edge peer without the
// application's reducer), where any count, however large, is reached in the end.
import { describe, expect, it } from 'vitest';
import { roomTimings } from './join-room-options.ts';
import { resolveStoreOptions, type ReplicatedStoreOptions } from './store-options.ts';

const base: ReplicatedStoreOptions<number, number> = { initialState: 0, apply: (state, command) => state + command };

describe('ReplicatedStoreOptions.snapshotEvery', () => {
  it('is 1,000 by default, takes an integer from 1 to 10,000,000, and Infinity for never', () => {
    expect(resolveStoreOptions(base).snapshotEvery).toBe(1_000);
    for (const every of [1, 250, 10_000_000, Number.POSITIVE_INFINITY]) expect(resolveStoreOptions({ ...base, snapshotEvery: every }).snapshotEvery).toBe(every);
  });

  it('refuses anything else with a RangeError naming the option', () => {
    for (const every of [0, -1, 1.5, 10_000_001, Number.NaN, Number.NEGATIVE_INFINITY, '5' as unknown as number]) {
      expect(() => resolveStoreOptions({ ...base, snapshotEvery: every }), String(every)).toThrow(/ReplicatedStoreOptions\.snapshotEvery = .* must be an integer in 1\.\.10000000, or Infinity to never publish/);
    }
  });
});

describe('ReplicatedStoreOptions.version', () => {
  it('is 0 (unversioned) by default and takes an integer from 0 to 2^31-1', () => {
    expect(resolveStoreOptions(base).version).toBe(0);
    for (const version of [0, 1, 7, 2 ** 31 - 1]) expect(resolveStoreOptions({ ...base, version }).version).toBe(version);
  });

  it('refuses anything else with a RangeError naming the option and the value as written', () => {
    for (const version of [-1, 1.5, 2 ** 31, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => resolveStoreOptions({ ...base, version }), String(version)).toThrow(/^ReplicatedStoreOptions\.version = .* must be an integer in 0\.\.2147483647$/);
    }
    expect(() => resolveStoreOptions({ ...base, version: '2' as unknown as number })).toThrow('ReplicatedStoreOptions.version = "2" (string) must be an integer in 0..2147483647');
  });
});

describe('a number given as a string', () => {
  it('is named as the string it is, not printed like the valid number it reads as', () => {
    expect(() => resolveStoreOptions({ ...base, snapshotEvery: '1500' as unknown as number })).toThrow('ReplicatedStoreOptions.snapshotEvery = "1500" (string) must be an integer');
  });
});

describe('joinRoom timings given as strings', () => {
  it('names the string, so discoveryMs = "1500" does not read like a valid 1500', () => {
    const options = { discoveryMs: '1500' } as unknown as Parameters<typeof roomTimings>[0];
    expect(() => roomTimings(options)).toThrow('joinRoom discoveryMs = "1500" (string) must be an integer in 0..600000');
  });
});
