/**
 * `npm run cluster:install`: what `npm run cluster` needs, found or installed ahead of time — the
 * Temporal server, its SQL tool and Temporal Web's server (pinned, built with go into .temporal/
 * unless an env var or PATH has them) and PostgreSQL (Debian's package, with apt as root).
 * With `--check` it installs nothing: it says what is missing and exits 2 if anything is.
 */
import { clusterBinaries, findClusterBinary } from '../temporal/cluster-binaries.js';
import { findPostgres } from '../temporal/postgres.js';

const install = !process.argv.includes('--check');
const started = Date.now();
const missing: string[] = [];
const found = async (what: string, find: () => Promise<string>) => {
  try {
    console.log(`${what.padEnd(42)} ${await find()}`);
  } catch (error) {
    if (install) throw error;
    missing.push(what);
    console.log(`${what.padEnd(42)} missing`);
  }
};
try {
  // One at a time: each `go install` takes both cores.
  for (const binary of Object.values(clusterBinaries)) await found(binary.what, () => findClusterBinary(binary, { install }));
  await found('PostgreSQL', () => findPostgres({ install }));
  if (install) console.log(`(${Math.round((Date.now() - started) / 1000)} s)`);
  if (missing.length > 0) process.exit(2);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
