import { type ServerType, serve } from '@hono/node-server';
import type { Client } from '@temporalio/client';
import pino, { type Logger } from 'pino';
import { fileURLToPath } from 'node:url';
import type { Env } from '../config/env.js';
import { readEnv } from '../config/env.js';
import { loadConfig, resolveConfigPath } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { connectClient } from '../temporal/connection.js';
import { createApp } from './app.js';

export interface ApiServer {
  url: string;
  close(): Promise<void>;
}

/** Serves the API on `HOST:PORT` against the given Temporal client. */
export async function startApi(options: { env: Env; config: Config; client: Client; uiUrl?: string; logger: Logger }): Promise<ApiServer> {
  const { env, config, client, uiUrl, logger } = options;
  const publicUrl = env.INTERLOCK_PUBLIC_URL ?? `http://localhost:${env.PORT}`;
  const app = createApp({
    temporal: { client, taskQueue: env.TEMPORAL_TASK_QUEUE, uiUrl: env.TEMPORAL_UI_URL ?? uiUrl },
    config,
    actionTimeoutMs: env.INTERLOCK_ACTION_TIMEOUT * 1000,
    logger,
    systemVariables: { 'Interlock.Url': publicUrl },
    sessionSecret: env.INTERLOCK_SESSION_SECRET,
  });
  const server = await new Promise<ServerType>((resolve, reject) => {
    const started = serve({ fetch: app.fetch, port: env.PORT, hostname: env.HOST }, () => resolve(started));
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
  const config = loadConfig(resolveConfigPath());
  const logger = createLogger(env);
  const client = await connectClient(env);
  const api = await startApi({ env, config, client, logger });
  logger.info({ url: api.url, temporal: env.TEMPORAL_ADDRESS ?? 'localhost:7233' }, 'Interlock API listening');
  const stop = async () => {
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
