import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // The cluster's tests need `npm run test:cluster` (vitest.cluster.config.ts) and its cluster;
    // only the binaries' lookup, which needs no server, runs here too.
    exclude: [...configDefaults.exclude, 'tests/cluster/!(binaries).test.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    setupFiles: ['tests/support/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Two cores: Temporal servers, workers and the tests share them.
    maxWorkers: 2,
  },
});
