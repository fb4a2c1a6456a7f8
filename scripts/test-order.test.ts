import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { longestNodeTestFiles, orderLongestFirst } from './test-order.mjs';

describe('the order Node test files start in', () => {
  const item = (project: string, path: string) => ({ project, path });
  const order = (items: { project: string; path: string }[], longest: string[]) =>
    orderLongestFirst(items, (each) => each.project, (each) => each.path, longest).map((each) => `${each.project}:${each.path}`);

  it('puts the longest files first, in the list order, within each project, and keeps the rest as they came', () => {
    const items = [item('node', 'a.test.ts'), item('node', 'sim-b.test.ts'), item('node', 'c.test.ts'), item('node', 'sim-a.test.ts'), item('isolated', 'd.test.ts'), item('isolated', 'cli.test.ts')];
    expect(order(items, ['sim-a.test.ts', 'sim-b.test.ts', 'cli.test.ts'])).toEqual([
      'node:sim-a.test.ts',
      'node:sim-b.test.ts',
      'node:a.test.ts',
      'node:c.test.ts',
      'isolated:cli.test.ts',
      'isolated:d.test.ts',
    ]);
  });

  it('changes nothing when no listed file is among them', () => {
    const items = [item('node', 'b.test.ts'), item('node', 'a.test.ts')];
    expect(order(items, ['z.test.ts'])).toEqual(['node:b.test.ts', 'node:a.test.ts']);
  });

  it('names files that exist (a renamed campaign would silently start last again)', () => {
    for (const path of longestNodeTestFiles) expect(existsSync(join(import.meta.dirname, '..', path)), path).toBe(true);
  });
});
