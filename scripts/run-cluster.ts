/**
 * `npm run cluster`: a real Temporal cluster on this machine (PostgreSQL, the Temporal server,
 * Temporal Web) for `npm run worker` and `npm run api` processes to share. Its state lives in
 * `INTERLOCK_DATA_DIR/cluster/` and survives restarts; Ctrl-C (or SIGTERM) stops all of it.
 */
import { join, relative } from 'node:path';
import { readEnv } from '../config/env.js';
import { type Cluster, startCluster } from '../temporal/cluster.js';
import { loadCodecKeys } from '../temporal/payload-codec.js';

async function main(): Promise<void> {
  const env = readEnv();
  const dir = join(env.INTERLOCK_DATA_DIR, 'cluster');
  // Made now, before any worker or API starts, so every process on this machine reads one key.
  loadCodecKeys(env.INTERLOCK_CODEC_KEY, env.INTERLOCK_DATA_DIR);
  const publicUrl = env.INTERLOCK_PUBLIC_URL ?? `http://localhost:${env.PORT}`;

  let cluster: Cluster | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.error('\nStopping the Temporal cluster …');
    await cluster?.stop();
    process.exit(code);
  };
  // `on`, not `once`: a Ctrl-C reaches us twice (from the terminal, and forwarded by npm), and a
  // second signal must not cut the ordered stop short.
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  // If whatever started us dies without a word (npm killed hard), stop rather than linger as an orphan.
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && void stop(0), 1_000).unref();

  console.error(`Starting a Temporal cluster on PostgreSQL (state in ${display(dir)}) …`);
  try {
    cluster = await startCluster({
      dir,
      ports: { frontend: env.TEMPORAL_CLUSTER_PORT },
      postgresPort: env.INTERLOCK_POSTGRES_PORT,
      uiPort: env.TEMPORAL_UI_PORT,
      namespace: env.TEMPORAL_NAMESPACE,
      codecEndpoint: `${publicUrl}/codec`,
    });
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return stop(1);
  }
  void cluster.broken.then((what) => {
    if (stopping) return;
    console.error(`The cluster is not whole: ${what} on its own; see its log in ${display(dir)}. Stopping the rest; start it again when that is fixed.`);
    void stop(1);
  });

  const key = env.INTERLOCK_CODEC_KEY ? 'INTERLOCK_CODEC_KEY' : display(join(env.INTERLOCK_DATA_DIR, 'codec.key'));
  console.log(
    [
      '',
      'The Temporal cluster is running.',
      `  TEMPORAL_ADDRESS   ${cluster.address}   (namespace ${cluster.namespace})`,
      `  Temporal Web       ${cluster.uiUrl}`,
      `  Versions           Temporal server ${cluster.serverVersion}, Temporal Web ${cluster.uiServerVersion}, ${cluster.postgres.version} (127.0.0.1:${cluster.postgres.port})`,
      `  State              ${display(dir)}`,
      '',
      'Run Interlock against it, as many of each as you like (each in its own terminal):',
      `  TEMPORAL_ADDRESS=${cluster.address} npm run worker`,
      `  TEMPORAL_ADDRESS=${cluster.address} TEMPORAL_UI_URL=${cluster.uiUrl} INTERLOCK_SESSION_SECRET=… PORT=${env.PORT} npm run api`,
      `Every worker and API must share the payload codec's key (${key}) and the APIs one INTERLOCK_SESSION_SECRET.`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

function display(path: string): string {
  const near = relative('.', path);
  return near && !near.startsWith('..') ? near : path;
}

void main();
