/**
 * `npm run bench`: how fast Interlock answers the things people and pipelines wait for, against a
 * real Temporal dev server (in memory), with Interlock's API and worker in a process of their own
 * (`npm start` against that server, as a deployment runs it) and the callers in this one: each
 * operation through the real HTTP API beside the same operation done with the raw Temporal client
 * on the same server in the same run:
 *
 * - trigger → Succeeded of a one-step deployment (`POST /api/deployments` + `GET …/wait`, against
 *   `client.workflow.start` + `handle.result()`);
 * - take-responsibility and proceed on a waiting deployment (against `handle.executeUpdate`);
 * - `GET /api/deployments/{id}` of a waiting deployment (against `handle.query('state')`).
 *
 * With `-- --split`, the API and the worker run as `npm run api` and `npm run worker`, two processes
 * (does sharing one event loop cost the API its time?).
 *
 * The callers use node:http with keep-alive; the HTTP floor line also shows what Node's fetch would
 * add. It prints a Markdown table with p50, p95 and the API/raw ratios; paste it into
 * bench/RESULTS.md with the commit it ran on.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { EXAMPLE_CONFIG_PATH, loadConfig, parseConfig } from '../config/load.js';
import { freePort, startDevServer } from '../temporal/dev-server.js';
import { actorOfUser } from '../service/permissions.js';
import {
  type DeploymentView,
  proceedUpdate,
  stateQuery,
  takeResponsibilityUpdate,
  WORKFLOW_TYPE,
} from '../workflows/messages.js';
import { codecKey, dataConverterWith } from '../temporal/payload-codec.js';
import { rawInput, rawStartOptions } from './raw-input.js';

// 100 rounds: with 30, the p50 of one operation moved by a millisecond from run to run on a 2-core VM.
const RUNS = Number(process.env.BENCH_RUNS ?? 100);

const PROJECTS = `
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
`;
const exampleText = readFileSync(EXAMPLE_CONFIG_PATH, 'utf8');
const configText = `${exampleText.slice(0, exampleText.indexOf('projects:'))}projects:${PROJECTS}`;
const example = loadConfig(EXAMPLE_CONFIG_PATH);
const config = { ...example, projects: parseConfig(configText).projects };

const scratch = mkdtempSync(join(tmpdir(), 'interlock-bench-'));
writeFileSync(join(scratch, 'interlock.yaml'), configText);
const server = await startDevServer({ headless: true });
const key = randomBytes(32).toString('base64');
const client = new Client({ connection: await Connection.connect({ address: server.address }), dataConverter: dataConverterWith([codecKey(key)]) });
const port = await freePort();
// Interlock as a deployment runs it: npm start against a Temporal server, its API and worker in one
// process; with --split, `npm run api` and `npm run worker` as two (whether they share an event loop).
const SPLIT = process.argv.includes('--split');
const spawnInterlock = (script: string) => spawn(process.execPath, ['--import', 'tsx', script], {
  cwd: fileURLToPath(new URL('../', import.meta.url)),
  env: {
    ...process.env,
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_TASK_QUEUE: 'bench',
    INTERLOCK_CONFIG: join(scratch, 'interlock.yaml'),
    INTERLOCK_CODEC_KEY: key,
    INTERLOCK_DATA_DIR: scratch,
    PORT: String(port),
    HOST: '127.0.0.1',
    INTERLOCK_WORKER_METRICS_PORT: '0',
    INTERLOCK_ACTION_RATE: '1000000',
    INTERLOCK_TRIGGER_RATE: '1000000',
    LOG_LEVEL: 'warn',
  },
  stdio: ['ignore', 'pipe', 'pipe'],
});
/** Resolves when the process writes `line` (to either stream); fails if it ends first. */
const ready = (child: ChildProcess, line: string) => new Promise<void>((resolve, reject) => {
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.setEncoding('utf8').on('data', (chunk: string) => {
      if (stream === child.stderr) process.stderr.write(chunk);
      if (chunk.includes(line)) resolve();
    });
  }
  child.once('exit', (code) => reject(new Error(`${child.spawnargs.at(-1)} ended with ${code} before it was ready`)));
});
const processes = SPLIT ? [spawnInterlock('worker.ts'), spawnInterlock('server.ts')] : [spawnInterlock('start.ts')];
if (SPLIT) {
  await ready(processes[0]!, 'Worker polling task queue');
  // The API logs nothing at warn: it is ready when /readyz says so.
  while (!(await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false))) await new Promise((r) => setTimeout(r, 200));
} else {
  await ready(processes[0]!, 'Interlock is running.');
}
const base = `http://127.0.0.1:${port}`;

// The callers speak HTTP/1.1 with keep-alive through node:http, as a load tool does: Node's fetch
// (undici's WHATWG layer) costs the caller about half a millisecond more per request, which is the
// caller's and not the API's (the floor below shows both).
const agent = new Agent({ keepAlive: true });
async function call(method: string, path: string, token: string, body?: unknown) {
  const text = body === undefined ? undefined : JSON.stringify(body);
  const { status, answer } = await new Promise<{ status: number; answer: string }>((resolve, reject) => {
    const req = request(`${base}${path}`, {
      method, agent,
      headers: { Authorization: `Bearer ${token}`, ...(text === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }) },
    }, (res) => {
      let answer = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk)).on('end', () => resolve({ status: res.statusCode!, answer }));
    });
    req.on('error', reject).end(text);
  });
  if (status >= 300) throw new Error(`${method} ${path} → ${status} ${answer}`);
  return JSON.parse(answer);
}

async function time<T>(samples: number[], work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await work();
  samples.push(performance.now() - started);
  return result;
}

const OPERATIONS = ['trigger → Succeeded (1 script step)', 'GET a waiting deployment (query)', 'take-responsibility (update)', 'proceed (update)'] as const;
type Operation = (typeof OPERATIONS)[number];
const results = { api: new Map<Operation, number[]>(), raw: new Map<Operation, number[]>() };
for (const operation of OPERATIONS) {
  results.api.set(operation, []);
  results.raw.set(operation, []);
}
const jjones = actorOfUser(example, example.users.find((user) => user.username === 'jjones')!, { project: 'hello-service', environment: 'production' });
let rssOfInterlock = 0;
const floor: number[] = [];
const fetchFloor: number[] = [];
/** A process's resident memory, in MiB, from /proc. */
const rssOf = (pid: number) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);

/** A deployment started by the API that waits at its manual step, read once (as a dashboard would have). */
async function waitingDeployment(release: string) {
  const { id } = await call('POST', '/api/deployments', 'ci-demo-token', { project: 'bench-manual', environment: 'production', release });
  let view = await call('GET', `/api/deployments/${id}`, 'jjones-demo-token');
  while (view.status !== 'Waiting') view = await call('GET', `/api/deployments/${id}`, 'jjones-demo-token');
  return { id: id as string, iid: view.interruptions[0].id as string };
}

try {
  for (let i = 0; i < RUNS + 3; i++) {
    const warm = i < 3; // the first runs warm up the worker's caches and the JIT
    const sink = (via: 'api' | 'raw', name: Operation) => (warm ? [] : results[via].get(name)!);
    // Each operation is measured both ways back to back, alternating which goes first, so both
    // meet the server in the same moment and neither gets the warmer one.
    const pair = async (name: Operation, api: () => Promise<unknown>, raw: () => Promise<unknown>) => {
      const ways: ['api' | 'raw', () => Promise<unknown>][] = [['api', api], ['raw', raw]];
      for (const [via, work] of i % 2 === 0 ? ways : ways.reverse()) await time(sink(via, name), work);
    };
    await pair(
      'trigger → Succeeded (1 script step)',
      async () => {
        const { id } = await call('POST', '/api/deployments', 'ci-demo-token', { project: 'bench', environment: 'production', release: `1.0.${i}` });
        const done = await call('GET', `/api/deployments/${id}/wait?timeout=60`, 'ci-demo-token');
        if (done.status !== 'Succeeded') throw new Error(`deployment ${id} ended ${done.status}`);
      },
      async () => {
        const input = rawInput(config, 'bench', `3.0.${i}`);
        const handle = await client.workflow.start(WORKFLOW_TYPE, { ...rawStartOptions(input), taskQueue: 'bench' });
        const done = (await handle.result()) as DeploymentView;
        if (done.status !== 'Succeeded') throw new Error(`deployment ${input.id} ended ${done.status}`);
      },
    );
    // One waiting deployment for each way, both started (and read once) through the API.
    const viaApi = await waitingDeployment(`2.0.${i}`);
    const viaRaw = await waitingDeployment(`5.0.${i}`);
    const raw = client.workflow.getHandle(viaRaw.id);
    const url = `/api/deployments/${viaApi.id}/interruptions/${viaApi.iid}`;
    await pair('GET a waiting deployment (query)', () => call('GET', `/api/deployments/${viaApi.id}`, 'jjones-demo-token'), () => raw.query(stateQuery));
    // What HTTP alone costs a caller here: a route that asks Temporal nothing.
    await time(floor, () => call('GET', '/api/me', 'jjones-demo-token'));
    await time(fetchFloor, () => fetch(`${base}/api/me`, { headers: { Authorization: 'Bearer jjones-demo-token' } }).then((r) => r.json()));
    await pair(
      'take-responsibility (update)',
      () => call('POST', `${url}/take-responsibility`, 'jjones-demo-token'),
      () => raw.executeUpdate(takeResponsibilityUpdate, { args: [{ user: jjones, interruptionId: viaRaw.iid }] }),
    );
    await pair(
      'proceed (update)',
      () => call('POST', `${url}/proceed`, 'jjones-demo-token', { notes: 'bench' }),
      () => raw.executeUpdate(proceedUpdate, { args: [{ user: jjones, interruptionId: viaRaw.iid, notes: 'bench' }] }),
    );
  }
} finally {
  rssOfInterlock = processes.reduce((total, child) => total + rssOf(child.pid!), 0);
  for (const child of processes) child.kill('SIGTERM');
  await Promise.all(processes.map((child) => child.exitCode === null && new Promise((resolve) => child.once('exit', resolve))));
  await server.stop();
  rmSync(scratch, { recursive: true, force: true });
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
console.log('| operation | API p50 ms | raw p50 ms | ratio p50 | API p95 ms | raw p95 ms | ratio p95 |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const name of OPERATIONS) {
  const api = [...results.api.get(name)!].sort((a, b) => a - b);
  const raw = [...results.raw.get(name)!].sort((a, b) => a - b);
  const [a50, r50, a95, r95] = [quantile(api, 0.5), quantile(raw, 0.5), quantile(api, 0.95), quantile(raw, 0.95)];
  console.log(`| ${name} | ${a50.toFixed(1)} | ${r50.toFixed(1)} | ${(a50 / r50).toFixed(2)} | ${a95.toFixed(1)} | ${r95.toFixed(1)} | ${(a95 / r95).toFixed(2)} |`);
}
const p50p95 = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return `p50 ${quantile(sorted, 0.5).toFixed(1)} ms, p95 ${quantile(sorted, 0.95).toFixed(1)} ms`;
};
console.log(`\nThe HTTP floor (GET /api/me, which asks Temporal nothing): ${p50p95(floor)}; with fetch as the caller: ${p50p95(fetchFloor)}`);
console.log(`${SPLIT ? 'API and worker processes (npm run api, npm run worker)' : 'API + worker process (npm start)'} at the end of the run: rss ${rssOfInterlock} MiB`);
