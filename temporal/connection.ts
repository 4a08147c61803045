import { readFileSync } from 'node:fs';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import type { Env } from '../config/env.js';

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
  const connection = await Connection.connect(options).catch((error: unknown) => {
    throw describeConnectionError(error, env, options.address);
  });
  await checkNamespace(connection, env, options.address);
  return new Client({ connection, namespace: env.TEMPORAL_NAMESPACE, dataConverter });
}

export async function connectWorker(env: TemporalEnv, address?: string): Promise<NativeConnection> {
  const options = connectionOptions(env, address);
  const connection = await NativeConnection.connect(options).catch((error: unknown) => {
    throw describeConnectionError(error, env, options.address);
  });
  await checkNamespace(connection, env, options.address);
  return connection;
}

/** A namespace that is not there fails here, in words, rather than at every call later. */
async function checkNamespace(connection: Pick<Connection, 'workflowService' | 'close'>, env: TemporalEnv, address: string): Promise<void> {
  try {
    await connection.workflowService.describeNamespace({ namespace: env.TEMPORAL_NAMESPACE });
  } catch (error) {
    await connection.close().catch(() => undefined);
    const text = errorText(error);
    if (/not found/i.test(text)) {
      throw new TemporalConnectionError(`Temporal at ${address} has no namespace "${env.TEMPORAL_NAMESPACE}": check TEMPORAL_NAMESPACE (or create it: temporal operator namespace create ${env.TEMPORAL_NAMESPACE}).`);
    }
    throw describeConnectionError(error, env, address);
  }
}

/**
 * Turns what gRPC, rustls or Node's TLS say about a failed connection into one line naming the
 * setting to change. What cannot be recognised is passed on in its own words, still on one line.
 */
export function describeConnectionError(error: unknown, env: TemporalEnv, address: string): TemporalConnectionError {
  if (error instanceof TemporalConnectionError) return error;
  const text = errorText(error);
  const tlsOn = Boolean((env.TEMPORAL_TLS_CERT && env.TEMPORAL_TLS_KEY) || env.TEMPORAL_API_KEY || env.TEMPORAL_TLS_CA);
  const at = `Cannot connect to Temporal at ${address}`;
  const says = (pattern: RegExp) => pattern.test(text);
  let advice: string;
  if (says(/ECONNREFUSED|Connection refused|connect error|No connection established|ENOTFOUND|failed to lookup|dns error/i) && !says(/tls|certificate|handshake/i)) {
    advice = 'nothing answers there; check TEMPORAL_ADDRESS and that the server runs';
  } else if (says(/certificate required|CertificateRequired|bad certificate|BadCertificate|alert.*(handshake|certificate)|peer sent no certificates/i)) {
    advice = 'the server wants a client certificate it trusts; set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY to one its CA signed';
  } else if (says(/UnknownIssuer|unable to (get|verify)|self[- ]signed|certificate verify failed|invalid peer certificate|CERT_|not trusted/i)) {
    advice = env.TEMPORAL_TLS_CA
      ? `its certificate is not signed by TEMPORAL_TLS_CA=${env.TEMPORAL_TLS_CA}, or does not name this host (TEMPORAL_TLS_SERVER_NAME)`
      : "its certificate is not trusted here; set TEMPORAL_TLS_CA to the CA that signed it";
  } else if (says(/NotValidForName|hostname|altnames|does not match|not valid for/i)) {
    advice = 'its certificate names another host; set TEMPORAL_TLS_SERVER_NAME to the name in it';
  } else if (tlsOn && says(/wrong version number|InvalidContentType|corrupt message|packet length too long|unexpected eof|tls|handshake|SSL/i)) {
    advice = 'the server does not speak TLS there; unset TEMPORAL_API_KEY / TEMPORAL_TLS_* or check TEMPORAL_ADDRESS';
  } else if (!tlsOn && says(/Connection (dropped|reset)|Received http2 header with status|protocol error|frame|http2|h2|connection closed|Timed out|deadline/i)) {
    advice = 'the server did not answer in plain gRPC; if it needs TLS, set TEMPORAL_TLS_CA, TEMPORAL_TLS_CERT/KEY or TEMPORAL_API_KEY';
  } else if (says(/unauthori[sz]ed|permission denied|PERMISSION_DENIED|UNAUTHENTICATED|invalid api key/i)) {
    advice = 'the server refused these credentials; check TEMPORAL_API_KEY or the client certificate';
  } else {
    advice = text;
  }
  return new TemporalConnectionError(`${at}: ${advice}.`.replace(/\.\.$/, '.'));
}

/** An error's message and its causes' messages, on one line. */
function errorText(error: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = error; current && parts.length < 5; current = (current as { cause?: unknown }).cause) {
    parts.push(current instanceof Error ? current.message : String(current));
  }
  return parts.join(': ').replace(/\s+/g, ' ').trim();
}
