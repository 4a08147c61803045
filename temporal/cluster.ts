import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { stringify } from 'yaml';
import { clusterBinaries, findClusterBinary } from './cluster-binaries.js';
import { waitUntilServing } from './dev-server.js';
import { type Postgres, startPostgres } from './postgres.js';
import { searchAttributes } from '../workflows/messages.js';
import { ensureSearchAttributes } from './search-attributes.js';
import { serverConfig, uiConfig } from './cluster-config.js';
import { stopLeftover, type Supervised, supervise } from './supervisor.js';

const run = promisify(execFile);

/**
 * Every port a single-node cluster listens on, all on 127.0.0.1. `standardPorts` lays them out as
 * Temporal's own defaults do around the frontend's.
 */
export interface ClusterPorts {
  frontend: number;
  history: number;
  matching: number;
  worker: number;
  frontendMembership: number;
  historyMembership: number;
  matchingMembership: number;
  workerMembership: number;
}

/** Temporal's default layout (7233, 7234, 7235, 7239; membership 6933 …), moved with the frontend's port. */
export function standardPorts(frontend = 7233): ClusterPorts {
  return {
    frontend,
    history: frontend + 1,
    matching: frontend + 2,
    worker: frontend + 6,
    frontendMembership: frontend - 300,
    historyMembership: frontend - 299,
    matchingMembership: frontend - 298,
    workerMembership: frontend - 294,
  };
}

/** TLS on the frontend: the server's certificate, and (mTLS) the CA whose client certificates it accepts. */
export interface ClusterTls {
  certFile: string;
  keyFile: string;
  /** The CA that signed the server's and the clients' certificates. */
  caFile: string;
  /** mTLS: refuse clients without a certificate signed by `caFile`. */
  requireClientAuth: boolean;
  /** The name in the server's certificate, which the server's own system worker checks. */
  serverName: string;
  /** A client certificate for the server's system worker and Temporal Web (needed with mTLS). */
  clientCertFile?: string;
  clientKeyFile?: string;
  /** Per-SNI-name server settings, e.g. one name without mTLS for API-key clients. */
  hostOverrides?: Record<string, { requireClientAuth: boolean }>;
}

export interface ClusterOptions {
  /** Where PostgreSQL's data, the configs and the logs live; a restart on the same folder keeps everything. */
  dir: string;
  ports?: Partial<ClusterPorts>;
  postgresPort: number;
  /** Temporal Web's port; null: no Temporal Web. */
  uiPort: number | null;
  namespace?: string;
  /** Interlock's codec endpoint, so Temporal Web shows decoded payloads to an admin. */
  codecEndpoint?: string | undefined;
  tls?: ClusterTls;
  log?: (line: string) => void;
}

export interface Cluster {
  address: string;
  namespace: string;
  uiUrl: string | null;
  postgres: { version: string; port: number };
  /** As the running server says (it may come from PATH or TEMPORAL_SERVER_PATH, not our pin). */
  serverVersion: string;
  uiServerVersion: string | null;
  /** Stops Temporal Web, the Temporal server, then PostgreSQL, each cleanly. */
  stop(): Promise<void>;
  /** Resolves when any of its processes exits on its own: the cluster is no longer whole. */
  broken: Promise<string>;
}

/** Temporal's PostgreSQL schema keeps the services' ports as smallints. */
export const MAX_PORT = 32_767;

/** How long closed deployments stay readable in Temporal (their history is the audit trail). */
const RETENTION_DAYS = 30;

/**
 * A real Temporal cluster on one machine: PostgreSQL (persistence and SQL visibility), its schemas
 * set up and upgraded by the server's own SQL tool, the Temporal server, its `default` namespace
 * and Interlock's search attributes, and Temporal Web (the UI server) pointed at it. Binaries are
 * found or built (temporal/cluster-binaries.ts); each process runs under the supervisor, so the
 * whole cluster stops with this process.
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const log = options.log ?? console.error;
  const namespace = options.namespace ?? 'default';
  const ports = { ...standardPorts(options.ports?.frontend), ...options.ports };
  const dir = options.dir;
  const tooHigh = Object.entries(ports).filter(([, port]) => port > MAX_PORT);
  if (tooHigh.length > 0) {
    // The cluster_membership table keeps ports as PostgreSQL smallints.
    throw new Error(`The Temporal server on PostgreSQL needs its ports below ${MAX_PORT + 1}; these are not: ${tooHigh.map(([name, port]) => `${name} ${port}`).join(', ')}.`);
  }
  mkdirSync(dir, { recursive: true });

  // One at a time: a missing binary is a `go install` that takes both cores.
  const server = await findClusterBinary(clusterBinaries.server, { log });
  const sqlTool = await findClusterBinary(clusterBinaries.sqlTool, { log });
  const uiServer = options.uiPort === null ? null : await findClusterBinary(clusterBinaries.uiServer, { log });

  const configFile = join(dir, 'temporal.yaml');
  const uiDir = join(dir, 'ui');
  await stopLeftover(join(dir, 'ui.pid'), (args) => args.includes(dir) && args.includes('--config') && args.includes('ui'), 'a Temporal Web server', { log });
  await stopLeftover(join(dir, 'temporal.pid'), (args) => args.includes(configFile), 'a Temporal server', { log });

  const started: Pick<Supervised, 'stop' | 'exited'>[] = [];
  const stop = async () => {
    for (const process of started.splice(0).reverse()) await process.stop();
  };
  try {
    const postgres = await startPostgres({ dir, port: options.postgresPort, log });
    started.push(postgres);
    await setUpSchemas(sqlTool, postgres);

    const dynamicConfigFile = join(dir, 'dynamicconfig.yaml');
    writeFileSync(dynamicConfigFile, stringify(DYNAMIC_CONFIG));
    // It holds the database password: for our eyes only.
    writeFileSync(configFile, stringify(serverConfig({ postgres, ports, dynamicConfigFile, tls: options.tls })), { mode: 0o600 });
    const temporal = supervise(server, ['--config-file', configFile, '--allow-no-auth', 'start'], {
      pidFile: join(dir, 'temporal.pid'),
      logFile: join(dir, 'temporal.log'),
      graceMs: 20_000,
      detached: true,
    });
    started.push(temporal);

    const address = `127.0.0.1:${ports.frontend}`;
    const connectOptions = clientOptions(address, options.tls);
    await waitUntilServing(connectOptions, temporal.exited, 'the Temporal server', 120_000).catch((error: Error) => {
      throw new Error(`${error.message.replace(/; see its log$/, '')}${temporal.firstError()}`);
    });
    const serverVersion = await prepareNamespace(connectOptions, namespace, log);

    let uiUrl: string | null = null;
    if (uiServer && options.uiPort !== null) {
      mkdirSync(uiDir, { recursive: true });
      writeFileSync(join(uiDir, 'base.yaml'), stringify(uiConfig({ address, port: options.uiPort, namespace, codecEndpoint: options.codecEndpoint, tls: options.tls })));
      const ui = supervise(uiServer, ['--root', dir, '--config', 'ui', '--env', 'interlock', 'start'], {
        pidFile: join(dir, 'ui.pid'),
        logFile: join(dir, 'ui.log'),
        detached: true,
      });
      started.push(ui);
      uiUrl = `http://localhost:${options.uiPort}`;
      await untilAnswers(`http://127.0.0.1:${options.uiPort}/`, ui);
    }

    const names = ['PostgreSQL', 'the Temporal server', 'Temporal Web'];
    const broken = Promise.race(started.map((process, i) => process.exited.then(() => `${names[i]} exited`)));
    return {
      address,
      namespace,
      uiUrl,
      postgres: { version: postgres.version, port: postgres.port },
      serverVersion,
      uiServerVersion: uiServer ? (await run(uiServer, ['--version'])).stdout.trim().replace(/^.*version\s+/i, '') : null,
      stop,
      broken,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Creates both databases when missing, sets up their schema at version 0.0 and upgrades it to the
 * version this server needs, with the server's own SQL tool and the schemas built into it. Every
 * step is a no-op when already done, so it runs on every start (and so upgrades the schema when a
 * newer server is pinned).
 */
async function setUpSchemas(sqlTool: string, postgres: Postgres): Promise<void> {
  const env = {
    ...process.env,
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: postgres.host,
    SQL_PORT: String(postgres.port),
    SQL_USER: postgres.user,
    // In the environment, not on the command line, where anyone on the machine could read it.
    SQL_PASSWORD: postgres.password,
  };
  for (const [database, schema] of [['temporal', 'temporal'], ['temporal_visibility', 'visibility']] as const) {
    for (const args of [['create-database'], ['setup-schema', '-v', '0.0'], ['update-schema', '--schema-name', `postgresql/v12/${schema}`]]) {
      try {
        await run(sqlTool, ['--db', database, ...args], { env: { ...env, SQL_DATABASE: database }, maxBuffer: 16 * 1024 * 1024 });
      } catch (error) {
        const output = `${(error as { stderr?: string }).stderr ?? ''}${(error as { stdout?: string }).stdout ?? ''}`.trim();
        throw new Error(`The Temporal SQL tool failed to ${args[0]} ${database}: ${output.split('\n').at(-1) || (error as Error).message}`);
      }
    }
  }
}

/**
 * The server does not make a namespace by itself: register it when missing, then Interlock's search
 * attributes. Resolves with the server's version.
 */
async function prepareNamespace(connectOptions: ConnectionOptions, namespace: string, log: (line: string) => void): Promise<string> {
  const connection = await Connection.connect(connectOptions);
  try {
    const exists = await connection.workflowService.describeNamespace({ namespace }).then(() => true, () => false);
    if (!exists) {
      await connection.workflowService.registerNamespace({
        namespace,
        description: 'Interlock deployments',
        workflowExecutionRetentionPeriod: msToTs(`${RETENTION_DAYS} days`),
      });
      log(`Registered namespace ${namespace} (closed deployments kept ${RETENTION_DAYS} days).`);
    }
    // A new namespace, and new search attributes, reach the frontend's namespace cache within
    // seconds (system.namespaceCacheRefreshInterval); until then starts and queries that use them
    // fail. A query naming every one of them succeeds once they are there.
    await retry(() => ensureSearchAttributes(connection, namespace), `namespace ${namespace} and its search attributes`);
    const query = Object.values(searchAttributes).map((key) => `${key.name} = 'readiness'`).join(' AND ');
    await retry(() => connection.workflowService.listWorkflowExecutions({ namespace, query, pageSize: 1 }), `Interlock's search attributes in ${namespace}`);
    return (await connection.workflowService.getSystemInfo({})).serverVersion ?? 'unknown';
  } finally {
    await connection.close();
  }
}

async function retry<T>(attempt: () => Promise<T>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`The Temporal server did not get ${what} ready within ${timeoutMs / 1000} s: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

async function untilAnswers(url: string, ui: Supervised, timeoutMs = 30_000): Promise<void> {
  let early: number | null | undefined;
  void ui.exited.then((code) => (early = code));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (early !== undefined) throw new Error(`Temporal Web exited (code ${early}) before it was ready${ui.firstError()}`);
    if (await fetch(url).then((response) => response.ok, () => false)) return;
    if (Date.now() > deadline) throw new Error(`Temporal Web did not answer at ${url} within ${timeoutMs / 1000} s${ui.firstError()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** How this module's own clients reach the frontend: TLS with the cluster's CA (and client certificate) when it has TLS. */
function clientOptions(address: string, tls: ClusterTls | undefined): ConnectionOptions & { address: string } {
  if (!tls) return { address };
  return {
    address,
    tls: {
      serverNameOverride: tls.serverName,
      serverRootCACertificate: readFileSync(tls.caFile),
      ...(tls.clientCertFile && tls.clientKeyFile
        ? { clientCertPair: { crt: readFileSync(tls.clientCertFile), key: readFileSync(tls.clientKeyFile) } }
        : {}),
    },
  };
}

/** Dynamic settings the server reads from a file it watches (docker-compose.temporal.yml says the same). */
export const DYNAMIC_CONFIG = {
  // Interlock's API acts on deployments with updates; said here so a change of default cannot take them away.
  'frontend.enableUpdateWorkflowExecution': [{ value: true }],
  // Every list, "Waiting for you", idempotency check and count is a visibility call: Temporal's
  // default of 10 a second per namespace and frontend stalls each eleventh for a second or two.
  'frontend.namespaceRPS.visibility': [{ value: 200 }],
};
