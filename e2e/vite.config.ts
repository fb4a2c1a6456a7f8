// The test pages the Playwright specs load (e2e/pages/*.html, the chaos campaign's node page and
// the demo at /demo/index.html), built once per run by playwright.config.ts (which says why) and
// served by `vite preview` at the paths the dev server served them at before. The packed-package
// spec still drives a dev server of its own, on purpose.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { raftmeshSourceAliases } from '../scripts/source-aliases.mjs';

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));
const pagesFolder = 'e2e/pages';
/** Built by e2e/worker-build.spec.ts itself, as an application would build it. */
const builtBySpec = 'worker-build.html';

const pages = [
  ...readdirSync(new URL('pages', import.meta.url))
    .filter((file) => file.endsWith('.html') && file !== builtBySpec)
    .map((file) => `${pagesFolder}/${file}`),
  'e2e/chaos/pages/chaos-node.html',
  'demo/index.html',
];

export default defineConfig({
  root: repositoryRoot,
  // The repository's own config builds the library; this file is read instead of it, not merged.
  worker: { format: 'es' },
  // The demo imports the package by name (scripts/source-aliases.mjs).
  resolve: { alias: raftmeshSourceAliases },
  build: {
    outDir: 'e2e/dist',
    emptyOutDir: true,
    target: 'es2022',
    // Not minified: names in a page's stack traces stay readable, and the build is quicker.
    minify: false,
    rollupOptions: { input: Object.fromEntries(pages.map((page) => [page.replace(/\.html$/, ''), `${repositoryRoot}${page}`])) },
  },
  preview: { host: '127.0.0.1' },
});
