import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../temporal/dev-server.js';
import { npmStart, type Running } from '../support/npm-start.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const children: ChildProcess[] = [];
const stacks: Running[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const stack of stacks.splice(0)) stack.kill();
});

/** `npm run <script>` with the environment a real deployment would give it. */
function npmRun(script: string, env: Record<string, string>) {
  const child = spawn('npm', ['run', script], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function deployAndFinish(url: string) {
  const created = await fetch(`${url}/api/deployments`, {
    method: 'POST',
    headers: { Authorization: 'Bearer ci-demo-token', 'Content-Type': 'application/json' },
    body: JSON.stringify({ project: 'hello-service', environment: 'qa', release: `9.${Date.now() % 1000}.0`, variables: { DeploySeconds: '0' } }),
  });
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  const done = await fetch(`${url}/api/deployments/${id}/wait?timeout=60`, { headers: { Authorization: 'Bearer ci-demo-token' } });
  expect(done.status).toBe(200);
  return (await done.json()) as { status: string; steps: { log: string }[] };
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
    for (let i = 0; i < 300; i++) {
      const ready = await fetch(`${url}/readyz`).then((r) => r.status).catch(() => 0);
      if (ready === 200 && worker.output().includes('Worker polling')) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(worker.output()).toContain(`task queue "${env.TEMPORAL_TASK_QUEUE}"`);
    const done = await deployAndFinish(url);
    expect(done.status).toBe('Succeeded');
    expect(done.steps[0]!.log).toContain('Deploying hello-service');

    worker.child.kill('SIGTERM');
    api.child.kill('SIGTERM');
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
