// The browser benchmark's arguments: a mistyped flag is refused before any browser starts (it
// used to start a full five-minute run on the defaults).
import { describe, expect, it } from 'vitest';
import { benchSizes, refuseUnknownArguments } from './options.ts';

describe('npm run bench:browser arguments', () => {
  it('takes its switches and sizes', () => {
    const sizes = benchSizes(['--tiny', '--in-flight=64', '--failover-trials=3', '--memory-commits=500', '--dev-server']);
    expect([sizes.tiny, sizes.saturationInFlightLevels, sizes.failoverTrials, sizes.memoryCommits]).toEqual([true, [64], 3, 500]);
    expect(benchSizes([]).tiny).toBe(false);
  });

  it('takes the saturation ramp as a list, sorted and without repeats, and ramps by default', () => {
    expect(benchSizes(['--in-flight=1024,256,1024']).saturationInFlightLevels).toEqual([256, 1024]);
    expect(benchSizes([]).saturationInFlightLevels).toEqual([256, 512, 1024, 2048]);
    expect(benchSizes(['--tiny']).saturationInFlightLevels.length).toBeGreaterThan(1);
  });

  it.each([
    [['--inflight=64'], 'unknown argument "--inflight=64"'],
    [['--tiny', 'extra'], 'unknown argument "extra"'],
    [['--in-flight', '64'], 'unknown argument "--in-flight"'],
    [['--in-flight=abc'], '--in-flight needs positive integers separated by commas, got "abc"'],
    [['--in-flight=256,'], '--in-flight needs positive integers separated by commas, got "256,"'],
    [['--in-flight=0,256'], '--in-flight needs positive integers separated by commas, got "0,256"'],
    [['--failover-trials=0'], '--failover-trials needs a positive integer, got "0"'],
    [['--memory-commits=1e6'], '--memory-commits needs a positive integer, got "1e6"'],
  ])('refuses %j', (argv, message) => {
    expect(() => benchSizes(argv)).toThrow(message);
  });
});

describe('refuseUnknownArguments (bench:browser-diagnose uses it too)', () => {
  const switches = ['--profile', '--profile-leader'];
  const valued = ['seconds'];
  it('takes known switches and valued options, and refuses a switch that only starts like a known one', () => {
    expect(() => refuseUnknownArguments(['--profile-leader', '--seconds=10'], switches, valued)).not.toThrow();
    expect(() => refuseUnknownArguments(['--profle'], switches, valued)).toThrow('unknown argument "--profle"');
    expect(() => refuseUnknownArguments(['--profile-leaders'], switches, valued)).toThrow('unknown argument "--profile-leaders"');
    expect(() => refuseUnknownArguments(['--seconds'], switches, valued)).toThrow('unknown argument "--seconds"');
  });
});
