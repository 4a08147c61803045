/**
 * `npm run cluster:install`: what `npm run cluster` needs, found or installed ahead of time — the
 * Temporal server, its SQL tool and Temporal Web's server (pinned, built with go into .temporal/
 * unless an env var or PATH has them) and PostgreSQL (Debian's package, with apt as root).
 */
import { clusterBinaries, findClusterBinary } from '../temporal/cluster-binaries.js';
import { findPostgres } from '../temporal/postgres.js';

const started = Date.now();
try {
  // One at a time: each `go install` takes both cores.
  for (const binary of Object.values(clusterBinaries)) console.log(`${binary.what.padEnd(42)} ${await findClusterBinary(binary)}`);
  console.log(`${'PostgreSQL'.padEnd(42)} ${await findPostgres()}`);
  console.log(`(${Math.round((Date.now() - started) / 1000)} s)`);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
