import { defineConfig } from 'vitest/config';

/**
 * `npm run test:cluster`: the tests that prove Interlock on a real cluster (PostgreSQL under the
 * Temporal server), and the API and end-to-end tests of trigger, manual step, wait, events, cancel,
 * idempotency and listing run again against it instead of the dev server.
 */
export default defineConfig({
  test: {
    include: [
      'tests/cluster/**/*.test.ts',
      'tests/api/deployments.test.ts',
      'tests/api/interruptions.test.ts',
      'tests/api/progress.test.ts',
      'tests/e2e/real-cluster.test.ts',
    ],
    globalSetup: ['tests/support/cluster-setup.ts'],
    setupFiles: ['tests/support/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Two cores: PostgreSQL, Temporal servers, workers and the tests share them.
    maxWorkers: 2,
  },
});
