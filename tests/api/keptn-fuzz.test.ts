import fc from 'fast-check';
import { beforeAll, expect, it } from 'vitest';
import { type Answer, ok, problem, type tokens } from '../support/api.js';
import { lifecycleConfig, seedShipyard } from '../support/fixtures.js';
import { until } from '../support/poll.js';
import { uniqueRelease, useStack, waitFor, waitForRelease } from '../support/stack.js';

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

async function atJeTest() {
  const { keptnContext } = await ok(stack.api('ci').api.v1.event.$post({
    json: { type: 'sh.keptn.event.qa.delivery.triggered', data: { project: 'helloservice', labels: { release: uniqueRelease() } } },
  }), 202);
  const release = await waitForRelease(stack, keptnContext, (r) => r.stages[0]?.sequences[0]?.deploymentId !== null);
  const qa = await waitFor(stack, release.stages[0]!.sequences[0]!.deploymentId!, (view) => view.steps[1]?.status === 'Running');
  return { keptnContext, id: release.id, jeDeployment: qa.steps[0]!.triggeredId!, jeTest: qa.steps[1]!.triggeredId! };
}

beforeAll(async () => {
  const finished = await atJeTest();
  await ok(stack.api('je-bot').api.v1.event.$post({
    json: { type: 'sh.keptn.event.je-test.finished', shkeptncontext: finished.keptnContext, triggeredid: finished.jeTest, data: { result: 'fail' } },
  }), 202);
  await until(() => stack.client.workflow.getHandle(finished.id).describe(), (d) => d.status.name !== 'RUNNING', 'the finished release to close');
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

/** A refusal with a name: 400, 403, 404 or 409, a problem that says why. */
async function expectRefusal(what: string, response: Answer | Promise<Answer>) {
  const answer = await response;
  expect([400, 403, 404, 409], `${what} → ${answer.status}`).toContain(answer.status);
  expect((await problem(answer, answer.status)).detail.length).toBeGreaterThan(0);
}

it('POST /api/v1/event: task events and approvals naming inherited, random or misplaced ids are refused by name, never a 500 or a match', async () => {
  await fc.assert(
    fc.asyncProperty(type, context, triggeredId, data, sender, async (eventType, shkeptncontext, triggeredid, eventData, as) => {
      // The one combination that is a real answer: the executor's, for the running task.
      fc.pre(!(['je-bot', 'admin'].includes(as) && shkeptncontext === real.running && triggeredid === real.jeTest && eventType.startsWith('sh.keptn.event.je-test.')));
      const json = { type: eventType, source: 'fuzz', shkeptncontext, triggeredid, data: eventData };
      await expectRefusal(`${as}: ${JSON.stringify(json)}`, stack.api(as).api.v1.event.$post({ json }));
    }),
    { numRuns: 300 },
  );
  // Nothing the fuzzing sent reached the running task.
  const running = await ok(stack.api().api.releases[':id'].$get({ param: { id: real.running } }));
  const qa = await ok(stack.api().api.deployments[':id'].$get({ param: { id: running.stages[0]!.sequences[0]!.deploymentId! } }));
  expect(qa.steps[1]!.status).toBe('Running');
});

it('GET /api/v1/event and GET /api/releases/{id} with inherited or random ids: 400 or 404, never a 500', async () => {
  const id = fc.oneof(inherited, anyString, inherited.map((name) => `helloservice:${name}:x`), fc.constantFrom(...INHERITED.map((name) => `${real.releases[0]}${name}`)));
  await fc.assert(
    fc.asyncProperty(id, fc.constantFrom<keyof typeof tokens>('vic', 'ci'), async (value, as) => {
      // Ids no client would pick: raw requests.
      const encoded = encodeURIComponent(value);
      await expectRefusal(`GET events ${value}`, stack.send('GET', `/api/v1/event?keptnContext=${encoded}`, { as }));
      await expectRefusal(`GET release ${value}`, stack.send('GET', `/api/releases/${encoded}`, { as }));
    }),
    { numRuns: 200 },
  );
  // The real ones still answer.
  for (const keptnContext of [real.running, real.finished]) await ok(stack.api().api.v1.event.$get({ query: { keptnContext } }));
});
