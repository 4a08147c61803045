import { rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { startCluster } from '../../temporal/cluster.js';
import { clusterScratch, freeClusterPorts } from './cluster.js';
import { provideTestRun } from './global-setup.js';

/**
 * `npm run test:cluster`: the selected API and end-to-end tests share one real cluster (PostgreSQL
 * and the Temporal server, as `npm run cluster` runs them) on ports of its own, or the cluster at
 * TEMPORAL_ADDRESS when one is given. A missing binary is built, never a reason to skip.
 */
export default function setup(project: TestProject) {
  return provideTestRun(project, async () => {
    const given = process.env.TEMPORAL_ADDRESS;
    if (given) return { address: given, stop: async () => undefined };
    const { ports, postgresPort } = await freeClusterPorts();
    const dir = clusterScratch();
    const cluster = await startCluster({ dir, ports, postgresPort, uiPort: null, log: () => undefined }).catch((error: unknown) => {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    });
    return {
      address: cluster.address,
      async stop() {
        await cluster.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
}
