/**
 * `npm run bench:scale -- N` (default 1000): N deployments wait at once on one process holding the
 * API and the worker, as `npm start` does, against a dev server on SQLite (WAL) in a scratch folder;
 * with `TEMPORAL_ADDRESS` set, against that Temporal instead (`npm run cluster`: PostgreSQL), on a
 * task queue of its own.
 *
 * 1. triggers N through the API, 16 at a time (triggers/s), and a batch with the raw Temporal
 *    client beside it (its ceiling on the same server);
 * 2. waits until visibility shows all of them waiting; the process's RSS then;
 * 3. times `GET /api/interruptions?actionable=true` (a page of 100) and `GET /api/deployments?status=Waiting`;
 * 4. approves every one through the API (read, take, proceed), 16 at a time (approvals/s), and a
 *    batch with the raw client;
 * 5. counts Succeeded and lost.
 *
 * Appends a row to bench/scale.json and a section to bench/RESULTS.md; `--chart` redraws
 * bench/scale.png (latency and RSS against N) from every row in bench/scale.json, with Chromium.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import pino from 'pino';
import { startApi } from '../server.js';
import { readEnv } from '../config/env.js';
import { EXAMPLE_CONFIG_PATH, loadConfig, parseConfig } from '../config/load.js';
import { actorOfUser } from '../service/permissions.js';
import { waitingQuery } from '../service/visibility.js';
import { freePort, startDevServer } from '../temporal/dev-server.js';
import { proceedUpdate, searchAttributes, stateQuery, takeResponsibilityUpdate, WORKFLOW_TYPE } from '../workflows/messages.js';
import { codecKey, dataConverterWith } from '../temporal/payload-codec.js';
import { activityDeps, createWorker } from '../worker.js';
import { drawChart, type ScaleRow } from './chart.js';
import { rawInput, rawStartOptions } from './raw-input.js';

const args = process.argv.slice(2);
const N = Number(args.find((arg) => /^\d+$/.test(arg)) ?? 1000);
const RAW = Math.min(500, Math.max(50, Math.round(N / 10)));
const CONCURRENCY = 16;
const HERE = new URL('.', import.meta.url);

const example = loadConfig(EXAMPLE_CONFIG_PATH);
const config = {
  ...example,
  projects: parseConfig(`
teams: [{ id: release-managers, name: Release managers }]
projects:
  - id: scale
    name: Scale
    environments: [production]
    process:
      - { name: Approve, type: manual, responsibleTeams: [release-managers] }
`).projects,
};
const mlee = actorOfUser(example, example.users.find((user) => user.username === 'mlee')!, { project: 'scale', environment: 'production' });

function progress(label: string, done: number, total: number) {
  if (!process.stderr.isTTY && done !== total && done % Math.max(1, Math.floor(total / 10)) !== 0) return;
  const width = 30;
  const filled = Math.round((done / total) * width);
  process.stderr.write(`\r${label.padEnd(34)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}${done === total ? '\n' : process.stderr.isTTY ? '' : '\n'}`);
}

async function pool<T>(count: number, label: string, work: (i: number) => Promise<T>): Promise<{ results: T[]; perSecond: number }> {
  const results: T[] = [];
  let next = 0;
  let done = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < count) {
      const i = next++;
      results[i] = await work(i);
      progress(label, ++done, count);
    }
  }));
  return { results, perSecond: count / ((performance.now() - started) / 1000) };
}

const quantile = (samples: number[], q: number) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 250);

Runtime.install({ logger: new DefaultLogger('ERROR') });
const scratch = mkdtempSync(join(tmpdir(), 'interlock-scale-'));
// An existing Temporal (a cluster) keeps earlier runs: this run's task queue and releases are its own.
const EXISTING = process.env.TEMPORAL_ADDRESS;
const RUN = EXISTING ? `${Date.now() % 1_000_000}` : '0';
const TASK_QUEUE = EXISTING ? `scale-${RUN}` : 'scale';
const port = await freePort();
const env = readEnv({
  PORT: String(port),
  HOST: '127.0.0.1',
  TEMPORAL_TASK_QUEUE: TASK_QUEUE,
  INTERLOCK_WORKER_METRICS_PORT: '0',
  INTERLOCK_ACTION_RATE: '1000000000',
  // It triggers thousands as one person: the per-person trigger rate would be the thing measured.
  INTERLOCK_TRIGGER_RATE: '1000000000',
  ...(process.env.INTERLOCK_WORKFLOW_CACHE ? { INTERLOCK_WORKFLOW_CACHE: process.env.INTERLOCK_WORKFLOW_CACHE } : {}),
});
const server = EXISTING ? { address: EXISTING, stop: async () => {} } : await startDevServer({ headless: true, dataDir: scratch });
const nativeConnection = await NativeConnection.connect({ address: server.address });
const codecKeys = [codecKey(randomBytes(32).toString('base64'))];
const dataConverter = dataConverterWith(codecKeys);
const client = new Client({ connection: await Connection.connect({ address: server.address }), dataConverter });
const worker = await createWorker({
  connection: nativeConnection,
  namespace: 'default',
  taskQueue: TASK_QUEUE,
  maxCachedWorkflows: env.INTERLOCK_WORKFLOW_CACHE,
  dataConverter,
  activities: activityDeps(env, client, config, codecKeys),
});
const running = worker.run();
const api = await startApi({ env, config, configPath: 'bench', client, logger: pino({ level: 'silent' }) });
const base = `http://127.0.0.1:${port}`;

async function call(method: string, path: string, token: string, body?: unknown): Promise<any> {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    // A 503 (no worker answered in time) is worth one more try under this load; anything else is a bug.
    if (response.status === 503 && attempt < 3) continue;
    if (response.status >= 300) throw new Error(`${method} ${path} → ${response.status} ${await response.text()}`);
    return response.json();
  }
}

const count = async (clause: string) => {
  const query = `WorkflowType = '${WORKFLOW_TYPE}' AND TaskQueue = '${TASK_QUEUE}' AND ${clause}`;
  return Number((await client.workflowService.countWorkflowExecutions({ namespace: 'default', query })).count ?? 0);
};

let row: ScaleRow;
try {
  const triggers = await pool(N, 'trigger (API)', async (i) =>
    (await call('POST', '/api/deployments', 'ci-demo-token', { project: 'scale', environment: 'production', release: `1.${RUN}.${i}` })).id as string);
  const rawTriggers = await pool(RAW, 'trigger (raw client)', async (i) => {
    const input = rawInput(config, 'scale', `9.${RUN}.${i}`);
    await client.workflow.start(WORKFLOW_TYPE, { ...rawStartOptions(input), taskQueue: TASK_QUEUE });
    return input.id;
  });
  const total = N + RAW;

  const visibleStarted = performance.now();
  for (;;) {
    const waiting = await count(`${searchAttributes.status.name} = 'Waiting' AND ExecutionStatus = 'Running'`);
    progress('waiting, in visibility', waiting, total);
    if (waiting >= total) break;
    if (performance.now() - visibleStarted > 20 * 60_000) throw new Error(`only ${waiting} of ${total} became visible as waiting`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const rssWaiting = process.memoryUsage().rss;
  console.error(`memory with all waiting: rss ${Math.round(rssWaiting / 2 ** 20)} MiB, heap used ${Math.round(process.memoryUsage().heapUsed / 2 ** 20)} MiB, external ${Math.round(process.memoryUsage().external / 2 ** 20)} MiB`);

  const interruptionsMs: number[] = [];
  const rawInterruptionsMs: number[] = [];
  const waitingListMs: number[] = [];
  // The same visibility query the API sends for mlee, straight to Temporal: the floor under the list.
  const mleeQuery = waitingQuery(
    [`WorkflowType = '${WORKFLOW_TYPE}'`, `TaskQueue = '${TASK_QUEUE}'`],
    { teams: [...mlee.teams, 'deployers'], username: mlee.username },
  );
  for (let i = 0; i < 30; i++) {
    let started = performance.now();
    await client.workflowService.listWorkflowExecutions({ namespace: client.options.namespace, query: mleeQuery, pageSize: 100 });
    rawInterruptionsMs.push(performance.now() - started);
    started = performance.now();
    const page = await call('GET', '/api/interruptions?actionable=true&pageSize=100', 'mlee-demo-token');
    interruptionsMs.push(performance.now() - started);
    if (page.interruptions.length !== 100 || !page.nextPageToken) throw new Error('the first page of interruptions is not full');
    started = performance.now();
    await call('GET', '/api/deployments?status=Waiting&pageSize=100', 'mlee-demo-token');
    waitingListMs.push(performance.now() - started);
  }
  // The whole list, page by page: complete, never cut.
  let listed = 0;
  let token: string | null = null;
  do {
    const page: any = await call('GET', `/api/interruptions?actionable=true&pageSize=100${token ? `&pageToken=${token}` : ''}`, 'mlee-demo-token');
    listed += page.interruptions.length;
    token = page.nextPageToken;
  } while (token);
  if (listed !== total) throw new Error(`the interruptions list holds ${listed} of ${total}`);

  const approvals = await pool(N, 'approve (API: read, take, proceed)', async (i) => {
    const id = triggers.results[i]!;
    const view = await call('GET', `/api/deployments/${id}`, 'mlee-demo-token');
    const path = `/api/deployments/${id}/interruptions/${view.interruptions[0].id}`;
    await call('POST', `${path}/take-responsibility`, 'mlee-demo-token');
    await call('POST', `${path}/proceed`, 'mlee-demo-token', {});
  });
  const rawApprovals = await pool(RAW, 'approve (raw client)', async (i) => {
    const handle = client.workflow.getHandle(rawTriggers.results[i]!);
    const view = await handle.query(stateQuery);
    const interruptionId = view.interruptions[0]!.id;
    await handle.executeUpdate(takeResponsibilityUpdate, { args: [{ user: mlee, interruptionId }] });
    await handle.executeUpdate(proceedUpdate, { args: [{ user: mlee, interruptionId }] });
  });

  const doneStarted = performance.now();
  let succeeded = 0;
  for (;;) {
    succeeded = await count(`${searchAttributes.status.name} = 'Succeeded'`);
    progress('succeeded, in visibility', succeeded, total);
    if (succeeded >= total || performance.now() - doneStarted > 10 * 60_000) break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }

  row = {
    n: N,
    at: new Date().toISOString().slice(0, 10),
    commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(),
    ...(EXISTING ? { temporal: `Temporal at ${EXISTING} (TEMPORAL_ADDRESS)` } : {}),
    machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    rssWaitingMiB: Math.round(rssWaiting / 2 ** 20),
    rssPeakMiB: Math.round(peakRss / 2 ** 20),
    triggersPerSecond: { api: triggers.perSecond, raw: rawTriggers.perSecond },
    approvalsPerSecond: { api: approvals.perSecond, raw: rawApprovals.perSecond },
    interruptionsMs: { p50: quantile(interruptionsMs, 0.5), p95: quantile(interruptionsMs, 0.95) },
    rawInterruptionsMs: { p50: quantile(rawInterruptionsMs, 0.5), p95: quantile(rawInterruptionsMs, 0.95) },
    waitingListMs: { p50: quantile(waitingListMs, 0.5), p95: quantile(waitingListMs, 0.95) },
    total,
    succeeded,
    lost: total - succeeded,
  };
} finally {
  clearInterval(sampler);
  await api.close();
  worker.shutdown();
  await running;
  await server.stop();
  rmSync(scratch, { recursive: true, force: true });
}

const f = (n: number) => n.toFixed(n < 10 ? 1 : 0);
const table = [
  `## ${row.at}, commit ${row.commit}: ${row.n.toLocaleString('en')} waiting (+${RAW} by the raw client)`,
  '',
  `\`npm run bench:scale -- ${N}\` on ${row.machine}; API and worker in one process, ${row.temporal ?? 'dev server on SQLite (WAL)'}.`,
  '',
  '| measure | API | raw client |',
  '| --- | ---: | ---: |',
  `| triggers/s, ${CONCURRENCY} at a time | ${f(row.triggersPerSecond.api)} | ${f(row.triggersPerSecond.raw)} |`,
  `| approvals/s (read + take + proceed), ${CONCURRENCY} at a time | ${f(row.approvalsPerSecond.api)} | ${f(row.approvalsPerSecond.raw)} |`,
  `| RSS with all waiting / peak | ${row.rssWaitingMiB} / ${row.rssPeakMiB} MiB | |`,
  `| \`GET /api/interruptions?actionable=true\` (page of 100) p50 / p95 | ${f(row.interruptionsMs.p50)} / ${f(row.interruptionsMs.p95)} ms | ${row.rawInterruptionsMs ? `${f(row.rawInterruptionsMs.p50)} / ${f(row.rawInterruptionsMs.p95)} ms (its visibility query)` : ''} |`,
  `| \`GET /api/deployments?status=Waiting\` p50 / p95 | ${f(row.waitingListMs.p50)} / ${f(row.waitingListMs.p95)} ms | |`,
  `| Succeeded / lost | ${row.succeeded.toLocaleString('en')} of ${row.total.toLocaleString('en')} / ${row.lost} | |`,
  '',
].join('\n');
console.log(`\n${table}`);

const jsonPath = new URL('scale.json', HERE);
const rows: ScaleRow[] = existsSync(jsonPath) ? JSON.parse(readFileSync(jsonPath, 'utf8')) : [];
rows.push(row);
writeFileSync(jsonPath, `${JSON.stringify(rows, null, 2)}\n`);
const resultsPath = new URL('RESULTS.md', HERE);
const results = readFileSync(resultsPath, 'utf8');
const marker = '\n## ';
const at = results.indexOf(marker);
writeFileSync(resultsPath, at < 0 ? `${results}\n${table}` : `${results.slice(0, at)}\n${table}${results.slice(at)}`);
if (args.includes('--chart')) console.log(`chart: ${await drawChart(rows, new URL('scale.png', HERE))}`);
process.exit(row.lost === 0 ? 0 : 1);
