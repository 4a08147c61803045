import { Writable } from 'node:stream';
import pino from 'pino';
import { expect, it } from 'vitest';
import { createApp } from '../../app.js';
import { ok, problem } from '../support/api.js';
import { until } from '../support/poll.js';
import { helloService } from '../support/fixtures.js';
import { testConfig, uniqueRelease, useStack, waitFor } from '../support/stack.js';

const config = testConfig(helloService(`
- { name: Deploy, type: script, run: 'echo ok' }
- { name: Approve, type: manual, environments: [production], responsibleTeams: [release-managers] }
`));

const stack = useStack(config);

/** The value of one sample line of the Prometheus text format. */
const sample = (text: string, name: string, labels: Record<string, string>) => {
  const line = text.split('\n').find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
};

it('exposes request counts and latencies by route and status, deployments by status, and open interruptions', async () => {
  const done = await ok(stack.trigger({ project: 'hello-service', environment: 'qa', release: uniqueRelease() }), 201);
  const waiting = await ok(stack.trigger({ project: 'hello-service', environment: 'production', release: uniqueRelease() }), 201);
  await problem(stack.trigger({ project: 'hello-service', environment: 'qa', release: '1.0.0' }, { as: 'vic' }), 403);
  await waitFor(stack, done.id, (view) => view.status === 'Succeeded');
  await waitFor(stack, waiting.id, (view) => view.status === 'Waiting');

  // Visibility catches up with the search attributes within a moment.
  const metrics = async () => {
    const response = await stack.app.request('/metrics');
    expect(response.status).toBe(200);
    return response.text();
  };
  const caughtUp = (text: string) => sample(text, 'interlock_deployments', { status: 'Succeeded' }) === 1 && sample(text, 'interlock_open_interruptions', {}) === 1;
  const text = await until(metrics, caughtUp, 'the metrics to count the two deployments', { timeoutMs: 10_000, everyMs: 200 }).catch(() => metrics());
  expect(sample(text, 'interlock_deployments', { status: 'Succeeded' })).toBe(1);
  expect(sample(text, 'interlock_deployments', { status: 'Waiting' })).toBe(1);
  expect(sample(text, 'interlock_deployments', { status: 'Failed' })).toBe(0);
  expect(sample(text, 'interlock_open_interruptions', {})).toBe(1);
  expect(sample(text, 'interlock_deployments_started_total', { project: 'hello-service', environment: 'qa' })).toBe(1);
  expect(sample(text, 'http_requests_total', { method: 'POST', route: '/api/deployments', status: '201' })).toBe(2);
  expect(sample(text, 'http_requests_total', { method: 'POST', route: '/api/deployments', status: '403' })).toBe(1);
  expect(sample(text, 'http_request_duration_seconds_count', { method: 'POST', route: '/api/deployments', status: '201' })).toBe(2);
});

it('logs JSON lines that all carry the request id, which the response names too', async () => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const app = createApp({ temporal: { client: stack.client, taskQueue: stack.taskQueue }, config, logger: pino({ level: 'info' }, sink) });
  const response = await app.request('/api/deployments/nope', { headers: { Authorization: 'Bearer vic-demo-token' } });
  expect(response.status).toBe(404);
  const requestId = response.headers.get('x-request-id');
  expect(requestId).toBeTruthy();
  await new Promise((resolve) => setImmediate(resolve));
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) expect(line.requestId).toBe(requestId);
  expect(lines.at(-1)).toMatchObject({ method: 'GET', path: '/api/deployments/nope', status: 404, msg: 'request' });
});
