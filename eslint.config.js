// Lint: type-aware checks everywhere (no floating promises); workflow code kept deterministic (no
// Node built-ins, nothing that does I/O, activities cross as types only); and the layers of
// docs/architecture.md kept apart: each folder imports only the folders below it.
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

/** Folders a layer may not import: everything above it in the request path. */
const LAYERS = {
  workflows: ['api', 'web', 'service', 'cli', 'temporal'],
  activities: ['api', 'web', 'service', 'cli'],
  service: ['api', 'web', 'cli'],
  cli: ['api', 'web', 'temporal', 'activities'],
};
const above = (layer) =>
  LAYERS[layer].map((folder) => ({
    group: [`../${folder}/*`, `../../${folder}/*`],
    message: `${layer}/ sits below ${folder}/ (docs/architecture.md): move the shared piece down instead.`,
  }));
const layerRule = (layer) => ({
  files: [`${layer}/**/*.ts`, `${layer}/**/*.tsx`],
  rules: { 'no-restricted-imports': ['error', { patterns: above(layer) }] },
});

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
            ...above('workflows'),
          ],
        },
      ],
    },
  },
  layerRule('activities'),
  layerRule('service'),
  layerRule('cli'),
);
