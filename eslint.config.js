// Lint: strict TypeScript rules plus the import direction of DESIGN.md ("imports point one way"):
// core imports nothing outside core (no packages, no Node builtins); codec only core and codec;
// adapters (storage, transport, signaling) never the driver; nothing in src imports testing
// (except testing itself), demo, e2e or bench. Not type-aware, so it stays fast.
import tseslint from 'typescript-eslint';

// Which relative imports leave a folder is decided by the file's depth, so each rule below is
// generated once per depth: from src/<layer>/<depth folders>/file.ts, `../` repeated depth+1
// times reaches src/ and depth+2 times reaches the repository root (demo/, e2e/, bench/).
const maxDepth = 4;
const toSrc = (depth) => (depth < 0 ? '\\./' : `(?:\\.\\./){${depth + 1}}`);
const toRoot = (depth) => `(?:\\.\\./){${depth + 2}}`;
const filesAt = (layer, depth) =>
  depth < 0 ? ['src/*.ts'] : [`src/${layer}/${'*/'.repeat(depth)}*.ts`];

// Tests and test-only helpers may reach across layers (the simulator, fast-check, vitest);
// they are not part of the shipped library.
const testSupport = ['**/*.test.ts', '**/*.test-support.ts', '**/arbitraries.ts', '**/*conformance*.ts'];

const why = 'see DESIGN.md "imports point one way"';

/**
 * @param {string} layer folder under src ('*' for any folder, '' for files directly in src)
 * @param {{ only?: string[], not?: string[], packages?: boolean }} policy
 *   only: the src folders it may import (itself included); not: src folders it must not import;
 *   packages: false forbids npm packages and node: builtins.
 */
function importRules(layer, { only, not = [], packages = true }) {
  const name = layer === '*' ? 'src' : layer === '' ? 'the src entry files' : `src/${layer}`;
  const forbidden = layer === 'testing' ? not : [...new Set([...not, 'testing'])];
  const depths = layer === '' ? [-1] : Array.from({ length: maxDepth + 1 }, (_, depth) => depth);
  return depths.map((depth) => {
    const patterns = [
      {
        regex: `^${toRoot(depth)}(?:demo|e2e|bench)(?:/|$)`,
        message: `${name} must not import demo, e2e or bench (${why})`,
      },
    ];
    if (only) {
      patterns.push({
        regex: `^${toSrc(depth)}(?!(?:${only.join('|')})/)`,
        message: `${name} may import only ${only.join(' and ')} (${why})`,
      });
    }
    if (forbidden.length > 0) {
      patterns.push({
        regex: `^${toSrc(depth)}(?:${forbidden.join('|')})(?:/|$)`,
        message: `${name} must not import ${forbidden.join(' or ')} (${why})`,
      });
    }
    if (forbidden.includes('testing')) {
      patterns.push({ regex: '^raftmesh/testing', message: `${name} must not import testing (${why})` });
    }
    if (!packages) {
      patterns.push({ regex: '^[^.]', message: `${name} is pure: no packages, no node: builtins (${why})` });
    }
    return {
      files: filesAt(layer, depth),
      ignores: testSupport,
      rules: { 'no-restricted-imports': ['error', { patterns }] },
    };
  });
}

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '**/dist/**', 'coverage/**', 'test-results/**', 'playwright-report/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,js,mjs}'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'prefer-const': 'error',
      'no-console': 'error',
      'no-var': 'error',
    },
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      // DESIGN.md: unions on `type`, no enums.
      'no-restricted-syntax': ['error', { selector: 'TSEnumDeclaration', message: 'use a union of string literals, not an enum (DESIGN.md)' }],
    },
  },
  {
    files: ['scripts/**', 'bench/**', 'src/testing/*-cli.ts', 'src/signaling/server/cli*.ts', 'src/signaling/server/cli/**', 'src/edge/cli.ts', 'src/edge/cli-exit.ts', 'src/edge/run-peer.ts', 'e2e/room-chaos/cli.ts', 'e2e/room-chaos/edge-peer-process.ts'],
    rules: { 'no-console': 'off' },
  },
  // Import direction. Later entries override earlier ones for the same file, so the catch-all
  // for any src folder comes first and each layer's entry repeats the common restrictions.
  ...importRules('', { not: [] }),
  ...importRules('*', { not: [] }),
  ...importRules('core', { only: ['core'], packages: false }),
  ...importRules('codec', { only: ['core', 'codec'], packages: false }),
  ...importRules('storage', { not: ['driver'] }),
  ...importRules('transport', { not: ['driver'] }),
  ...importRules('signaling', { not: ['driver'] }),
  ...importRules('testing', { not: [] }),
  // The worker host and its page client compose driver, core, codec, storage and transport; never testing.
  ...importRules('worker', { not: [] }),
  // Rooms compose the driver, signaling and a transport factory; like every src layer, never testing.
  ...importRules('rooms', { not: [] }),
  // DESIGN.md: the demo uses only the public entries, like any application would, and by the
  // package's name (scripts/source-aliases.mjs), so its files can be copied into an app as they are.
  {
    files: ['demo/**/*.ts'],
    ignores: ['demo/**/*.test.ts', 'demo/vite.config.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(?:\\.\\./)+src/', message: "the demo imports the library by its package name, as an application does: 'raftmesh', 'raftmesh/rooms', 'raftmesh/worker', 'raftmesh/webrtc' (scripts/source-aliases.mjs and tsconfig.json's paths map them to src/)" }] },
      ],
    },
  },
  // The black-box contract suite was written from API.md, SPEC.md and the README alone: it reaches
  // the library only through the public entries (package.json "exports"), as a user's code does,
  // plus the repository's process helper and package.json itself.
  {
    files: ['src/contract/black-box/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\./(?!\\.\\./(?:index|worker|webrtc|rooms|node|testing/index|signaling/server/index|testing/cli-process\\.test-support)\\.ts$|\\.\\./\\.\\./package\\.json$)',
              message: 'the black-box suite imports only the public entries: src/index.ts, testing/index.ts, worker.ts, webrtc.ts, rooms.ts, node.ts, signaling/server/index.ts',
            },
          ],
        },
      ],
    },
  },
);
