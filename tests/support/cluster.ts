import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClusterPorts, MAX_PORT, standardPorts } from '../../temporal/cluster.js';
import { freePort } from '../../temporal/dev-server.js';
import { portIsFree } from './npm-start.js';

/**
 * A frontend port whose whole standard layout (temporal/cluster.ts `standardPorts`) is free now, as
 * `npm run cluster` lays its ports out from TEMPORAL_CLUSTER_PORT, and a free port for PostgreSQL.
 */
export async function freeClusterPorts(): Promise<{ ports: ClusterPorts; postgresPort: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    // Below MAX_PORT (Temporal keeps ports as smallints) and above most fixed services' ports.
    const frontend = 20_000 + Math.floor(Math.random() * (MAX_PORT - 20_000 - 10));
    const ports = standardPorts(frontend);
    const free = await Promise.all(Object.values(ports).map(portIsFree));
    if (free.every(Boolean)) return { ports, postgresPort: await freePort() };
  }
  throw new Error('found no free ports for a cluster');
}

/** A scratch folder for a cluster's state that the `postgres` user can reach (mkdtemp makes it 0700, for root alone). */
export function clusterScratch(prefix = 'interlock-cluster-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}
