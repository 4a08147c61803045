import { readFileSync } from 'node:fs';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import type { Env } from '../config/env.js';

type TemporalEnv = Pick<Env, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE' | 'TEMPORAL_API_KEY' | 'TEMPORAL_TLS_CERT' | 'TEMPORAL_TLS_KEY'>;

/** Address, API key and mTLS from the environment; an API key or a client cert turns TLS on. */
export function connectionOptions(env: TemporalEnv, address = env.TEMPORAL_ADDRESS ?? 'localhost:7233') {
  const tls = env.TEMPORAL_TLS_CERT && env.TEMPORAL_TLS_KEY
    ? { clientCertPair: { crt: readFileSync(env.TEMPORAL_TLS_CERT), key: readFileSync(env.TEMPORAL_TLS_KEY) } }
    : env.TEMPORAL_API_KEY ? true : undefined;
  return {
    address,
    ...(tls === undefined ? {} : { tls }),
    ...(env.TEMPORAL_API_KEY ? { apiKey: env.TEMPORAL_API_KEY } : {}),
  } satisfies ConnectionOptions;
}

/** A client whose payloads go through Interlock's codec (every Interlock client and worker must share its keys). */
export async function connectClient(env: TemporalEnv, address: string | undefined, dataConverter: DataConverter): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(env, address));
  return new Client({ connection, namespace: env.TEMPORAL_NAMESPACE, dataConverter });
}

export function connectWorker(env: TemporalEnv, address?: string): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(env, address));
}
