import { describe, expect, it } from 'vitest';
import { defaultRaftConfig, defaultResolvedRaftConfig, resolveRaftConfig, type Clock, type RaftConfig } from './config.ts';

describe('RaftConfig (API.md "Configuration")', () => {
  it('fills the documented defaults', () => {
    const resolved = resolveRaftConfig({});
    expect(resolved.electionTimeoutMinMs).toBe(150);
    expect(resolved.electionTimeoutMaxMs).toBe(300);
    expect(resolved.heartbeatIntervalMs).toBe(50);
    expect(resolved.slowProposeThresholdMs).toBe(100);
    expect(resolved.snapshotChunkCeilingBytes).toBe(16 * 1024);
    expect(resolved.snapshotTotalCeilingBytes).toBe(64 * 1024 * 1024);
    expect(resolved.snapshotBytesPerSecond).toBe(1024 * 1024);
    expect(resolved.maxTermJump).toBe(10_000);
    expect(resolved).toEqual(defaultResolvedRaftConfig);
  });

  it('says so when the value refused is a default the caller never set, clashing with one it did', () => {
    expect(() => resolveRaftConfig({ electionTimeoutMin: 500 })).toThrow('RaftConfig.electionTimeoutMax = 300 (its default: it was not set, so set it too) is invalid: must be an integer number of ms above electionTimeoutMin (500)');
    expect(() => resolveRaftConfig({ electionTimeoutMin: 40, electionTimeoutMax: 80 })).toThrow('RaftConfig.heartbeatInterval = 50 (its default: it was not set, so set it too) is invalid');
    expect(() => resolveRaftConfig({ electionTimeoutMin: 500, electionTimeoutMax: 400 })).toThrow('RaftConfig.electionTimeoutMax = 400 is invalid');
  });

  it('refuses an invalid value with a RangeError naming the field, the value and the rule', () => {
    expect(() => resolveRaftConfig({ heartbeatInterval: 150 })).toThrow(/RaftConfig\.heartbeatInterval = 150 .*< electionTimeoutMin \(150\)/);
    expect(() => resolveRaftConfig({ heartbeatInterval: 0 })).toThrow(RangeError);
    expect(() => resolveRaftConfig({ maxTermJump: 0 })).toThrow(/RaftConfig\.maxTermJump = 0/);
    expect(() => resolveRaftConfig({ maxTermJump: 2 ** 20 + 1 })).toThrow(RangeError);
    expect(() => resolveRaftConfig({ snapshotChunkCeiling: 0 })).toThrow(/RaftConfig\.snapshotChunkCeiling = 0/);
    expect(() => resolveRaftConfig({ snapshotTotalCeiling: 0 })).toThrow(/RaftConfig\.snapshotTotalCeiling = 0/);
  });

  it('exports the defaults in its own names: spread into a RaftConfig, they resolve to the defaults', () => {
    // The root exported the resolved form under this name until 2026-12-07; spreading it was refused.
    expect(resolveRaftConfig({ ...defaultRaftConfig })).toEqual(defaultResolvedRaftConfig);
    expect(resolveRaftConfig({ ...defaultRaftConfig, heartbeatInterval: 20 }).heartbeatIntervalMs).toBe(20);
    // One default per resolved field (every option but the injected clock and randomness): the
    // spread above resolving at all shows each of its names is an option.
    expect(Object.keys(defaultRaftConfig)).toHaveLength(Object.keys(defaultResolvedRaftConfig).length);
  });

  it('refuses an option it does not have, and names the right one for the resolved names with units', () => {
    expect(() => resolveRaftConfig({ heartbeatIntervalMs: 50 } as never)).toThrow(new RangeError('RaftConfig has no option "heartbeatIntervalMs" (did you mean heartbeatInterval? RaftConfig options have no unit suffix)'));
    expect(() => resolveRaftConfig({ snapshotChunkCeilingBytes: 4096 } as never)).toThrow(/did you mean snapshotChunkCeiling\?/);
    expect(() => resolveRaftConfig({ electionTimeout: 500 } as never)).toThrow(new RangeError('RaftConfig has no option "electionTimeout"'));
    expect(() => resolveRaftConfig(null as never)).toThrow(/RaftConfig must be an object/);
  });

  it('names a value that is not a number with its type, so "50" does not read like a valid 50', () => {
    const untyped = (config: Record<string, unknown>): RaftConfig => config as RaftConfig;
    expect(() => resolveRaftConfig(untyped({ heartbeatInterval: '50' }))).toThrow('RaftConfig.heartbeatInterval = "50" (string) is invalid');
    expect(() => resolveRaftConfig(untyped({ witness: 'yes' }))).toThrow('RaftConfig.witness = "yes" (string) is invalid: must be a boolean');
  });

  it('says a fractional value is refused for not being an integer, which the range alone would not explain', () => {
    expect(() => resolveRaftConfig({ heartbeatInterval: 49.5 })).toThrow('RaftConfig.heartbeatInterval = 49.5 is invalid: must be an integer number of ms >= 1');
    expect(() => resolveRaftConfig({ maxTermJump: 1.5 })).toThrow('RaftConfig.maxTermJump = 1.5 is invalid: must be an integer from 1 to 1048576');
  });

  it('refuses a clock or random source that is not one, naming the field, the value and the rule', () => {
    const untyped = (config: Record<string, unknown>): RaftConfig => config as RaftConfig;
    expect(() => resolveRaftConfig(untyped({ random: 5 }))).toThrow('RaftConfig.random = 5 is invalid: must be a function');
    expect(() => resolveRaftConfig(untyped({ clock: 5 }))).toThrow(/RaftConfig\.clock = 5 is invalid: must be a Clock with now\(\), setTimeout/);
    expect(() => resolveRaftConfig(untyped({ clock: { now: () => 0 } }))).toThrow(RangeError);
    expect(() => resolveRaftConfig(untyped({ clock: null }))).toThrow(/RaftConfig\.clock = null \(null\)/);
    const clock: Clock = { now: () => 0, setTimeout: () => 1, clearTimeout: () => {} };
    expect(resolveRaftConfig({ clock, random: () => 0.5 })).toEqual(defaultResolvedRaftConfig);
  });

  it('accepts the edges of the documented ranges', () => {
    expect(resolveRaftConfig({ maxTermJump: 1 }).maxTermJump).toBe(1);
    expect(resolveRaftConfig({ maxTermJump: 2 ** 20 }).maxTermJump).toBe(2 ** 20);
    expect(resolveRaftConfig({ heartbeatInterval: 1 }).heartbeatIntervalMs).toBe(1);
    expect(resolveRaftConfig({ heartbeatInterval: 149 }).heartbeatIntervalMs).toBe(149);
  });

  it('accepts small snapshot chunks: they cost round trips, not safety', () => {
    expect(resolveRaftConfig({ snapshotChunkCeiling: 64 }).snapshotChunkCeilingBytes).toBe(64);
  });

  it('takes a receiver total ceiling below its own chunk ceiling: one bounds what it reassembles, the other what it sends', () => {
    expect(resolveRaftConfig({ snapshotTotalCeiling: 2_048 }).snapshotTotalCeilingBytes).toBe(2_048);
  });

  it('paces snapshot streams at a whole number of bytes per second, or not at all with Infinity', () => {
    expect(resolveRaftConfig({ snapshotBytesPerSecond: 1024 }).snapshotBytesPerSecond).toBe(1024);
    expect(resolveRaftConfig({ snapshotBytesPerSecond: Number.POSITIVE_INFINITY }).snapshotBytesPerSecond).toBe(Number.POSITIVE_INFINITY);
    expect(() => resolveRaftConfig({ snapshotBytesPerSecond: 0 })).toThrow('RaftConfig.snapshotBytesPerSecond = 0 is invalid: must be an integer from 1024 to 1099511627776 bytes per second, or Infinity');
    expect(() => resolveRaftConfig({ snapshotBytesPerSecond: 1023 })).toThrow(RangeError);
    expect(() => resolveRaftConfig({ snapshotBytesPerSecond: 4096.5 })).toThrow(/RaftConfig\.snapshotBytesPerSecond = 4096\.5/);
    expect(() => resolveRaftConfig({ snapshotBytesPerSecond: Number.NaN })).toThrow(/RaftConfig\.snapshotBytesPerSecond = NaN/);
    expect(() => resolveRaftConfig({ snapshotBytesPerSecond: Number.NEGATIVE_INFINITY })).toThrow(RangeError);
  });
});
