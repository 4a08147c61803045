import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readEnv } from '../../config/env.js';
import { type Cluster, startCluster } from '../../temporal/cluster.js';
import { dataConverterWith, codecKey } from '../../temporal/payload-codec.js';
import { connectClient, connectionOptions, connectWorker } from '../../temporal/connection.js';
import { freePort } from '../../temporal/dev-server.js';
import { deploymentIn, ok } from '../support/api.js';
import { makeCertificates, type TestCertificates } from '../support/certs.js';
import { clusterScratch, freeClusterPorts } from '../support/cluster.js';
import { killAll, startProcess } from '../support/processes.js';
import { startStack, testConfig, uniqueRelease } from '../support/stack.js';

// Temporal Cloud and clusters with mTLS, as far as a machine without them can go: a real Temporal
// server whose frontend wants TLS with a certificate made here, mTLS by default, and without client
// certificates under a second name (for API-key clients), and Interlock's settings against it.
let dir: string;
let certs: TestCertificates;
let cluster: Cluster;
beforeAll(async () => {
  dir = clusterScratch('interlock-tls-');
  certs = makeCertificates(dir);
  const { ports, postgresPort } = await freeClusterPorts();
  cluster = await startCluster({
    dir: join(dir, 'cluster'),
    ports,
    postgresPort,
    uiPort: await freePort(),
    log: () => undefined,
    tls: {
      certFile: certs.serverCert,
      keyFile: certs.serverKey,
      caFile: certs.ca,
      requireClientAuth: true,
      serverName: 'localhost',
      clientCertFile: certs.clientCert,
      clientKeyFile: certs.clientKey,
      hostOverrides: { 'api-key.localhost': { requireClientAuth: false } },
    },
  });
});
afterAll(async () => {
  await killAll();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const mtls = () => ({ TEMPORAL_TLS_CERT: certs.clientCert, TEMPORAL_TLS_KEY: certs.clientKey, TEMPORAL_TLS_CA: certs.ca });
const envWith = (vars: Record<string, string>) => readEnv({ TEMPORAL_ADDRESS: cluster.address, ...vars });

describe('a cluster whose frontend wants TLS', () => {
  it('runs a deployment end to end with TEMPORAL_TLS_CERT/KEY and TEMPORAL_TLS_CA: the worker and the client both over mTLS', async () => {
    const stack = await startStack(
      testConfig(`
- id: over-tls
  name: Over TLS
  environments: [production]
  process:
    - { name: Deploy, type: script, run: 'echo deployed #{Release} over mTLS' }
`),
      { connection: connectionOptions(envWith(mtls())) },
    );
    try {
      const release = uniqueRelease();
      const { id } = await ok(stack.trigger({ project: 'over-tls', environment: 'production', release }), 201);
      const done = deploymentIn(await ok(stack.api().api.deployments[':id'].wait.$get({ param: { id }, query: { timeout: 60 } }), 200));
      expect(done.status).toBe('Succeeded');
      expect(done.steps[0]!.log).toContain(`deployed ${release} over mTLS`);
    } finally {
      await stack.stop();
    }
  });

  it("lets Temporal Web reach it with the cluster's own client certificate", async () => {
    const response = await fetch(`${cluster.uiUrl}/api/v1/namespaces`);
    expect(response.status).toBe(200);
    const { namespaces } = (await response.json()) as { namespaces: { namespaceInfo: { name: string } }[] };
    expect(namespaces.map((namespace) => namespace.namespaceInfo.name)).toContain('default');
  });

  it('connects the worker and the API with TEMPORAL_API_KEY (TLS on, the server name given), and checks TEMPORAL_NAMESPACE', async () => {
    const env = envWith({ TEMPORAL_API_KEY: 'an-api-key', TEMPORAL_TLS_CA: certs.ca, TEMPORAL_TLS_SERVER_NAME: 'api-key.localhost' });
    const worker = await connectWorker(env);
    await worker.close();
    const client = await connectClient(env, undefined, dataConverterWith([codecKey(randomBytes(32).toString('base64'))]));
    expect((await client.connection.workflowService.getSystemInfo({})).serverVersion).toBe(cluster.serverVersion);
    await client.connection.close();

    await expect(connectWorker(envWith({ ...mtls(), TEMPORAL_NAMESPACE: 'deploys' }))).rejects.toThrow(
      `Temporal at ${cluster.address} has no namespace "deploys": check TEMPORAL_NAMESPACE (or create it: temporal operator namespace create deploys).`,
    );
  });

  const at = () => `Cannot connect to Temporal at ${cluster.address}: `;
  it.each([
    ['no TLS at all', () => ({}), 'the server wants TLS; set TEMPORAL_TLS_CA (its CA), TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY (mTLS), or TEMPORAL_API_KEY.'],
    ['no client certificate', () => ({ TEMPORAL_TLS_CA: certs.ca }), 'the server wants a client certificate (mTLS); set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY.'],
    [
      'a client certificate another CA signed',
      () => ({ TEMPORAL_TLS_CERT: certs.otherClientCert, TEMPORAL_TLS_KEY: certs.otherClientKey, TEMPORAL_TLS_CA: certs.ca }),
      () => `the server refuses the client certificate in TEMPORAL_TLS_CERT=${certs.otherClientCert} (not signed by a CA it trusts?).`,
    ],
    ['the system CAs only', () => ({ TEMPORAL_TLS_CERT: certs.clientCert, TEMPORAL_TLS_KEY: certs.clientKey }), 'its certificate is not signed by a CA this machine trusts; set TEMPORAL_TLS_CA to the CA that signed it.'],
    ['the wrong CA', () => ({ ...mtls(), TEMPORAL_TLS_CA: certs.otherCa }), () => `its certificate is not signed by the CA in TEMPORAL_TLS_CA=${certs.otherCa}.`],
    ['another server name', () => ({ ...mtls(), TEMPORAL_TLS_SERVER_NAME: 'elsewhere.example' }), 'its certificate is for another name; set TEMPORAL_TLS_SERVER_NAME to the name in it.'],
  ])('says in one line what to change when the worker has %s', async (_, vars, advice) => {
    const error = await connectWorker(envWith(vars())).then(() => undefined, (e: Error) => e);
    expect(error?.message).toBe(at() + (typeof advice === 'function' ? advice() : advice));
  });

  it('names an unreadable certificate file before connecting at all', async () => {
    await expect(connectWorker(envWith({ ...mtls(), TEMPORAL_TLS_KEY: join(dir, 'missing.key') }))).rejects.toThrow(
      `TEMPORAL_TLS_KEY=${join(dir, 'missing.key')} cannot be read (ENOENT); fix the path or unset it.`,
    );
  });

  it('says the same for the API, whose gRPC client alone would only say "Failed to connect before the deadline"', async () => {
    const codec = dataConverterWith([codecKey(randomBytes(32).toString('base64'))]);
    const [untrusted, plain] = await Promise.all([
      connectClient(envWith({ ...mtls(), TEMPORAL_TLS_CA: certs.otherCa }), undefined, codec).then(() => undefined, (e: Error) => e.message),
      connectClient(envWith({}), undefined, codec).then(() => undefined, (e: Error) => e.message),
    ]);
    expect(untrusted).toBe(`${at()}its certificate is not signed by the CA in TEMPORAL_TLS_CA=${certs.otherCa}.`);
    expect(plain).toBe(`${at()}the server wants TLS; set TEMPORAL_TLS_CA (its CA), TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY (mTLS), or TEMPORAL_API_KEY.`);
  });
});

describe('TLS settings against a server without TLS, and an address where nothing listens', () => {
  it('says so in one line', async () => {
    const plainServer = inject('temporalAddress');
    const nowhere = `127.0.0.1:${await freePort()}`;
    await expect(connectWorker(readEnv({ TEMPORAL_ADDRESS: plainServer, ...mtls() }))).rejects.toThrow(
      `Cannot connect to Temporal at ${plainServer}: the server does not speak TLS there; unset TEMPORAL_API_KEY and TEMPORAL_TLS_*, or check TEMPORAL_ADDRESS.`,
    );
    await expect(connectWorker(readEnv({ TEMPORAL_ADDRESS: nowhere }))).rejects.toThrow(
      `Cannot connect to Temporal at ${nowhere}: nothing answers there; check TEMPORAL_ADDRESS and that the server runs.`,
    );
  });
});

describe('npm run worker and npm run api with a wrong setting', () => {
  it('exit 1 with that one line, and nothing else of theirs', async () => {
    const common = { TEMPORAL_ADDRESS: cluster.address, INTERLOCK_WORKER_METRICS_PORT: '0', INTERLOCK_DATA_DIR: join(dir, 'data'), TEMPORAL_TLS_CA: certs.ca };
    // The entry points themselves (what `npm run worker` and `npm run api` exec), so npm's own lines are not in the way.
    const worker = startProcess(process.execPath, ['--import', 'tsx', 'worker.ts'], common);
    const api = startProcess(process.execPath, ['--import', 'tsx', 'server.ts'], { ...common, PORT: String(await freePort()) });
    const advice = `Cannot connect to Temporal at ${cluster.address}: the server wants a client certificate (mTLS); set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY.`;
    for (const child of [worker, api]) {
      expect(await child.exited).toBe(1);
      // grpc-js makes Node warn that an IP address is no TLS server name: Node's line, not ours.
      const lines = child.output().split('\n').filter((line) => line.trim() && !/^\(node:\d+\)|^\(Use `node --trace/.test(line));
      expect(lines).toEqual([advice]);
    }
  });
});
