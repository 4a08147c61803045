import type { ClusterPorts, ClusterTls } from './cluster.js';
import type { Postgres } from './postgres.js';

/**
 * The Temporal server's config for one machine, after the server's own
 * `config/development-postgres12.yaml`: persistence and SQL visibility both on PostgreSQL, every
 * service in one process bound to 127.0.0.1, no archival, no metrics or pprof listeners.
 */
export function serverConfig({ postgres, ports, dynamicConfigFile, tls }: {
  postgres: Pick<Postgres, 'host' | 'port' | 'user' | 'password'>;
  ports: ClusterPorts;
  dynamicConfigFile: string;
  tls?: ClusterTls | undefined;
}) {
  const store = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `${postgres.host}:${postgres.port}`,
      connectProtocol: 'tcp',
      user: postgres.user,
      password: postgres.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const service = (grpcPort: number, membershipPort: number) => ({ rpc: { grpcPort, membershipPort, bindOnLocalHost: true } });
  return {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      // Fixed for the life of the database: 4 serve one machine; a bigger cluster is set up anew.
      numHistoryShards: 4,
      datastores: {
        'postgres-default': store('temporal', 20),
        'postgres-visibility': store('temporal_visibility', 2),
      },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      pprof: { port: 0 },
      ...(tls ? { tls: tlsConfig(tls) } : {}),
    },
    services: {
      frontend: service(ports.frontend, ports.frontendMembership),
      history: service(ports.history, ports.historyMembership),
      matching: service(ports.matching, ports.matchingMembership),
      worker: service(ports.worker, ports.workerMembership),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: `127.0.0.1:${ports.frontend}` },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } },
    namespaceDefaults: { archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } } },
    dynamicConfigClient: { filepath: dynamicConfigFile, pollInterval: '10s' },
  };
}

function tlsConfig(tls: ClusterTls) {
  const server = (requireClientAuth: boolean) => ({
    certFile: tls.certFile,
    keyFile: tls.keyFile,
    requireClientAuth,
    ...(requireClientAuth ? { clientCaFiles: [tls.caFile] } : {}),
  });
  const client = { serverName: tls.serverName, rootCaFiles: [tls.caFile] };
  return {
    frontend: {
      server: server(tls.requireClientAuth),
      client,
      ...(tls.hostOverrides
        ? { hostOverrides: Object.fromEntries(Object.entries(tls.hostOverrides).map(([name, host]) => [name, server(host.requireClientAuth)])) }
        : {}),
    },
    // The server's own system worker is a client of its frontend like any other.
    systemWorker: {
      ...(tls.clientCertFile && tls.clientKeyFile ? { certFile: tls.clientCertFile, keyFile: tls.clientKeyFile } : {}),
      client,
    },
  };
}

/** Temporal Web (the UI server) on 127.0.0.1, pointed at the cluster's frontend. */
export function uiConfig({ address, port, namespace, codecEndpoint, tls }: {
  address: string;
  port: number;
  namespace: string;
  codecEndpoint?: string | undefined;
  tls?: ClusterTls | undefined;
}) {
  return {
    temporalGrpcAddress: address,
    host: '127.0.0.1',
    port,
    enableUi: true,
    defaultNamespace: namespace,
    // No calls out to the internet from a page an operator opens.
    disableNewsFetch: true,
    // Served over plain HTTP on loopback: a Secure CSRF cookie would never come back.
    cors: { cookieInsecure: true },
    ...(codecEndpoint ? { codec: { endpoint: codecEndpoint, includeCredentials: true } } : {}),
    ...(tls
      ? {
          tls: {
            caFile: tls.caFile,
            serverName: tls.serverName,
            enableHostVerification: true,
            ...(tls.clientCertFile && tls.clientKeyFile ? { certFile: tls.clientCertFile, keyFile: tls.clientKeyFile } : {}),
          },
        }
      : {}),
  };
}
