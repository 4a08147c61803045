/**
 * `npm start`: the embedded default. A Temporal dev server whose state survives restarts (unless
 * TEMPORAL_ADDRESS names a cluster), the worker, and the API, in one process tree that Ctrl-C or
 * SIGTERM stops completely.
 */
import type { Worker } from '@temporalio/worker';
import { type ApiServer, createLogger, listenHost, startApi } from './server.js';
import { readEnv } from './config/env.js';
import { ConfigStore, describeReload } from './config/config-store.js';
import { resolveConfigPath, shownPath } from './config/load.js';
import { isAddressInUse, listenersOf, portTaken, takenPorts } from './config/ports.js';
import { loadCodecKeys } from './temporal/payload-codec.js';
import { type DevServer, startDevServer } from './temporal/dev-server.js';
import { stopInOrder } from './temporal/supervisor.js';
import { installRuntime, workerFromEnv } from './worker.js';

/** Where Temporal Web is served on Interlock's origin (and on its own loopback port). */
const TEMPORAL_WEB_PATH = '/temporal';

async function main(): Promise<void> {
  const env = readEnv();
  // Every payload Interlock hands Temporal is encrypted; Temporal Web reads them through /codec.
  const codecKeys = loadCodecKeys(env.INTERLOCK_CODEC_KEY, env.INTERLOCK_DATA_DIR);
  const configPath = resolveConfigPath();
  // One config for the API and the worker, reloaded on SIGHUP and when the file changes.
  const configStore = ConfigStore.load(configPath);
  const { config } = configStore;
  // A person at a terminal wants the URLs, not a JSON line per request: quieter unless asked.
  const logger = createLogger({ LOG_LEVEL: process.env.LOG_LEVEL ? env.LOG_LEVEL : 'warn' });
  configStore.onReload((result) => console.error(describeReload(result)));
  // A port something else holds (another npm start, say) is one line naming it and its variable,
  // before anything starts. The dev server's own ports are checked when it fails to start, so a
  // dev server an earlier run left behind is stopped first (startDevServer does that).
  const listeners = listenersOf(env, listenHost(env.HOST, configPath));
  const taken = await takenPorts([listeners.api, ...(env.INTERLOCK_WORKER_METRICS_PORT > 0 ? [listeners.workerMetrics] : [])]);
  if (taken.length > 0) throw new Error(taken.join('\n'));
  // We stop the worker ourselves, in order, on Ctrl-C.
  installRuntime(env, []);

  let devServer: DevServer | undefined;
  let worker: Worker | undefined;
  let workerRun: Promise<void> | undefined;
  let api: ApiServer | undefined;
  // At a terminal, SIGHUP means the terminal went away, and it stops everything as before; run as a
  // service (no terminal), it reloads the config, as it does for npm run api and npm run worker.
  const stopWatching = configStore.watch({ hangUp: !process.stdin.isTTY });
  const { stop } = stopInOrder('Interlock', async () => {
    stopWatching();
    await api?.close().catch(() => undefined);
    if (worker && worker.getState() === 'RUNNING') worker.shutdown();
    await workerRun?.catch(() => undefined);
    await devServer?.stop();
  });

  const publicUrl = env.INTERLOCK_PUBLIC_URL ?? `http://localhost:${env.PORT}`;
  try {
    let address = env.TEMPORAL_ADDRESS;
    if (!address) {
      console.error(`Starting the Temporal dev server (state in ${shownPath(env.INTERLOCK_DATA_DIR)}) …`);
      devServer = await startDevServer({
        dataDir: env.INTERLOCK_DATA_DIR,
        port: env.TEMPORAL_DEV_PORT,
        uiPort: env.TEMPORAL_UI_PORT,
        // Temporal Web on loopback, served to admins and operators through the API's own origin
        // (/temporal/), so its codec endpoint is same-origin and the session decodes.
        uiPublicPath: TEMPORAL_WEB_PATH,
        codecEndpoint: `${publicUrl}/codec`,
      }).catch(async (error: unknown) => {
        const held = await takenPorts([listeners.devServer, listeners.temporalWeb]);
        throw held.length > 0 ? new Error(held.join('\n')) : error;
      });
      address = devServer.address;
    }
    console.error('Bundling the workflow code and starting the worker …');
    // The dev server was started with Interlock's search attributes; a cluster may need them registered.
    const started = await workerFromEnv(env, config, codecKeys, { address, searchAttributes: !devServer });
    worker = started.worker;
    const { client } = started;
    workerRun = worker.run();
    workerRun.catch((error) => {
      console.error(`The worker stopped: ${error instanceof Error ? error.message : error}`);
      void stop(1);
    });
    const upstream = devServer?.uiUrl ?? undefined;
    const uiUrl = env.TEMPORAL_UI_URL ?? (upstream ? `${publicUrl}${TEMPORAL_WEB_PATH}` : undefined);
    api = await startApi({
      env, config, configStore, configPath, client, logger, codecKeys,
      ...(uiUrl ? { uiUrl } : {}),
      ...(upstream ? { temporalWebUpstream: upstream } : {}),
    }).catch((error: unknown) => {
      throw isAddressInUse(error) ? new Error(portTaken(listeners.api)) : error;
    });

    console.log(
      [
        '',
        'Interlock is running.',
        `  API and dashboard  ${api.url}`,
        `  API docs           ${api.url}/docs`,
        `  Temporal Web       ${shownTemporalWeb(uiUrl, upstream !== undefined && !env.TEMPORAL_UI_URL)}`,
        `  Temporal           ${address} (namespace ${env.TEMPORAL_NAMESPACE}, task queue ${env.TEMPORAL_TASK_QUEUE})`,
        `  Metrics            ${api.url}/metrics${env.INTERLOCK_WORKER_METRICS_PORT ? `, worker: http://localhost:${env.INTERLOCK_WORKER_METRICS_PORT}/metrics` : ''}`,
        `  Config             ${shownPath(configPath)}`,
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    await stop(1);
  }
}

function shownTemporalWeb(uiUrl: string | undefined, servedHere: boolean): string {
  if (!uiUrl) return '(not known: set TEMPORAL_UI_URL)';
  return servedHere ? `${uiUrl}/ (admins and operators, signed in to the dashboard)` : uiUrl;
}

main().catch((error: unknown) => {
  // A config or environment problem: say it plainly, start nothing.
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
