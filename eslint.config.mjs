import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test/runtimes/**', 'bench/original/node_modules/**', 'coverage/**', 'bench/results/**', 'data/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // The extension runs inside hosts that replace https.request process-wide
    // with a two-argument (options, callback) wrapper (wt serve, through
    // agent-base@4): a URL first argument or a third argument breaks there.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error', {
        selector: "CallExpression[callee.object.name=/^https?$/][callee.property.name=/^(request|get)$/]:not([arguments.length=2][arguments.0.type='ObjectExpression'])",
        message: 'Call http(s).request/get as (options object, callback) only: hosts such as wt serve patch https.request to that two-argument form.',
      }],
    },
  },
  {
    // Plain CommonJS files that jest and node load directly.
    files: ['**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
