// Vitest configuration (unit, scenario and simulation suites in Node) and the library build.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  build: {
    lib: {
      entry: { index: 'src/index.ts', testing: 'src/testing/index.ts' },
      formats: ['es'],
    },
    outDir: 'dist',
    sourcemap: true,
  },
  test: {
    include: ['src/**/*.test.ts', 'bench/**/*.test.ts'],
    environment: 'node',
    pool: 'threads',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
