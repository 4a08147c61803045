import { readFileSync } from 'node:fs';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import type { Env } from '../config/env.js';
import { type ConnectionProblem, probeConnection } from './connection-problems.js';

type TemporalEnv = Pick<
  Env,
  'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE' | 'TEMPORAL_API_KEY' | 'TEMPORAL_TLS_CERT' | 'TEMPORAL_TLS_KEY' | 'TEMPORAL_TLS_CA' | 'TEMPORAL_TLS_SERVER_NAME'
>;

/** A Temporal setting that cannot work, said in one line that names what to change. */
export class TemporalConnectionError extends Error {
  override name = 'TemporalConnectionError';
}

/**
 * Address, API key and TLS from the environment. An API key, a client certificate or a CA turns
 * TLS on; the CA (`TEMPORAL_TLS_CA`) is trusted for the server's certificate instead of the
 * system's roots, and `TEMPORAL_TLS_SERVER_NAME` is the name expected in it.
 */
export function connectionOptions(env: TemporalEnv, address = env.TEMPORAL_ADDRESS ?? 'localhost:7233') {
  const file = (name: 'TEMPORAL_TLS_CERT' | 'TEMPORAL_TLS_KEY' | 'TEMPORAL_TLS_CA') => {
    const path = env[name]!;
    try {
      return readFileSync(path);
    } catch (error) {
      throw new TemporalConnectionError(`${name}=${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); fix the path or unset it.`);
    }
  };
  const wantsTls = Boolean((env.TEMPORAL_TLS_CERT && env.TEMPORAL_TLS_KEY) || env.TEMPORAL_API_KEY || env.TEMPORAL_TLS_CA);
  const tls = wantsTls
    ? {
        ...(env.TEMPORAL_TLS_CERT && env.TEMPORAL_TLS_KEY ? { clientCertPair: { crt: file('TEMPORAL_TLS_CERT'), key: file('TEMPORAL_TLS_KEY') } } : {}),
        ...(env.TEMPORAL_TLS_CA ? { serverRootCACertificate: file('TEMPORAL_TLS_CA') } : {}),
        ...(env.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: env.TEMPORAL_TLS_SERVER_NAME } : {}),
      }
    : undefined;
  return {
    address,
    ...(tls === undefined ? {} : { tls }),
    ...(env.TEMPORAL_API_KEY ? { apiKey: env.TEMPORAL_API_KEY } : {}),
  } satisfies ConnectionOptions;
}

/** A client whose payloads go through Interlock's codec (every Interlock client and worker must share its keys). */
export async function connectClient(env: TemporalEnv, address: string | undefined, dataConverter: DataConverter): Promise<Client> {
  const options = connectionOptions(env, address);
  const connection = await Connection.connect(options).catch(async (error: unknown) => {
    throw await describeConnectionError(error, env, options);
  });
  await checkNamespace(connection, env, options);
  return new Client({ connection, namespace: env.TEMPORAL_NAMESPACE, dataConverter });
}

export async function connectWorker(env: TemporalEnv, address?: string): Promise<NativeConnection> {
  const options = connectionOptions(env, address);
  const connection = await NativeConnection.connect(options).catch(async (error: unknown) => {
    throw await describeConnectionError(error, env, options);
  });
  await checkNamespace(connection, env, options);
  return connection;
}

type Options = ReturnType<typeof connectionOptions>;

/** A namespace that is not there fails here, in words, rather than at every call later. */
async function checkNamespace(connection: Pick<Connection, 'workflowService' | 'close'>, env: TemporalEnv, options: Options): Promise<void> {
  try {
    await connection.workflowService.describeNamespace({ namespace: env.TEMPORAL_NAMESPACE });
  } catch (error) {
    await connection.close().catch(() => undefined);
    if (/not found/i.test(errorText(error))) {
      throw new TemporalConnectionError(
        `Temporal at ${options.address} has no namespace "${env.TEMPORAL_NAMESPACE}": check TEMPORAL_NAMESPACE (or create it: temporal operator namespace create ${env.TEMPORAL_NAMESPACE}).`,
      );
    }
    throw await describeConnectionError(error, env, options);
  }
}

/**
 * One line naming the setting to change, for a connection that failed. gRPC's own words rarely say
 * why, so the TCP and TLS steps are tried again by hand (temporal/connection-problems.ts); what
 * still cannot be recognised is passed on in gRPC's words, on one line.
 */
export async function describeConnectionError(error: unknown, env: TemporalEnv, options: Options): Promise<TemporalConnectionError> {
  if (error instanceof TemporalConnectionError) return error;
  const tls = 'tls' in options ? options.tls : undefined;
  const problem = await probeConnection({
    address: options.address,
    tls: tls && {
      ...(tls.serverRootCACertificate ? { ca: tls.serverRootCACertificate } : {}),
      ...(tls.clientCertPair ? { cert: tls.clientCertPair.crt, key: tls.clientCertPair.key } : {}),
      ...(tls.serverNameOverride ? { serverName: tls.serverNameOverride } : {}),
    },
  }).catch((): ConnectionProblem => 'none');
  const text = errorText(error);
  const advice: Record<ConnectionProblem, string> = {
    refused: 'nothing answers there; check TEMPORAL_ADDRESS and that the server runs',
    'server-speaks-tls': 'the server wants TLS; set TEMPORAL_TLS_CA (its CA), TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY (mTLS), or TEMPORAL_API_KEY',
    'server-speaks-plaintext': 'the server does not speak TLS there; unset TEMPORAL_API_KEY and TEMPORAL_TLS_*, or check TEMPORAL_ADDRESS',
    untrusted: env.TEMPORAL_TLS_CA
      ? `its certificate is not signed by the CA in TEMPORAL_TLS_CA=${env.TEMPORAL_TLS_CA}`
      : 'its certificate is not signed by a CA this machine trusts; set TEMPORAL_TLS_CA to the CA that signed it',
    expired: "its certificate has expired (or is not valid yet); check the server's certificate and this machine's clock",
    'wrong-name': `its certificate is for another name; set TEMPORAL_TLS_SERVER_NAME to the name in it`,
    'client-certificate-wanted': 'the server wants a client certificate (mTLS); set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY',
    'client-certificate-refused': `the server refuses the client certificate in TEMPORAL_TLS_CERT=${env.TEMPORAL_TLS_CERT ?? ''} (not signed by a CA it trusts?)`,
    none: /unauthori[sz]ed|permission denied|PERMISSION_DENIED|UNAUTHENTICATED|api key/i.test(text)
      ? 'the server refused these credentials; check TEMPORAL_API_KEY or the client certificate'
      : text,
  };
  return new TemporalConnectionError(`Cannot connect to Temporal at ${options.address}: ${advice[problem].replace(/\.$/, '')}.`);
}

/** An error's message and its causes' messages, on one line. */
function errorText(error: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = error; current && parts.length < 5; current = (current as { cause?: unknown }).cause) {
    parts.push(current instanceof Error ? current.message : String(current));
  }
  return parts.join(': ').replace(/\s+/g, ' ').trim();
}
