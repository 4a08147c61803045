/**
 * `npm run cluster`: a real Temporal cluster on this machine (PostgreSQL, the Temporal server,
 * Temporal Web) for `npm run worker` and `npm run api` processes to share. Its state lives in
 * `INTERLOCK_DATA_DIR/cluster/` and survives restarts; Ctrl-C (or SIGTERM) stops all of it.
 */
import { join } from 'node:path';
import { readEnv } from '../config/env.js';
import { shownPath } from '../config/load.js';
import { type Cluster, startCluster } from '../temporal/cluster.js';
import { loadCodecKeys } from '../temporal/payload-codec.js';
import { stopInOrder } from '../temporal/supervisor.js';

async function main(): Promise<void> {
  const env = readEnv();
  const dir = join(env.INTERLOCK_DATA_DIR, 'cluster');
  // Made now, before any worker or API starts, so every process on this machine reads one key.
  loadCodecKeys(env.INTERLOCK_CODEC_KEY, env.INTERLOCK_DATA_DIR);
  const publicUrl = env.INTERLOCK_PUBLIC_URL ?? `http://localhost:${env.PORT}`;

  let cluster: Cluster | undefined;
  const ending = stopInOrder('the Temporal cluster', async () => {
    await cluster?.stop();
  });
  console.error(`Starting a Temporal cluster on PostgreSQL (state in ${shownPath(dir)}) …`);
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
    return ending.stop(1);
  }
  void cluster.broken.then((what) => {
    if (ending.stopping) return;
    console.error(`The cluster is not whole: ${what} on its own; see its log in ${shownPath(dir)}. Stopping the rest; start it again when that is fixed.`);
    void ending.stop(1);
  });

  const key = env.INTERLOCK_CODEC_KEY ? 'INTERLOCK_CODEC_KEY' : shownPath(join(env.INTERLOCK_DATA_DIR, 'codec.key'));
  console.log(
    [
      '',
      'The Temporal cluster is running.',
      `  TEMPORAL_ADDRESS   ${cluster.address}   (namespace ${cluster.namespace})`,
      `  Temporal Web       ${cluster.uiUrl}`,
      `  Versions           Temporal server ${cluster.serverVersion}, Temporal Web ${cluster.uiServerVersion}, ${cluster.postgres.version} (127.0.0.1:${cluster.postgres.port})`,
      `  State              ${shownPath(dir)}`,
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

void main();
