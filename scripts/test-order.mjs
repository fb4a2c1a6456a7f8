// The order Vitest starts the Node test files in. On a fresh clone (CI) Vitest has no timings of
// its own and starts the largest files first, and the simulation campaigns are small files: they
// ran last, so their minutes-long tail ran on one core while the other had nothing left (the last
// file to finish was simulation-5.test.ts, 82 s, 2026-12-07). They go first now, longest first;
// the many short files then fill both cores to the end.
import { relative } from 'node:path';
import { BaseSequencer } from 'vitest/node';

/** The Node test files that take longest (tens of seconds each on 2 cores), longest first. */
export const longestNodeTestFiles = [
  'src/testing/simulation-removals.test.ts',
  'src/testing/simulation-5.test.ts',
  'src/testing/simulation-3.test.ts',
  'src/testing/simulation-4.test.ts',
  'src/testing/simulation-witnesses.test.ts',
  'src/testing/exactly-once.test.ts',
  'src/edge/peer-cli-process.test.ts',
];

/**
 * `items` reordered so that, within each project (kept in the order they come), the files of
 * `longest` come first in that list's order, and the rest follow in the order they came.
 */
export function orderLongestFirst(items, projectOf, pathOf, longest = longestNodeTestFiles) {
  const projects = [];
  for (const item of items) if (!projects.includes(projectOf(item))) projects.push(projectOf(item));
  const rank = (item) => {
    const position = longest.indexOf(pathOf(item));
    return position === -1 ? longest.length : position;
  };
  return items
    .map((item, position) => ({ item, position }))
    .sort((left, right) => projects.indexOf(projectOf(left.item)) - projects.indexOf(projectOf(right.item)) || rank(left.item) - rank(right.item) || left.position - right.position)
    .map(({ item }) => item);
}

/** Vitest's own order (failed and longest first once it has timings), then orderLongestFirst. */
export class LongestFirstSequencer extends BaseSequencer {
  async sort(files) {
    const sorted = await super.sort(files);
    const root = this.ctx.config.root;
    return orderLongestFirst(
      sorted,
      (file) => file.project.name,
      (file) => relative(root, file.moduleId).split('\\').join('/'),
    );
  }
}
