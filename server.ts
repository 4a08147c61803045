import { type ServerType, serve } from '@hono/node-server';
import type { Client } from '@temporalio/client';
import pino, { type Logger } from 'pino';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Env } from './config/env.js';
import { readEnv } from './config/env.js';
import { ConfigStore, describeReload } from './config/config-store.js';
import { EXAMPLE_CONFIG_PATH, resolveConfigPath } from './config/load.js';
import { isAddressInUse, listenersOf, portTaken } from './config/ports.js';
import type { Config } from './config/schema.js';
import { createLinkSigner } from './auth/one-click-links.js';
import { AesGcmCodec, type CodecKey, dataConverterWith, loadCodecKeys } from './temporal/payload-codec.js';
import { connectClient } from './temporal/connection.js';
import { createApp } from './app.js';

export interface ApiServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Where to listen (docs/http-api.md): `HOST`, else 127.0.0.1 while the shipped example config is in use
 * (its demo tokens are public) and 0.0.0.0 with a config of one's own. Another address with the
 * example config is refused.
 */
export function listenHost(host: string | undefined, configPath: string): string {
  const isExample = resolve(configPath) === resolve(EXAMPLE_CONFIG_PATH);
  if (!isExample) return host ?? '0.0.0.0';
  if (host === undefined || isLoopback(host)) return host ?? '127.0.0.1';
  throw new Error(
    `HOST=${host} with the shipped example config would let anyone use its public demo tokens. ` +
      'Write a config of your own (INTERLOCK_CONFIG, or ./interlock.yaml; npm run token -- <username> makes tokens), or listen on 127.0.0.1.',
  );
}

export const isLoopback = (host: string) => host === 'localhost' || host === '::1' || host.startsWith('127.');

/** Serves the API on `HOST:PORT` against the given Temporal client. */
export async function startApi(options: {
  env: Env;
  config: Config;
  /** Where `config` came from and how it reloads: for `GET /api/admin/config` and the audit trail. */
  configStore?: ConfigStore;
  configPath: string;
  client: Client;
  uiUrl?: string;
  /** The Temporal Web to serve at `/temporal/` (`npm start`'s, on loopback under that path). */
  temporalWebUpstream?: string;
  logger: Logger;
  /** The payload codec's keys: for the codec endpoint Temporal Web uses, and to check one-click links (signed with a key made from them). */
  codecKeys?: CodecKey[];
}): Promise<ApiServer> {
  const { env, config, client, uiUrl, logger } = options;
  const hostname = listenHost(env.HOST, options.configPath);
  const publicUrl = env.INTERLOCK_PUBLIC_URL ?? `http://localhost:${env.PORT}`;
  const app = createApp({
    temporal: { client, taskQueue: env.TEMPORAL_TASK_QUEUE, uiUrl: env.TEMPORAL_UI_URL ?? uiUrl, webUpstream: options.temporalWebUpstream },
    config,
    ...(options.configStore ? { configStore: options.configStore } : {}),
    actionTimeoutMs: env.INTERLOCK_ACTION_TIMEOUT * 1000,
    logger,
    systemVariables: { 'Interlock.Url': publicUrl },
    sessionSecret: env.INTERLOCK_SESSION_SECRET,
    limits: {
      triggersPerMinute: env.INTERLOCK_TRIGGER_RATE,
      actionsPerMinute: env.INTERLOCK_ACTION_RATE,
      streamsAtOnce: env.INTERLOCK_STREAMS_PER_PERSON,
      waitsAtOnce: env.INTERLOCK_WAITS_PER_PERSON,
      linksPerMinute: env.INTERLOCK_LINK_RATE,
      auditEventsPerMinute: env.INTERLOCK_AUDIT_RATE,
    },
    metricsOpen: !isLoopback(env.INTERLOCK_METRICS_HOST),
    ...(options.codecKeys ? { codec: new AesGcmCodec(options.codecKeys), linkSigner: createLinkSigner(options.codecKeys) } : {}),
  });
  const server = await new Promise<ServerType>((resolve, reject) => {
    const started = serve({ fetch: app.fetch, port: env.PORT, hostname }, () => resolve(started));
    started.once('error', reject);
  });
  return {
    url: publicUrl,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
    }),
  };
}

export function createLogger(env: Pick<Env, 'LOG_LEVEL'>): Logger {
  return pino({ level: env.LOG_LEVEL, base: { service: 'interlock-api' } });
}

async function main(): Promise<void> {
  const env = readEnv();
  const configPath = resolveConfigPath();
  const configStore = ConfigStore.load(configPath);
  const logger = createLogger(env);
  configStore.onReload((result) => (result.loaded ? logger.info : logger.error).call(logger, describeReload(result)));
  const stopWatching = configStore.watch();
  const codecKeys = loadCodecKeys(env.INTERLOCK_CODEC_KEY, env.INTERLOCK_DATA_DIR);
  const client = await connectClient(env, undefined, dataConverterWith(codecKeys));
  const api = await startApi({ env, config: configStore.config, configStore, configPath, client, logger, codecKeys }).catch((error: unknown) => {
    throw isAddressInUse(error) ? new Error(portTaken(listenersOf(env, listenHost(env.HOST, configPath)).api)) : error;
  });
  logger.info({ url: api.url, temporal: env.TEMPORAL_ADDRESS ?? 'localhost:7233' }, 'Interlock API listening');
  const stop = async () => {
    stopWatching();
    await api.close();
    await client.connection.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
