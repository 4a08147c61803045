import fc from 'fast-check';
import { beforeAll, expect, it } from 'vitest';
import { lifecycleConfig, seedShipyard } from '../support/fixtures.js';
import { type tokens, uniqueRelease, useStack } from '../support/stack.js';

// Keptn's event API and the release routes against ids an attacker picks: Object's own property
// names, random strings, and real ids used where they do not belong. Every answer is a refusal
// with a name (400, 403, 404, 409), never a 500, never a match of an inherited name.

const config = lifecycleConfig(`shipyard:
${seedShipyard()}
tasks:
  je-deployment: { type: script, run: 'echo deploying' }
  je-test: { type: external, executors: [je-bot] }
`);
const stack = useStack(config, { actionTimeoutMs: 3_000 });

const INHERITED = [
  'constructor', '__proto__', 'toString', 'toLocaleString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf',
  'propertyIsEnumerable', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__', 'prototype', 'length',
];

/** Real ids, to be used where they do not belong: a running release at je-test, and a finished one. */
const real = { running: '', finished: '', jeTest: '', jeDeployment: '', finishedJeTest: '', releases: [] as string[] };

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; ; i++) {
    const value = await read();
    if (done(value)) return value;
    if (i > 300) throw new Error(`not there in time: ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function atJeTest() {
  const triggered = await stack.call('POST', '/api/v1/event', {
    as: 'ci',
    body: { type: 'sh.keptn.event.qa.delivery.triggered', data: { project: 'helloservice', labels: { release: uniqueRelease() } } },
  });
  const { keptnContext } = triggered.body;
  const release = await until(() => stack.call('GET', `/api/releases/${keptnContext}`), (r) => r.status === 200 && r.body.stages[0].sequences[0].deploymentId !== null);
  const qa = await until(() => stack.call('GET', `/api/deployments/${release.body.stages[0].sequences[0].deploymentId}`), (r) => r.body.steps?.[1]?.status === 'Running');
  return { keptnContext: keptnContext as string, id: release.body.id as string, jeDeployment: qa.body.steps[0].triggeredId as string, jeTest: qa.body.steps[1].triggeredId as string };
}

beforeAll(async () => {
  const finished = await atJeTest();
  const answer = await stack.call('POST', '/api/v1/event', {
    as: 'je-bot',
    body: { type: 'sh.keptn.event.je-test.finished', shkeptncontext: finished.keptnContext, triggeredid: finished.jeTest, data: { result: 'fail' } },
  });
  expect(answer.status).toBe(202);
  await until(() => stack.client.workflow.getHandle(finished.id).describe(), (d) => d.status.name !== 'RUNNING');
  const running = await atJeTest();
  Object.assign(real, {
    running: running.keptnContext,
    finished: finished.keptnContext,
    jeTest: running.jeTest,
    jeDeployment: running.jeDeployment,
    finishedJeTest: finished.jeTest,
    releases: [running.id, finished.id],
  });
});

const inherited = fc.constantFrom(...INHERITED);
const anyString = fc.oneof(fc.string({ minLength: 1, maxLength: 60 }), fc.stringMatching(/^[A-Za-z0-9_.-]{1,40}$/));
// Real contexts and task types most of the time, so that most requests get past the shape checks.
const context = fc.oneof(
  { arbitrary: fc.constantFrom('running', 'finished').map((which) => real[which as 'running' | 'finished']), weight: 4 },
  { arbitrary: inherited, weight: 2 },
  { arbitrary: anyString, weight: 1 },
);
const triggeredId = fc.oneof(
  { arbitrary: fc.constantFrom('jeTest', 'jeDeployment', 'finishedJeTest').map((which) => real[which as 'jeTest' | 'jeDeployment' | 'finishedJeTest']), weight: 2 },
  { arbitrary: inherited, weight: 2 },
  { arbitrary: anyString, weight: 1 },
);
const type = fc.oneof(
  { arbitrary: fc.constantFrom('sh.keptn.event.je-test.started', 'sh.keptn.event.je-test.finished', 'sh.keptn.event.je-deployment.finished', 'sh.keptn.event.approval.finished'), weight: 6 },
  { arbitrary: fc.constantFrom(...INHERITED).map((name) => `sh.keptn.event.${name.toLowerCase().replace(/_/g, '')}.finished`), weight: 1 },
  { arbitrary: anyString.map((text) => `sh.keptn.event.${text}.finished`), weight: 1 },
);
const data = fc.oneof(
  fc.record({ result: fc.oneof(fc.constantFrom('pass', 'warning', 'fail'), fc.string()), status: fc.oneof(fc.constantFrom('succeeded', 'errored', 'aborted'), inherited) }, { requiredKeys: [] }),
  fc.dictionary(fc.oneof(inherited, fc.string({ maxLength: 10 })), fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.constant(null))),
);
const sender = fc.constantFrom<keyof typeof tokens>('ci', 'jjones', 'vic', 'je-bot', 'admin');

function expectRefusal(what: string, response: { status: number; body: any; headers: Headers }) {
  expect([400, 403, 404, 409], `${what} → ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`).toContain(response.status);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  expect(response.body.detail.length).toBeGreaterThan(0);
}

it('POST /api/v1/event: task events and approvals naming inherited, random or misplaced ids are refused by name, never a 500 or a match', async () => {
  await fc.assert(
    fc.asyncProperty(type, context, triggeredId, data, sender, async (eventType, shkeptncontext, triggeredid, eventData, as) => {
      // The one combination that is a real answer: the executor's, for the running task.
      fc.pre(!(['je-bot', 'admin'].includes(as) && shkeptncontext === real.running && triggeredid === real.jeTest && eventType.startsWith('sh.keptn.event.je-test.')));
      const body = { type: eventType, source: 'fuzz', shkeptncontext, triggeredid, data: eventData };
      expectRefusal(`${as}: ${JSON.stringify(body)}`, await stack.call('POST', '/api/v1/event', { as, body }));
    }),
    { numRuns: 300 },
  );
  // Nothing the fuzzing sent reached the running task.
  const running = await stack.call('GET', `/api/releases/${real.running}`);
  const qa = await stack.call('GET', `/api/deployments/${running.body.stages[0].sequences[0].deploymentId}`);
  expect(qa.body.steps[1].status).toBe('Running');
});

it('GET /api/v1/event and GET /api/releases/{id} with inherited or random ids: 400 or 404, never a 500', async () => {
  const id = fc.oneof(inherited, anyString, inherited.map((name) => `helloservice:${name}:x`), fc.constantFrom(...INHERITED.map((name) => `${real.releases[0]}${name}`)));
  await fc.assert(
    fc.asyncProperty(id, fc.constantFrom<keyof typeof tokens>('vic', 'ci'), async (value, as) => {
      const encoded = encodeURIComponent(value);
      expectRefusal(`GET events ${value}`, await stack.call('GET', `/api/v1/event?keptnContext=${encoded}`, { as }));
      expectRefusal(`GET release ${value}`, await stack.call('GET', `/api/releases/${encoded}`, { as }));
    }),
    { numRuns: 200 },
  );
  // The real ones still answer.
  for (const context of [real.running, real.finished]) expect((await stack.call('GET', `/api/v1/event?keptnContext=${context}`)).status).toBe(200);
});
