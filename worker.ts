import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import { type BundleOptions, bundleWorkflowCode, DefaultLogger, type NativeConnection, Runtime, type RuntimeOptions, Worker } from '@temporalio/worker';
import { type ActivityDeps, createActivities } from './activities/create-activities.js';
import { type Env, readEnv } from './config/env.js';
import { ConfigStore, describeReload } from './config/config-store.js';
import { resolveConfigPath } from './config/load.js';
import type { Config } from './config/schema.js';
import { isAddressInUse, listenersOf, portTaken } from './config/ports.js';
import { createLinkSigner } from './auth/one-click-links.js';
import { type CodecKey, dataConverterWith, loadCodecKeys } from './temporal/payload-codec.js';
import { connectClient, connectWorker } from './temporal/connection.js';
import { ensureSearchAttributes } from './temporal/search-attributes.js';

const workflowsPath = fileURLToPath(new URL('./workflows/all-workflows.ts', import.meta.url));

/** Workflow bundling for our ESM sources, whose imports say `.js` for `.ts` files. */
export const bundlerOptions = {
  workflowsPath,
  webpackConfigHook: (config) => ({
    ...config,
    resolve: { ...config.resolve, extensionAlias: { '.js': ['.ts', '.js'] } },
  }),
} satisfies Partial<BundleOptions>;

/** Bundles the workflow code once, e.g. for many workers in one test run. */
export const bundleWorkflows = () => bundleWorkflowCode({ ...bundlerOptions, logger: quietLogger });

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** Workflows kept in memory between tasks (`INTERLOCK_WORKFLOW_CACHE`); an evicted one replays when touched. */
  maxCachedWorkflows?: number | undefined;
  /** The payload codec's converter (temporal/payload-codec.ts): the same keys as every Interlock client. */
  dataConverter?: DataConverter | undefined;
  /** A prebuilt bundle (tests); bundled from source when absent. */
  workflowBundle?: { code: string } | { codePath: string };
  /** What the activities need: a Temporal client (gates, earlier evaluations), the config's people and channels, links. */
  activities: ActivityDeps;
}

export const DEFAULT_WORKFLOW_CACHE = 200;

/** A worker for deployment, release and gate workflows and their activities. */
export function createWorker({ connection, namespace, taskQueue, workflowBundle, maxCachedWorkflows, dataConverter, activities }: WorkerOptions): Promise<Worker> {
  return Worker.create({
    connection,
    namespace,
    taskQueue,
    activities: createActivities(activities),
    // Bounded, so memory does not grow with the deployments that wait (docs/http-api.md): a waiting
    // deployment costs nothing until someone acts on it, then it replays (see bench/RESULTS.md).
    maxCachedWorkflows: maxCachedWorkflows ?? DEFAULT_WORKFLOW_CACHE,
    ...(dataConverter ? { dataConverter } : {}),
    // Heartbeats reach the server within 2 s, so a cancelled script is stopped within about that.
    maxHeartbeatThrottleInterval: '2s',
    ...(workflowBundle ? { workflowBundle } : { bundlerOptions: { webpackConfigHook: bundlerOptions.webpackConfigHook }, workflowsPath }),
  });
}

const quietLogger = { info() {}, debug() {}, trace() {}, warn: console.warn, error: console.error, log() {} };

/** Runtime options shared by `npm run worker` and `npm start`: quiet logs, Temporal's metrics on their port. */
export function runtimeOptions(env: Pick<Env, 'INTERLOCK_WORKER_METRICS_PORT' | 'INTERLOCK_METRICS_HOST'>, shutdownSignals?: NodeJS.Signals[]): RuntimeOptions {
  return {
    logger: new DefaultLogger('WARN'),
    ...(shutdownSignals ? { shutdownSignals } : {}),
    ...(env.INTERLOCK_WORKER_METRICS_PORT > 0
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: `${env.INTERLOCK_METRICS_HOST}:${env.INTERLOCK_WORKER_METRICS_PORT}` } } } }
      : {}),
  };
}

/**
 * Installs the worker runtime with `runtimeOptions`. Its metrics exporter binds
 * INTERLOCK_WORKER_METRICS_PORT at once: a port taken by something else (another `npm start`) is
 * said in one line naming the port and the variable, not as the exporter's "Address already in use".
 */
export function installRuntime(env: Env, shutdownSignals?: NodeJS.Signals[]): void {
  try {
    Runtime.install(runtimeOptions(env, shutdownSignals));
  } catch (error) {
    if (isAddressInUse(error)) throw new Error(portTaken(listenersOf(env).workerMetrics));
    throw error;
  }
}

/** What a worker's activities need, from the environment and the config as `npm run worker` and `npm start` read them. */
export function activityDeps(env: Env, client: ActivityDeps['client'], config: ActivityDeps['config'], codecKeys: Parameters<typeof createLinkSigner>[0]): ActivityDeps {
  const links = createLinkSigner(codecKeys);
  return { client, config, env: process.env, publicUrl: env.INTERLOCK_PUBLIC_URL ?? `http://localhost:${env.PORT}`, signLink: (claims) => links.sign(claims) };
}

/**
 * What `npm run worker` and `npm start` both run: a worker connected to Temporal at `address` (the
 * env's TEMPORAL_ADDRESS when absent), on the env's namespace, task queue and workflow cache, with
 * the payload codec's converter and the config's people and notification channels; and a client on
 * the same converter (the worker's activities use it; `npm start`'s API shares it). Interlock's
 * search attributes are registered first, unless `searchAttributes` is false (a dev server started
 * with them).
 */
export async function workerFromEnv(env: Env, config: Config, codecKeys: CodecKey[], { address, searchAttributes = true }: { address?: string; searchAttributes?: boolean } = {}) {
  const connection = await connectWorker(env, address);
  if (searchAttributes) {
    try {
      const added = await ensureSearchAttributes(connection, env.TEMPORAL_NAMESPACE);
      if (added.length > 0) console.error(`Registered search attributes: ${added.join(', ')}`);
    } catch (error) {
      console.error(`Could not check Interlock's search attributes (${(error as Error).message}); register them as the README says.`);
    }
  }
  const dataConverter = dataConverterWith(codecKeys);
  const client = await connectClient(env, address, dataConverter);
  const worker = await createWorker({
    connection,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    maxCachedWorkflows: env.INTERLOCK_WORKFLOW_CACHE,
    dataConverter,
    activities: activityDeps(env, client, config, codecKeys),
  });
  return { worker, connection, client };
}

async function main(): Promise<void> {
  const env = readEnv();
  // The config's people and notification channels: a worker delivers notifications itself, to
  // whoever the config names now (it reloads on SIGHUP and when the file changes).
  const store = ConfigStore.load(resolveConfigPath());
  store.onReload((result) => console.error(describeReload(result)));
  store.watch();
  installRuntime(env);
  const { worker, connection } = await workerFromEnv(env, store.config, loadCodecKeys(env.INTERLOCK_CODEC_KEY, env.INTERLOCK_DATA_DIR));
  console.error(`Worker polling task queue "${env.TEMPORAL_TASK_QUEUE}" in namespace "${env.TEMPORAL_NAMESPACE}" at ${env.TEMPORAL_ADDRESS ?? 'localhost:7233'}`);
  try {
    await worker.run();
  } finally {
    await connection.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
