// Fails on any circular import among src/**/*.ts (tests excluded): layers must point one way.
// Reads static `import ... from './x.ts'`, `import './x.ts'` and `export ... from './x.ts'`;
// type-only imports vanish at runtime but still tangle the design, so they count too.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve('src');
const skipped = new Set(['node_modules', 'dist', 'coverage']);
const isSource = (path) => path.endsWith('.ts') && !path.endsWith('.test.ts') && !path.endsWith('.d.ts');

function walk(folder, files) {
  for (const name of readdirSync(folder)) {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) {
      if (!skipped.has(name)) walk(path, files);
    } else if (isSource(path)) {
      files.push(path);
    }
  }
  return files;
}

const stripComments = (source) => source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
const specifiers = /(?:^|[\n;])\s*(?:import|export)\s(?:[^'";]*?\sfrom\s*)?['"](\.{1,2}\/[^'"]+)['"]/g;

/** The file a relative specifier names: as written, with `.js` read as `.ts`, or a folder index. */
function resolveSpecifier(from, specifier, known) {
  const base = resolve(dirname(from), specifier);
  const candidates = [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((candidate) => known.has(candidate)) ?? null;
}

const files = existsSync(root) ? walk(root, []) : [];
const known = new Set(files);
const graph = new Map();
for (const file of files) {
  const source = stripComments(readFileSync(file, 'utf8'));
  const targets = new Set();
  for (const match of source.matchAll(specifiers)) {
    const target = resolveSpecifier(file, match[1], known);
    if (target !== null) targets.add(target);
  }
  graph.set(file, [...targets]);
}

// Depth-first search; every edge back into the current path closes a cycle.
const state = new Map();
const path = [];
const cycles = [];
function visit(file) {
  state.set(file, 'on path');
  path.push(file);
  for (const target of graph.get(file)) {
    if (state.get(target) === 'on path') {
      cycles.push([...path.slice(path.indexOf(target)), target].map((step) => relative(process.cwd(), step)).join(' -> '));
    } else if (!state.has(target)) {
      visit(target);
    }
  }
  path.pop();
  state.set(file, 'done');
}
for (const file of files) if (!state.has(file)) visit(file);

if (cycles.length > 0) {
  console.error(`circular imports (${cycles.length}):`);
  for (const cycle of cycles) console.error(`  ${cycle}`);
  process.exit(1);
}
console.log(`no circular imports among ${files.length} files in src/ (tests excluded)`);
