import { Writable } from 'node:stream';
import pino from 'pino';
import { expect, it } from 'vitest';
import { createApp } from '../../app.js';
import { testConfig, uniqueRelease, waitFor, useStack } from '../support/stack.js';

const config = testConfig(`
- id: hello-service
  name: Hello service
  environments: [qa, production]
  process:
    - { name: Deploy, type: script, run: 'echo ok' }
    - { name: Approve, type: manual, environments: [production], responsibleTeams: [release-managers] }
`);

const stack = useStack(config);

/** The value of one sample line of the Prometheus text format. */
const sample = (text: string, name: string, labels: Record<string, string>) => {
  const line = text.split('\n').find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
};

it('exposes request counts and latencies by route and status, deployments by status, and open interruptions', async () => {
  const done = await stack.call('POST', '/api/deployments', { as: 'ci', body: { project: 'hello-service', environment: 'qa', release: uniqueRelease() } });
  const waiting = await stack.call('POST', '/api/deployments', { as: 'ci', body: { project: 'hello-service', environment: 'production', release: uniqueRelease() } });
  await stack.call('POST', '/api/deployments', { as: 'vic', body: { project: 'hello-service', environment: 'qa', release: '1.0.0' } });
  await waitFor(stack, done.body.id, (view) => view.status === 'Succeeded');
  await waitFor(stack, waiting.body.id, (view) => view.status === 'Waiting');

  // Visibility catches up with the search attributes within a moment.
  let text = '';
  for (let i = 0; i < 50; i++) {
    const response = await stack.app.request('/metrics');
    expect(response.status).toBe(200);
    text = await response.text();
    if (sample(text, 'interlock_deployments', { status: 'Succeeded' }) === 1 && sample(text, 'interlock_open_interruptions', {}) === 1) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
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
