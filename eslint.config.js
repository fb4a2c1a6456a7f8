// Lint: strict TypeScript rules plus the import direction of DESIGN.md (core imports nothing
// outside core; codec only core; adapters never the driver; nothing in src imports testing).
import tseslint from 'typescript-eslint';

const outside = (...folders) => folders.map((folder) => ({ group: [`**/${folder}/**`, `../${folder}/*`, `../../${folder}/*`], message: `this layer must not import ${folder} (see DESIGN.md "imports point one way")` }));

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'coverage/**', 'test-results/**', 'playwright-report/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'prefer-const': 'error',
      'no-console': 'error',
    },
  },
  {
    files: ['scripts/**', 'bench/**', 'src/testing/sim-cli.ts', '**/cli.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [...outside('codec', 'driver', 'storage', 'transport', 'testing', 'signaling', 'worker', 'webrtc'), { regex: '^[^.]', message: 'core is pure: no packages, no Node builtins' }] }],
    },
  },
  {
    files: ['src/codec/**/*.ts'],
    ignores: ['src/codec/**/*.test.ts', 'src/codec/arbitraries.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...outside('driver', 'storage', 'transport', 'testing', 'signaling', 'worker', 'webrtc')] }] },
  },
  {
    files: ['src/storage/**/*.ts', 'src/transport/**/*.ts', 'src/signaling/**/*.ts'],
    ignores: ['**/*.test.ts', '**/*conformance*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...outside('driver', 'testing')] }] },
  },
  {
    files: ['src/driver/**/*.ts', 'src/worker/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...outside('testing')] }] },
  },
);
