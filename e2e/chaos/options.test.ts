// The campaign's arguments: known names in both spellings, bounds, and a refusal of anything else
// (a mistyped flag used to be ignored, and the campaign ran its defaults).
import { describe, expect, it } from 'vitest';
import { parseOptions } from './options.ts';

describe('npm run chaos arguments', () => {
  it('takes --name value and --name=value', () => {
    expect(parseOptions(['--seed', '7', '--seconds=30', '--nodes', '5', '--compact-every=0'])).toEqual({ seed: 7, seconds: 30, nodes: 5, compactEvery: 0, loseDatabaseOnKill: false });
  });

  it('takes --lose-database-on-kill as a flag, with no value', () => {
    expect(parseOptions(['--lose-database-on-kill', '--seed', '7'])).toMatchObject({ seed: 7, loseDatabaseOnKill: true });
  });

  it.each([
    [['--node', '5'], 'unknown argument "--node"'],
    [['--seed=3', '--bogus=1'], 'unknown argument "--bogus=1"'],
    [['7'], 'unknown argument "7"'],
    [['--seed', 'x'], '--seed must be an integer from 0 to 2147483647, got "x"'],
    [['--nodes', '2'], '--nodes must be an integer from 3 to 5, got "2"'],
    [['--lose-database-on-kill=1'], 'unknown argument "--lose-database-on-kill=1"'],
  ])('refuses %j', (argv, message) => {
    expect(() => parseOptions(argv)).toThrow(message);
  });
});
