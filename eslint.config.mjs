// ESLint 9 flat config. Syntax-only typescript-eslint rules (no type information), so a full
// `eslint .` stays fast on two cores; `npm run typecheck` does the type checking.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Node's CommonJS globals for the plain .js/.cjs files (jest.config.js, scripts/*.js). TypeScript
// files need none: typescript-eslint turns `no-undef` off for them, the compiler checks names.
const nodeGlobals = Object.fromEntries(
  (
    'require module exports __dirname __filename process console Buffer URL URLSearchParams ' +
    'setTimeout clearTimeout setInterval clearInterval setImmediate clearImmediate queueMicrotask ' +
    'structuredClone AbortController TextEncoder TextDecoder fetch performance globalThis'
  )
    .split(' ')
    .map((name) => [name, 'readonly']),
);

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/coverage/**',
      'bench/results/**',
      '.scratch*/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,mts,cts,js,mjs,cjs}'],
    rules: {
      'no-console': 'error',
      // `any` is an error; a deliberate one carries an eslint-disable comment saying why.
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-unused-vars': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    // Command-line programs and benchmarks talk to the terminal.
    files: ['scripts/**', 'bench/**', 'apps/cli/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // Plain CommonJS files (jest.config.js, scripts/*.js) run in Node and use require().
    files: ['**/*.{js,cjs}'],
    languageOptions: { sourceType: 'commonjs', globals: nodeGlobals },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { sourceType: 'module', globals: nodeGlobals },
  },
);
