import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../temporal/dev-server.js';
import { deploymentIn, ok, overHttp } from '../support/api.js';
import { npmStart, type Running } from '../support/npm-start.js';
import { until } from '../support/poll.js';
import { killAll, npmRun } from '../support/processes.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const stacks: Running[] = [];

afterEach(async () => {
  await killAll();
  for (const stack of stacks.splice(0)) stack.kill();
});

async function deployAndFinish(url: string) {
  const ci = overHttp(url).api('ci').api;
  const { id } = await ok(ci.deployments.$post({ json: { project: 'hello-service', environment: 'qa', release: `9.${Date.now() % 1000}.0`, variables: { DeploySeconds: '0' } }, header: {} }), 201);
  return deploymentIn(await ok(ci.deployments[':id'].wait.$get({ param: { id }, query: { timeout: 60 } }), 200));
}

describe('against a Temporal cluster that is already running', () => {
  it('runs `npm run worker` and `npm run api` on their own, each stopping on SIGTERM', async () => {
    const port = await freePort();
    const env = {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: `cluster-${randomUUID()}`,
      PORT: String(port),
      INTERLOCK_WORKER_METRICS_PORT: '0',
    };
    const worker = npmRun('worker', env);
    const api = npmRun('api', env);
    const url = `http://localhost:${port}`;
    const ready = async () => (await fetch(`${url}/readyz`).then((r) => r.status).catch(() => 0)) === 200 && worker.output().includes('Worker polling');
    await until(ready, Boolean, 'npm run api to be ready and the worker to poll', { timeoutMs: 60_000, everyMs: 200 }).catch(() => undefined);
    expect(worker.output()).toContain(`task queue "${env.TEMPORAL_TASK_QUEUE}"`);
    const done = await deployAndFinish(url);
    expect(done.status).toBe('Succeeded');
    expect(done.steps[0]!.log).toContain('Deploying hello-service');

    worker.signal('SIGTERM');
    api.signal('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(await api.exited).toBe(0);
  });

  it('makes `npm start` with TEMPORAL_ADDRESS start no server of its own', async () => {
    const stack = await npmStart({ TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: `start-${randomUUID()}` });
    stacks.push(stack);
    expect(stack.output()).not.toContain('Starting the Temporal dev server');
    expect(stack.output()).toContain(`Temporal           ${inject('temporalAddress')}`);
    expect((await deployAndFinish(stack.url)).status).toBe('Succeeded');
    expect(await stack.stop()).toBe(0);
    expect(stack.alive()).toBe(false);
  });
});

describe('npm run token', () => {
  it('prints a new token and the sha256 that goes into the config', async () => {
    const { stdout } = await promisify(execFile)('npm', ['run', '--silent', 'token', '--', 'jjones'], { cwd: ROOT });
    const token = stdout.match(/^\s+(il_\S+)$/m)?.[1];
    const hash = stdout.match(/tokenSha256: ([0-9a-f]{64})/)?.[1];
    expect(token).toBeDefined();
    expect(hash).toBe(createHash('sha256').update(token!).digest('hex'));
  });
});
