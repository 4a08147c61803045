// Lint: type-aware checks everywhere (no floating promises), and workflow code kept deterministic:
// it may import no Node built-ins and nothing that does I/O (activities cross as types only).
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', '.temporal/', 'bin/', 'docs/', 'eslint.config.js'] },
  {
    files: ['**/*.ts', '**/*.tsx'],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...builtinModules, ...builtinModules.map((name) => `node:${name}`)].map((name) => ({
            name,
            message: 'Workflow code is deterministic: no Node built-ins. Do it in an activity.',
          })),
          patterns: [
            { group: ['@temporalio/activity', '@temporalio/client', '@temporalio/worker', '@temporalio/testing'], message: 'Not in workflow code.' },
            { group: ['**/activities/*', '!**/activities/index.js'], message: 'Activities cross as types only (import type).' },
          ],
        },
      ],
    },
  },
);
