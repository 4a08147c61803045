import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_CONFIG_PATH } from '../../config/load.js';
import { freePort } from '../../temporal/dev-server.js';
import { clusterScratch, freeClusterPorts } from '../support/cluster.js';
import { type Deployment, deploymentIn, ok, overHttp, tokens, type Who } from '../support/api.js';
import { readEvents, type DeploymentEvent } from '../support/events.js';
import { eventually, until } from '../support/poll.js';
import { allProcesses, descendantsOf, killAll, npmRun, type TestProcess } from '../support/processes.js';
import { uniqueRelease, waitFor } from '../support/stack.js';

// docs/operations.md as a user runs it: `npm run cluster` in one terminal, two `npm run worker`
// and two `npm run api` in others, all with one codec key (and the APIs one session secret), and
// the shipped example config. Every process is a real one, started as a user starts it.
const STEP = 'Ensure traders are aware of the deployment';
const dir = clusterScratch('interlock-multi-');
const codecKey = randomBytes(32).toString('base64');
const sessionSecret = randomBytes(32).toString('base64url');

/** An `npm run api` process and where it answers. */
interface ApiProcess {
  url: string;
  process: TestProcess;
}
let clusterEnv: Record<string, string>;
let common: Record<string, string>;
let cluster: TestProcess;
const workers: TestProcess[] = [];
const apis: ApiProcess[] = [];

async function startCluster(): Promise<TestProcess> {
  const started = npmRun('cluster', clusterEnv);
  // The first start may build the Temporal binaries (a few minutes), later ones take seconds.
  await started.waitFor('The Temporal cluster is running.', 600_000);
  return started;
}

async function startWorker(): Promise<TestProcess> {
  const worker = npmRun('worker', common);
  await worker.waitFor('Worker polling', 120_000);
  return worker;
}

async function startApi(): Promise<ApiProcess> {
  const port = await freePort();
  const api = { url: `http://localhost:${port}`, process: npmRun('api', { ...common, PORT: String(port), LOG_LEVEL: 'warn' }) };
  const ready = () => fetch(`${api.url}/readyz`).then((r) => r.status, () => 0);
  await until(ready, (status) => status === 200, `npm run api to get ready (its output: ${api.process.output()})`, { timeoutMs: 120_000, everyMs: 200 });
  return api;
}

beforeAll(async () => {
  const { ports, postgresPort } = await freeClusterPorts();
  const uiPort = await freePort();
  clusterEnv = {
    INTERLOCK_DATA_DIR: dir,
    TEMPORAL_CLUSTER_PORT: String(ports.frontend),
    INTERLOCK_POSTGRES_PORT: String(postgresPort),
    TEMPORAL_UI_PORT: String(uiPort),
    INTERLOCK_CODEC_KEY: codecKey,
  };
  cluster = await startCluster();
  common = {
    TEMPORAL_ADDRESS: `127.0.0.1:${ports.frontend}`,
    TEMPORAL_UI_URL: `http://localhost:${uiPort}`,
    INTERLOCK_CODEC_KEY: codecKey,
    INTERLOCK_SESSION_SECRET: sessionSecret,
    INTERLOCK_CONFIG: EXAMPLE_CONFIG_PATH,
    INTERLOCK_DATA_DIR: dir,
    INTERLOCK_WORKER_METRICS_PORT: '0',
  };
  const [first, second, a, b] = await Promise.all([startWorker(), startWorker(), startApi(), startApi()]);
  workers.push(first, second);
  apis.push(a!, b!);
}, 900_000);

afterAll(async () => {
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

/** The typed client of one API process, over real HTTP, as `who` (jjones unless given). */
const on = (api: ApiProcess) => overHttp(api.url);

/** The call as a person makes it: told 503 (no worker answered, nothing done, Retry-After), they try again. */
function persist<R extends { status: number }>(attempt: () => Promise<R>, timeoutMs = 90_000): Promise<R> {
  return until(attempt, (response) => response.status !== 503, 'a worker to answer (an answer other than 503)', { timeoutMs, everyMs: 1_000 });
}

async function trigger(api: ApiProcess, variables: Record<string, string> = { DeploySeconds: '0' }): Promise<string> {
  const created = await ok(on(api).api('ci').api.deployments.$post({ json: { project: 'hello-service', environment: 'production', release: uniqueRelease(), variables }, header: {} }), 201);
  return created.id;
}

/** Reads the deployment on one API process until `done` holds. */
const reached = (api: ApiProcess, id: string, done: (view: Deployment) => boolean, timeoutMs = 90_000) => waitFor(on(api), id, done, timeoutMs);

const act = (api: ApiProcess, as: Who, view: Deployment, action: 'take-responsibility' | 'proceed', json: { notes?: string } = {}) =>
  persist(() => on(api).api(as).api.deployments[':id'].interruptions[':iid'][action].$post({ param: { id: view.id, iid: view.interruptions[0]!.id }, json }));

const statusesIn = (events: DeploymentEvent[]) => events.map((event) => event.data.status).filter((status, i, all) => status !== all[i - 1]);

describe('two workers and two API processes on npm run cluster', () => {
  it('approves on one API a deployment triggered on the other, while both stream its changes', async () => {
    const [a, b] = apis as [ApiProcess, ApiProcess];
    const id = await trigger(a);
    const stream = (api: ApiProcess) =>
      on(api).api('vic').api.deployments[':id'].events.$get({ param: { id } }).then((response) =>
        readEvents(response, (events) => events.at(-1)?.data.status === 'Succeeded'),
      );
    const [onA, onB] = [stream(a), stream(b)];

    const waiting = await reached(b, id, (view) => view.status === 'Waiting');
    expect(waiting.interruptions[0]).toMatchObject({ step: STEP, state: 'Pending' });
    const taken = await ok(act(b, 'jjones', waiting, 'take-responsibility'));
    expect(taken).toMatchObject({ state: 'Assigned', assignee: { username: 'jjones' } });
    const notes = 'Desk told on the other API';
    await ok(act(a, 'jjones', waiting, 'proceed', { notes }));

    const done = deploymentIn(await ok(on(b).api().api.deployments[':id'].wait.$get({ param: { id }, query: { timeout: 60 } })));
    expect(done.status).toBe('Succeeded');
    expect(done.steps.at(-1)?.log).toContain(`Signed off by Jamie Jones: ${notes}`);
    for (const { events } of await Promise.all([onA, onB])) {
      expect(statusesIn(events)).toEqual(expect.arrayContaining(['Waiting', 'Succeeded']));
      expect(events.some((event) => event.data.interruptions[0]?.assignee?.username === 'jjones')).toBe(true);
    }
  });

  it('keeps a dashboard session signed in on one API good on the other, live updates included', async () => {
    const [a, b] = apis as [ApiProcess, ApiProcess];
    const signIn = await fetch(`${a.url}/sign-in`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: a.url },
      body: new URLSearchParams({ token: tokens.mlee, next: '/' }),
      redirect: 'manual',
    });
    expect(signIn.status).toBe(303);
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;

    expect(await ok(on(b).api(null, { Cookie: cookie }).api.me.$get())).toMatchObject({ username: 'mlee' });
    const page = await fetch(`${b.url}/`, { headers: { Cookie: cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Signed in as');

    const id = await trigger(a);
    const events = await on(b).api(null, { Cookie: cookie }).api.deployments[':id'].events.$get({ param: { id } });
    expect(events.status).toBe(200);
    const { events: seen } = await readEvents(events, (all) => all.some((event) => event.data.status === 'Waiting'));
    expect(seen.at(-1)!.data).toMatchObject({ id, status: 'Waiting' });
  });

  it('carries on when a worker is killed with kill -9 mid-deployment: the other finishes what waits and reports the lost step', async () => {
    const [a, b] = apis as [ApiProcess, ApiProcess];
    // One deployment whose script runs for minutes, on one of the two workers: that one will die.
    const long = await trigger(b, { DeploySeconds: '300' });
    const runner = await findWorkerRunning('sleep 300');
    const script = descendantsOf(runner.pid).find((process) => process.args === 'sleep 300')!;
    const node = descendantsOf(runner.pid).find((process) => /node .*worker\.ts/.test(process.args))!;
    // And deployments waiting at the manual step, at least one of them last run by that worker.
    const waiting: Deployment[] = [];
    while (!(await Promise.all(waiting.map((view) => workerPidsOf(view.id)))).some((pids) => pids.includes(node.pid))) {
      if (waiting.length >= 12) throw new Error('no waiting deployment ever ran on the worker to be killed');
      waiting.push(...(await Promise.all([1, 2].map(async () => reached(a, await trigger(a), (view) => view.status === 'Waiting')))));
    }
    for (const view of waiting.slice(0, 2)) await ok(act(a, 'jjones', view, 'take-responsibility'));

    process.kill(node.pid, 'SIGKILL');
    await runner.exited;
    workers.splice(workers.indexOf(runner), 1);
    await until(() => isAlive(script.pid), (alive) => !alive, 'the script to die with its worker', { timeoutMs: 5_000 });

    // The surviving worker decides every waiting deployment, whichever cache held it.
    for (const [i, view] of waiting.entries()) {
      const api = i % 2 === 0 ? b : a;
      if (i >= 2) await ok(act(api, 'mlee', view, 'take-responsibility'));
      const who: Who = i >= 2 ? 'mlee' : 'jjones';
      await ok(act(api, who, view, 'proceed', { notes: `after the crash ${i}` }));
    }
    for (const view of waiting) expect((await reached(b, view.id, (v) => v.finishedAt !== null)).status).toBe('Succeeded');
    const survivor = descendantsOf(workers[0]!.pid).find((process) => /node .*worker\.ts/.test(process.args))!.pid;
    const moved = await Promise.all(waiting.map((view) => workerPidsOf(view.id)));
    expect(moved.some((pids) => pids.includes(node.pid) && pids.at(-1) === survivor), 'a deployment the dead worker ran, finished by the other').toBe(true);
    // The lost step is reported by the other worker, in words, and never run twice.
    const lost = await reached(a, long, (view) => view.finishedAt !== null, 150_000);
    expect(lost.status).toBe('Failed');
    expect(lost.steps[0]!.log).toContain('The worker running this step was lost mid-step');

    workers.push(await startWorker());
  }, 400_000);

  it('loses nothing when the whole cluster restarts (Ctrl-C, then npm run cluster again) while deployments wait', async () => {
    const [a, b] = apis as [ApiProcess, ApiProcess];
    const waiting = await Promise.all([1, 2, 3].map(async () => reached(a, await trigger(a), (view) => view.status === 'Waiting')));
    await ok(act(b, 'jjones', waiting[0]!, 'take-responsibility'));

    cluster.interrupt();
    await cluster.closed;
    expect(cluster.output()).toContain('Stopping the Temporal cluster');
    expect(processesOf(dir), 'processes of the cluster left running after Ctrl-C').toEqual([]);
    expect((await fetch(`${a.url}/readyz`)).status).toBe(503);

    cluster = await startCluster();
    for (const api of [a, b]) {
      const listed = await ok(persist(() => on(api).api().api.deployments.$get({ query: { status: 'Waiting', pageSize: 100 } })));
      expect(listed.deployments.map((view) => view.id)).toEqual(expect.arrayContaining(waiting.map((view) => view.id)));
    }
    const held = await ok(persist(() => on(b).api().api.deployments[':id'].$get({ param: { id: waiting[0]!.id } })));
    expect(held.interruptions[0]).toMatchObject({ state: 'Assigned', assignee: { username: 'jjones' } });

    for (const [i, view] of waiting.entries()) {
      if (i > 0) await ok(act(b, 'mlee', view, 'take-responsibility'));
      await ok(act(a, i > 0 ? 'mlee' : 'jjones', view, 'proceed', { notes: 'after the restart' }));
    }
    for (const view of waiting) expect((await reached(b, view.id, (v) => v.finishedAt !== null)).status).toBe('Succeeded');
  }, 400_000);
});

describe('the Temporal server itself crashing', () => {
  it('is reported by npm run cluster, which stops the rest; started again, the waiting deployments go on', async () => {
    const [a, b] = apis as [ApiProcess, ApiProcess];
    const waiting = await Promise.all([1, 2].map(async () => reached(a, await trigger(a), (view) => view.status === 'Waiting')));

    const server = descendantsOf(cluster.pid).find((process) => !process.args.startsWith('sh -c') && process.args.includes('--config-file'))!;
    process.kill(server.pid, 'SIGKILL');
    await cluster.closed;
    expect(cluster.output()).toContain('The cluster is not whole: the Temporal server exited on its own');
    expect(processesOf(dir)).toEqual([]);

    cluster = await startCluster();
    for (const view of waiting) {
      await ok(act(b, 'jjones', view, 'take-responsibility'));
      await ok(act(a, 'jjones', view, 'proceed', { notes: 'after the crash' }));
      expect((await reached(b, view.id, (v) => v.finishedAt !== null)).status).toBe('Succeeded');
    }
  }, 300_000);
});

describe('npm run cluster killed with kill -9', () => {
  it('leaves nothing running, and a start after a harder crash stops what that one left', async () => {
    const own = clusterScratch('interlock-crash-');
    try {
      const { ports, postgresPort } = await freeClusterPorts();
      const env = { INTERLOCK_DATA_DIR: own, TEMPORAL_CLUSTER_PORT: String(ports.frontend), INTERLOCK_POSTGRES_PORT: String(postgresPort), TEMPORAL_UI_PORT: String(await freePort()) };
      const nodeOf = (started: TestProcess) => descendantsOf(started.pid).find((process) => /node .*scripts\/run-cluster\.ts/.test(process.args))!;

      const first = npmRun('cluster', env);
      await first.waitFor('The Temporal cluster is running.', 600_000);
      process.kill(nodeOf(first).pid, 'SIGKILL');
      const left = await until(() => processesOf(own), (processes) => processes.length === 0, 'the servers to stop with npm run cluster', { timeoutMs: 20_000 }).catch(() => processesOf(own));
      expect(left, 'servers that outlived npm run cluster').toEqual([]);

      // Harder: the supervisors die too (a machine that lost the process tree), so the servers live on.
      const second = npmRun('cluster', env);
      await second.waitFor('The Temporal cluster is running.', 120_000);
      const node = nodeOf(second).pid;
      const supervisors = descendantsOf(node).filter((process) => process.args.startsWith('sh -c'));
      // Frozen first, so it cannot see its supervisors die and stop the servers itself.
      process.kill(node, 'SIGSTOP');
      for (const supervisor of supervisors) process.kill(supervisor.pid, 'SIGKILL');
      process.kill(node, 'SIGKILL');
      await second.exited;
      const orphans = processesOf(own).filter((process) => !process.args.startsWith('sh -c'));
      expect(orphans.length).toBeGreaterThan(0);

      const third = npmRun('cluster', env);
      await third.waitFor('The Temporal cluster is running.', 120_000);
      expect(third.output()).toContain('an earlier run left behind');
      expect(orphans.filter((orphan) => isAlive(orphan.pid))).toEqual([]);
      third.interrupt();
      await third.closed;
      expect(processesOf(own)).toEqual([]);
    } finally {
      await killAll();
      rmSync(own, { recursive: true, force: true });
    }
  }, 600_000);
});

/** The pids of the workers that completed the deployment's workflow tasks, in order (a worker's identity is pid@host). */
async function workerPidsOf(id: string): Promise<number[]> {
  const connection = await Connection.connect({ address: common.TEMPORAL_ADDRESS! });
  try {
    const history = await new Client({ connection }).workflow.getHandle(id).fetchHistory();
    return (history.events ?? []).flatMap((event) => {
      const identity = event.workflowTaskCompletedEventAttributes?.identity;
      return identity ? [Number(identity.split('@')[0])] : [];
    });
  } finally {
    await connection.close();
  }
}

/** The worker one of whose descendants runs `args` (a script's command). */
function findWorkerRunning(args: string): Promise<TestProcess> {
  return eventually(() => workers.find((worker) => descendantsOf(worker.pid).some((process) => process.args === args)), `a worker to run ${args}`, { timeoutMs: 60_000 });
}

/** Every process whose command line names the folder: PostgreSQL, Temporal, Temporal Web and their supervisors. */
function processesOf(folder: string) {
  return allProcesses().filter((process) => process.args.includes(folder));
}

function isAlive(pid: number): boolean {
  return allProcesses().some((process) => process.pid === pid);
}
