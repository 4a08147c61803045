/**
 * `npm run bench`: how fast Interlock answers the things people and pipelines wait for, against a
 * real Temporal dev server (in memory) and a real worker, through the real HTTP server:
 *
 * - trigger → Succeeded of a one-step deployment (`POST /api/deployments`, then `GET …/wait`);
 * - take-responsibility and proceed on a waiting deployment (each a Temporal update);
 * - `GET /api/deployments/{id}` of a waiting deployment (a Temporal query).
 *
 * It prints a Markdown table; paste it into bench/RESULTS.md with the commit it ran on.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import pino from 'pino';
import { startApi } from '../api/server.js';
import { readEnv } from '../config/env.js';
import { parseConfig, loadConfig, EXAMPLE_CONFIG_PATH } from '../config/load.js';
import { freePort, startDevServer } from '../temporal/dev-server.js';
import { createWorker } from '../worker.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);

const example = loadConfig(EXAMPLE_CONFIG_PATH);
const config = {
  ...example,
  projects: parseConfig(`
teams: [{ id: release-managers, name: Release managers }]
projects:
  - id: bench
    name: Bench
    environments: [production]
    process:
      - { name: Deploy, type: script, run: 'true' }
  - id: bench-manual
    name: Bench manual
    environments: [production]
    process:
      - { name: Approve, type: manual, responsibleTeams: [release-managers] }
`).projects,
};

Runtime.install({ logger: new DefaultLogger('ERROR') });
const server = await startDevServer({ headless: true });
const nativeConnection = await NativeConnection.connect({ address: server.address });
const worker = await createWorker({ connection: nativeConnection, namespace: 'default', taskQueue: 'bench' });
const running = worker.run();
const client = new Client({ connection: await Connection.connect({ address: server.address }) });
const port = await freePort();
const env = readEnv({ PORT: String(port), HOST: '127.0.0.1', TEMPORAL_TASK_QUEUE: 'bench', INTERLOCK_WORKER_METRICS_PORT: '0' });
const api = await startApi({ env, config, configPath: 'bench', client, logger: pino({ level: 'silent' }) });
const base = `http://127.0.0.1:${port}`;

async function call(method: string, path: string, token: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (response.status >= 300) throw new Error(`${method} ${path} → ${response.status} ${await response.text()}`);
  return response.json() as Promise<any>;
}

async function time<T>(samples: number[], work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await work();
  samples.push(performance.now() - started);
  return result;
}

const results: Record<string, number[]> = { 'trigger → Succeeded (1 script step)': [], 'take-responsibility (update)': [], 'proceed (update)': [], 'GET a waiting deployment (query)': [] };
try {
  for (let i = 0; i < RUNS + 3; i++) {
    const warm = i < 3; // the first runs warm up the worker's caches and the JIT
    const sink = (name: string) => (warm ? [] : results[name]!);
    await time(sink('trigger → Succeeded (1 script step)'), async () => {
      const { id } = await call('POST', '/api/deployments', 'ci-demo-token', { project: 'bench', environment: 'production', release: `1.0.${i}` });
      const done = await call('GET', `/api/deployments/${id}/wait?timeout=60`, 'ci-demo-token');
      if (done.status !== 'Succeeded') throw new Error(`deployment ${id} ended ${done.status}`);
    });

    const { id } = await call('POST', '/api/deployments', 'ci-demo-token', { project: 'bench-manual', environment: 'production', release: `2.0.${i}` });
    let view = await call('GET', `/api/deployments/${id}`, 'jjones-demo-token');
    while (view.status !== 'Waiting') view = await call('GET', `/api/deployments/${id}`, 'jjones-demo-token');
    await time(sink('GET a waiting deployment (query)'), () => call('GET', `/api/deployments/${id}`, 'jjones-demo-token'));
    const url = `/api/deployments/${id}/interruptions/${view.interruptions[0].id}`;
    await time(sink('take-responsibility (update)'), () => call('POST', `${url}/take-responsibility`, 'jjones-demo-token'));
    await time(sink('proceed (update)'), () => call('POST', `${url}/proceed`, 'jjones-demo-token', { notes: 'bench' }));
  }
} finally {
  await api.close();
  worker.shutdown();
  await running;
  await server.stop();
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const commit = (() => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
})();
console.log(`\n${RUNS} runs each; commit ${commit}; ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; Node ${process.version}\n`);
console.log('| operation | p50 ms | p95 ms | max ms |\n| --- | ---: | ---: | ---: |');
for (const [name, samples] of Object.entries(results)) {
  const sorted = [...samples].sort((a, b) => a - b);
  console.log(`| ${name} | ${quantile(sorted, 0.5).toFixed(1)} | ${quantile(sorted, 0.95).toFixed(1)} | ${sorted.at(-1)!.toFixed(1)} |`);
}
const memory = process.memoryUsage();
console.log(`\nAPI + worker process after the run: rss ${(memory.rss / 2 ** 20).toFixed(0)} MiB, heap used ${(memory.heapUsed / 2 ** 20).toFixed(0)} MiB`);
