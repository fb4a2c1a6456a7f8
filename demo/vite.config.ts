// The demo app: served from demo/ (dev server or `npm run build:demo` into demo/dist), importing
// the library's sources under the package's own names; the engine's worker is bundled as a module worker.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { raftmeshSourceAliases } from '../scripts/source-aliases.mjs';

const demoRoot = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: demoRoot,
  base: './',
  worker: { format: 'es' },
  // `raftmesh`, `raftmesh/rooms`, ... from the sources (scripts/source-aliases.mjs says why).
  resolve: { alias: raftmeshSourceAliases },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: true },
  server: { fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] } },
  preview: { host: '127.0.0.1' },
});
