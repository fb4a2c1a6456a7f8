// Fails on any circular import among src/**/*.ts (tests excluded): layers must point one way.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve('src');
const files = [];
const walk = (folder) => {
  for (const name of readdirSync(folder)) {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (path.endsWith('.ts') && !path.endsWith('.test.ts') && !path.endsWith('.d.ts')) files.push(path);
  }
};
walk(root);

const importPattern = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]/g;
const graph = new Map();
for (const file of files) {
  const source = readFileSync(file, 'utf8');
  const targets = [];
  for (const match of source.matchAll(importPattern)) {
    // Type-only imports vanish at runtime but still tangle the design: count them too.
    targets.push(resolve(dirname(file), match[1]));
  }
  graph.set(file, targets.filter((target) => graph.has(target) || files.includes(target)));
}

const state = new Map();
const stack = [];
const cycles = [];
const visit = (file) => {
  state.set(file, 'visiting');
  stack.push(file);
  for (const target of graph.get(file) ?? []) {
    if (state.get(target) === 'visiting') cycles.push([...stack.slice(stack.indexOf(target)), target].map((path) => relative(root, path)).join(' -> '));
    else if (!state.has(target)) visit(target);
  }
  stack.pop();
  state.set(file, 'done');
};
for (const file of files) if (!state.has(file)) visit(file);

if (cycles.length > 0) {
  console.error(`circular imports (${cycles.length}):`);
  for (const cycle of cycles) console.error(`  ${cycle}`);
  process.exit(1);
}
console.log(`no circular imports among ${files.length} files`);
