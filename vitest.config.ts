import { configDefaults, defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take half a minute or more, longest first (measured: `npx vitest run
 * --reporter=json`). Vitest runs files longest first once its cache knows their times, but a clean
 * clone (CI) has no cache: the longest file would start last and run alone at the end.
 */
const SLOWEST = ['api/resilience', 'e2e/dashboard', 'api/scale', 'api/chaos', 'e2e/npm-start'].map((name) => `/tests/${name}.test.ts`);

class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification) => {
      const at = SLOWEST.findIndex((name) => file.moduleId.endsWith(name));
      return at === -1 ? SLOWEST.length : at;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // The cluster's tests need `npm run test:cluster` (vitest.cluster.config.ts) and its cluster.
    exclude: [...configDefaults.exclude, 'tests/cluster/**'],
    globalSetup: ['tests/support/global-setup.ts'],
    setupFiles: ['tests/support/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Two cores: Temporal servers, workers and the tests share them.
    maxWorkers: 2,
    sequence: { sequencer: SlowestFirst },
  },
});
