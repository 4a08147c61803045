// Lint: type-aware checks everywhere (no floating promises); workflow code kept deterministic (no
// Node built-ins, nothing that does I/O; activities are reached through their contract only); and the layers of
// docs/architecture.md kept apart: each folder imports only the folders it may.
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

/**
 * Every folder of the project and the folders it may import; the rest are refused. The entry points
 * at the top (app.ts, server.ts, worker.ts, start.ts), scripts/, bench/ and tests/ wire everything.
 */
const LAYERS = {
  core: [],
  config: ['core'],
  workflows: ['core', 'config'],
  activities: ['core', 'config', 'workflows'],
  temporal: ['core', 'config', 'workflows'],
  service: ['core', 'config', 'workflows', 'temporal'],
  auth: ['core', 'config', 'service'],
  api: ['core', 'config', 'workflows', 'service', 'auth'],
  web: ['core', 'config', 'workflows', 'service', 'auth'],
  cli: ['core', 'config', 'service'],
};
const FOLDERS = Object.keys(LAYERS);
const ENTRY_POINTS = ['app', 'server', 'worker', 'start'];
const up = (name) => ['../', '../../', '../../../'].map((prefix) => `${prefix}${name}`);
const refused = (layer) => [
  ...FOLDERS.filter((folder) => folder !== layer && !LAYERS[layer].includes(folder)).map((folder) => ({
    group: up(`${folder}/*`),
    message: `${layer}/ may import only ${LAYERS[layer].join(', ') || 'nothing of the project'} (docs/architecture.md): move the shared piece down instead.`,
  })),
  { group: ENTRY_POINTS.flatMap((entry) => up(`${entry}.js`)), message: 'The entry points wire the layers; no layer imports them.' },
];
const layerRule = (layer, extra = []) => ({
  files: [`${layer}/**/*.ts`, `${layer}/**/*.tsx`],
  rules: { 'no-restricted-imports': ['error', { patterns: [...refused(layer), ...extra] }] },
});

const nodeBuiltins = [...builtinModules, ...builtinModules.map((name) => `node:${name}`)];

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
  ...FOLDERS.filter((layer) => layer !== 'workflows' && layer !== 'core').map((layer) => layerRule(layer)),
  {
    // The pure core: no folder of the project, no Node built-in, no Temporal: the workflow sandbox and everyone else load it.
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'core/ is pure: no Node built-ins.' })),
          patterns: [
            ...refused('core'),
            { group: ['@temporalio/*', 'zod', 'hono', 'hono/*'], message: 'core/ is pure: no Temporal, no zod, no HTTP.' },
          ],
        },
      ],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Workflow code is deterministic: no Node built-ins. Do it in an activity.',
          })),
          patterns: [
            { group: ['@temporalio/activity', '@temporalio/client', '@temporalio/worker', '@temporalio/testing'], message: 'Not in workflow code.' },
            ...refused('workflows'),
          ],
        },
      ],
    },
  },
  {
    // Tests the compiler checks (docs/testing.md): a body is typed by the typed client, a Problem or a schema, never `any`.
    files: ['tests/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'error' },
  },
);
