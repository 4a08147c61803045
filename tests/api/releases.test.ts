import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { searchAttributes } from '../../workflows/messages.js';
import { lifecycleConfig, seedShipyard } from '../support/fixtures.js';

const { keptnContext: keptnContextKey, stage: stageKey, sequence: sequenceKey } = searchAttributes;
import { tokens, uniqueRelease, useStack, type Who } from '../support/stack.js';

/**
 * A small CloudEvents receiver standing in for Keptn's job executor: it gets every
 * `sh.keptn.event.je-*.triggered` event, and answers each at once with `.started` and then
 * `.finished`, posted back to the Keptn event API with an `x-token`, as the job executor does.
 */
const received: { type: string; id: string; shkeptncontext?: string; data: Record<string, unknown> }[] = [];
let answer: (event: (typeof received)[number]) => void = () => undefined;
const receiver: Server = createServer((request, response) => {
  let body = '';
  request.on('data', (chunk) => (body += chunk));
  request.on('end', () => {
    const event = JSON.parse(body);
    received.push(event);
    response.writeHead(200).end();
    if (/^sh\.keptn\.event\.je-[a-z-]+\.triggered$/.test(event.type)) answer(event);
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`;

/** The seed's shipyard (docs/keptn.md) as written, with je-deployment and je-test done by the receiver above, answering as je-bot. */
const SEED = `
shipyard:
${seedShipyard().replace('properties: { pass: "manual", warning: "manual" }', 'properties: { pass: "manual", warning: "manual", responsibleTeams: [release-managers] }')}
tasks:
  je-deployment: { type: external, executors: [je-bot] }
  je-test: { type: external, executors: [je-bot] }
`;
const config = lifecycleConfig(SEED, `
  - id: plain
    name: Plain
    environments: [production]
    process:
      - { name: Deploy, type: script, run: 'echo plain' }
notifications:
  channels:
    - id: job-executor
      webhook: { url: '${receiverUrl}', format: cloudevents }
  subscriptions:
    - events: ['sh.keptn.event.je-deployment.triggered', 'sh.keptn.event.je-test.triggered']
      channels: [job-executor]
`);
const stack = useStack(config);

/** The executor's answers that the API refused: a task must be known before its executor hears of it. */
const refused: string[] = [];
afterEach(() => {
  expect(refused.splice(0)).toEqual([]);
});
answer = (event) => {
  const reply = (kind: 'started' | 'finished', data: Record<string, unknown>) =>
    stack.call('POST', '/api/v1/event', {
      as: null,
      headers: { 'x-token': tokens['je-bot'] },
      body: { type: event.type.replace('.triggered', `.${kind}`), source: 'job-executor', shkeptncontext: event.shkeptncontext, triggeredid: event.id, data },
    }).then((response) => {
      if (response.status !== 202) refused.push(`${kind} ${event.type}: ${response.status} ${JSON.stringify(response.body)}`);
    });
  const scope = { project: event.data.project, stage: event.data.stage, service: event.data.service };
  void reply('started', { ...scope, status: 'succeeded' }).then(() => reply('finished', { ...scope, status: 'succeeded', result: 'pass', message: `ran ${event.type}` }));
};

/** Polls a release until `done` holds. */
async function releaseUntil(idOrContext: string, done: (view: any) => boolean, timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await stack.call('GET', `/api/releases/${idOrContext}`);
    if (status === 200 && done(body)) return body;
    if (Date.now() > deadline) throw new Error(`release ${idOrContext} did not get there; last: ${JSON.stringify(body).slice(0, 800)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const sequence = (view: any, stage: string) => view.stages.find((s: any) => s.name === stage).sequences[0];

const triggerDelivery = (version: string, as: Who | null = null, extra: Record<string, unknown> = {}) =>
  stack.call('POST', '/api/v1/event', {
    as,
    headers: as ? {} : { 'x-token': tokens.ci },
    body: {
      type: 'sh.keptn.event.qa.delivery.triggered',
      specversion: '1.0',
      source: 'https://github.com/keptn/keptn/cli#configuration-change',
      data: { project: 'helloservice', stage: 'qa', service: 'helloservice', configurationChange: { values: { image: `ghcr.io/podtato-head/helloservice:${version}` } } },
      ...extra,
    },
  });

/** A release delivered to qa and waiting at production's approval. */
async function waitingInProduction() {
  const version = uniqueRelease();
  const triggered = await triggerDelivery(version);
  expect(triggered.status).toBe(202);
  const { keptnContext } = triggered.body;
  const view = await releaseUntil(keptnContext, (v) => v.status === 'Waiting');
  const production = (await stack.call('GET', `/api/deployments/${sequence(view, 'production').deploymentId}`)).body;
  const approval = production.interruptions[0];
  return { version, keptnContext, view, production, approval };
}

const approvalFinished = (keptnContext: string, triggeredid: string, result: 'pass' | 'fail', as: Who = 'jjones') =>
  stack.call('POST', '/api/v1/event', {
    as,
    body: { type: 'sh.keptn.event.approval.finished', shkeptncontext: keptnContext, triggeredid, data: { result, status: 'succeeded', message: `${result} from the Keptn API` } },
  });

describe('the seed shipyard through Keptn\'s event API (docs/keptn.md)', () => {
  it('delivers to qa by the receiver, promotes to production by itself, waits for approval, and runs je-deployment there only once approved', async () => {
    const { version, keptnContext, view, production, approval } = await waitingInProduction();
    expect(view).toMatchObject({ project: 'helloservice', release: version, keptnContext, status: 'Waiting' });
    expect(sequence(view, 'qa')).toMatchObject({ status: 'Succeeded', result: 'pass' });
    expect(sequence(view, 'production')).toMatchObject({ status: 'Waiting', result: null });
    expect(production).toMatchObject({ stage: 'production', sequence: 'delivery', releaseId: view.id, keptnContext });
    expect(approval).toMatchObject({ kind: 'Approval', state: 'Pending', step: 'approval', responsibleTeams: ['release-managers'] });
    // It is listed where people look for what waits for them, with its deployment.
    const listed = (await stack.call('GET', '/api/interruptions?actionable=true', { as: 'mlee' })).body.interruptions.find((i: any) => i.id === approval.id);
    expect(listed).toMatchObject({ kind: 'Approval', deployment: { id: production.id, project: 'helloservice', environment: 'production', release: version } });
    // What the receiver was sent: qa's two tasks, and production's je-deployment not yet.
    const sent = received.filter((event) => event.shkeptncontext === keptnContext).map((event) => event.type);
    expect(sent).toEqual(['sh.keptn.event.je-deployment.triggered', 'sh.keptn.event.je-test.triggered']);

    // A viewer is refused (the same rules as take-responsibility), nothing changes.
    const refused = await approvalFinished(keptnContext, approval.id, 'pass', 'vic');
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('NOT_IN_TEAM');

    const approved = await approvalFinished(keptnContext, approval.id, 'pass');
    expect(approved.status).toBe(202);
    expect(approved.body).toEqual({ keptnContext });
    const done = await releaseUntil(keptnContext, (v) => v.finishedAt !== null);
    expect(done.status).toBe('Succeeded');
    const deployed = (await stack.call('GET', `/api/deployments/${production.id}`)).body;
    expect(deployed.steps.map((s: any) => [s.name, s.status, s.result])).toEqual([['approval', 'Succeeded', 'pass'], ['je-deployment', 'Succeeded', 'pass']]);
    expect(deployed.interruptions[0]).toMatchObject({ state: 'Proceeded', assignee: { username: 'jjones' }, notes: 'pass from the Keptn API' });
    expect(deployed.steps[1].log).toContain('finished from job-executor (posted by je-bot): result pass, status succeeded — ran sh.keptn.event.je-deployment.triggered');

    // Asked twice: already decided (and by now the deployment has finished: docs/manual-steps.md).
    const again = await approvalFinished(keptnContext, approval.id, 'pass');
    expect(again.status).toBe(409);
    expect(['ALREADY_DECIDED', 'NOT_WAITING']).toContain(again.body.code);
  });

  it('a decline through approval.finished runs nothing further', async () => {
    const { keptnContext, production, approval } = await waitingInProduction();
    expect((await approvalFinished(keptnContext, approval.id, 'fail', 'mlee')).status).toBe(202);
    const done = await releaseUntil(keptnContext, (v) => v.finishedAt !== null);
    expect(done.status).toBe('Aborted');
    const declined = (await stack.call('GET', `/api/deployments/${production.id}`)).body;
    expect(declined.steps.map((s: any) => s.status)).toEqual(['Aborted', 'Skipped']);
    expect(received.filter((event) => event.shkeptncontext === keptnContext && event.data.stage === 'production')).toEqual([]);
  });

  it('lists the release\'s events newest first, by type, a page at a time', async () => {
    const { keptnContext } = await waitingInProduction();
    const { status, body } = await stack.call('GET', `/api/v1/event?keptnContext=${keptnContext}`);
    expect(status).toBe(200);
    const types = body.events.map((event: any) => event.type);
    expect(types[0]).toBe('sh.keptn.event.approval.started');
    expect(types.at(-1)).toBe('sh.keptn.event.qa.delivery.triggered');
    expect(types).toContain('sh.keptn.event.je-test.finished');
    // The executor's events are kept as posted, triggeredid at the top level, marked with who posted them.
    const finished = body.events.find((event: any) => event.type === 'sh.keptn.event.je-test.finished');
    expect(finished).toMatchObject({ source: 'job-executor', shkeptncontext: keptnContext, triggeredid: expect.any(String), interlockpostedby: 'je-bot' });

    const started = await stack.call('GET', `/api/v1/event?keptnContext=${keptnContext}&type=sh.keptn.event.approval.started`);
    expect(started.body.events).toHaveLength(1);
    expect(started.body.events[0].data.message).toBe("Approval strategy for result 'pass': manual");

    const first = await stack.call('GET', `/api/v1/event?keptnContext=${keptnContext}&pageSize=3`);
    expect(first.body.events).toHaveLength(3);
    const second = await stack.call('GET', `/api/v1/event?keptnContext=${keptnContext}&pageSize=3&pageToken=${first.body.nextPageToken}`);
    expect(second.body.events[0].id).toBe(body.events[3].id);
    expect((await stack.call('GET', `/api/v1/event?keptnContext=${keptnContext}&pageToken=forged.token`)).status).toBe(400);
  });

  it('takes the release from data.labels.release, else the image tag, else the event id; a context used before names its release', async () => {
    const labelled = await triggerDelivery('ignored', null, { data: { project: 'helloservice', stage: 'qa', service: 'helloservice', labels: { release: '7.7.7-label' } } });
    expect((await releaseUntil(labelled.body.keptnContext, () => true)).release).toBe('7.7.7-label');
    const id = randomUUID();
    const byId = await triggerDelivery('ignored', null, { id, data: { project: 'helloservice', stage: 'qa' } });
    expect((await releaseUntil(byId.body.keptnContext, () => true)).release).toBe(id);
    const context = randomUUID();
    expect((await triggerDelivery('1.2.3', null, { shkeptncontext: context })).body).toEqual({ keptnContext: context });
    // The same project and release again: the idempotent answer; another release: refused.
    const twice = await triggerDelivery('1.2.3', null, { shkeptncontext: context });
    expect(twice.status).toBe(202);
    expect(twice.body).toEqual({ keptnContext: context });
    const other = await triggerDelivery('1.2.4', null, { shkeptncontext: context });
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('CONTEXT_IN_USE');
  });

  it('answers bad events with 400 naming the field, unknown ones with 404, and needs a token', async () => {
    expect((await stack.call('POST', '/api/v1/event', { as: null, body: { type: 'sh.keptn.event.qa.delivery.triggered' } })).status).toBe(401);
    const unknownType = await stack.call('POST', '/api/v1/event', { body: { type: 'sh.keptn.event.get-sli' } });
    expect(unknownType.status).toBe(400);
    expect(unknownType.body.errors[0].name).toBe('body.type');
    const noProject = await stack.call('POST', '/api/v1/event', { body: { type: 'sh.keptn.event.qa.delivery.triggered', data: {} } });
    expect(noProject.body.errors).toEqual([{ name: 'body.data.project', reason: expect.any(String) }]);
    const noKeys = await stack.call('POST', '/api/v1/event', { body: { type: 'sh.keptn.event.approval.finished', data: { result: 'pass' } } });
    expect(noKeys.body.errors.map((e: any) => e.name)).toEqual(['body.shkeptncontext', 'body.triggeredid']);
    const noRelease = await stack.call('POST', '/api/v1/event', {
      body: { type: 'sh.keptn.event.approval.finished', shkeptncontext: randomUUID(), triggeredid: randomUUID(), data: { result: 'pass' } },
    });
    expect(noRelease.status).toBe(404);
    expect((await stack.call('POST', '/api/v1/event', { body: { type: 'not-keptn' } })).status).toBe(400);
    const badStage = await stack.call('POST', '/api/v1/event', { body: { type: 'sh.keptn.event.staging.delivery.triggered', data: { project: 'helloservice' } } });
    expect(badStage.status).toBe(400);
    expect(badStage.body.errors[0].name).toBe('body.stage');
    // Events are kept in the release's list and history: a huge one is refused before anything happens.
    const huge = await stack.call('POST', '/api/v1/event', { body: { type: 'sh.keptn.event.qa.delivery.triggered', data: { project: 'helloservice', padding: 'x'.repeat(20_000) } } });
    expect(huge.status).toBe(400);
    expect(huge.body.errors[0].reason).toContain('at most 16 KiB');
  });

  it('reads well in Temporal Web: the release\'s summary, its children with stage and sequence search attributes', async () => {
    const { keptnContext, view, production } = await waitingInProduction();
    const release = await stack.client.workflow.getHandle(view.id).describe();
    expect(await release.staticSummary()).toBe(`Release Hello service ${view.release} from qa.delivery (triggered by ci)`);
    expect(release.typedSearchAttributes.get(keptnContextKey)).toBe(keptnContext);
    const child = await stack.client.workflow.getHandle(production.id).describe();
    expect(child.parentExecution?.workflowId).toBe(view.id);
    expect(await child.staticSummary()).toBe(`production.delivery of Hello service ${view.release} (release ${view.id})`);
    expect(child.typedSearchAttributes.get(stageKey)).toBe('production');
    expect(child.typedSearchAttributes.get(sequenceKey)).toBe('delivery');
    expect(child.typedSearchAttributes.get(keptnContextKey)).toBe(keptnContext);
    // Visibility finds it by those attributes (a moment after they were set).
    let found: (string | null | undefined)[] = [];
    for (let i = 0; i < 50 && found.length === 0; i++) {
      const { executions } = await stack.client.workflowService.listWorkflowExecutions({ namespace: 'default', query: `InterlockKeptnContext = '${keptnContext}' AND InterlockStage = 'production'` });
      found = (executions ?? []).map((e) => e.execution?.workflowId);
      if (found.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(found).toEqual([production.id]);
    await stack.call('POST', `/api/releases/${view.id}/cancel`, { as: 'ci' });
  });
});

describe('the release API', () => {
  it('starts a release (201), reads it by id and by keptnContext, lists it, waits for it, and cancels it', async () => {
    const release = uniqueRelease();
    const created = await stack.call('POST', '/api/releases', { as: 'ci', body: { project: 'helloservice', release } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ project: 'helloservice', release, status: 'Running', triggeredBy: { username: 'ci' } });
    expect(created.body.stages.map((s: any) => s.name)).toEqual(['qa', 'production']);
    expect(created.headers.get('location')).toBe(created.body.links.self);
    const byContext = await releaseUntil(created.body.keptnContext, (v) => v.status === 'Waiting');
    expect(byContext.id).toBe(created.body.id);

    const listed = await stack.call('GET', `/api/releases?project=helloservice&status=Waiting`);
    expect(listed.body.releases.map((r: any) => r.id)).toContain(created.body.id);
    const held = await stack.call('GET', `/api/releases/${created.body.id}/wait?timeout=0`);
    expect(held.status).toBe(202);

    expect((await stack.call('POST', `/api/releases/${created.body.id}/cancel`, { as: 'vic' })).status).toBe(403);
    const cancelled = await stack.call('POST', `/api/releases/${created.body.id}/cancel`, { as: 'ci' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('Cancelled');
    const production = await stack.call('GET', `/api/deployments/${sequence(cancelled.body, 'production').deploymentId}`);
    expect(production.body.status).toBe('Cancelled');
    const finished = await stack.call('GET', `/api/releases/${created.body.id}/wait?timeout=5`);
    expect(finished.status).toBe(200);
    expect((await stack.call('POST', `/api/releases/${created.body.id}/cancel`, { as: 'ci' })).status).toBe(409);
  });

  it('streams the release\'s view as `release` events', async () => {
    const created = await stack.call('POST', '/api/releases', { as: 'ci', body: { project: 'helloservice', release: uniqueRelease() } });
    const response = await stack.app.request(`/api/releases/${created.body.id}/events`, { headers: { Authorization: `Bearer ${tokens.jjones}` } });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('"status":"Waiting"')) text += decoder.decode((await reader.read()).value);
    await reader.cancel();
    expect(text).toMatch(/^event: release$/m);
    await stack.call('POST', `/api/releases/${created.body.id}/cancel`, { as: 'ci' });
  });

  it('refuses what it cannot do, naming why', async () => {
    const plain = await stack.call('POST', '/api/releases', { as: 'ci', body: { project: 'plain', release: '1.0.0' } });
    expect(plain.status).toBe(400);
    expect(plain.body.errors[0]).toMatchObject({ name: 'body.project', reason: expect.stringContaining('not a lifecycle project') });
    const lifecycleDeployment = await stack.call('POST', '/api/deployments', { as: 'ci', body: { project: 'helloservice', environment: 'qa', release: '1.0.0' } });
    expect(lifecycleDeployment.status).toBe(400);
    expect(lifecycleDeployment.body.errors[0].reason).toContain('POST /api/releases');
    const stage = await stack.call('POST', '/api/releases', { as: 'ci', body: { project: 'helloservice', release: '1.0.0', stage: 'staging' } });
    expect(stage.body.errors[0]).toMatchObject({ name: 'body.stage' });
    const sequenceName = await stack.call('POST', '/api/releases', { as: 'ci', body: { project: 'helloservice', release: '1.0.0', sequence: 'rollback' } });
    expect(sequenceName.body.errors[0]).toMatchObject({ name: 'body.sequence' });
    expect((await stack.call('POST', '/api/releases', { as: 'vic', body: { project: 'helloservice', release: '1.0.0' } })).status).toBe(403);
    expect((await stack.call('POST', '/api/releases', { as: 'ci', body: { project: 'nope', release: '1.0.0' } })).status).toBe(404);
    expect((await stack.call('POST', '/api/releases', { as: 'ci', body: { project: 'helloservice', release: 'bad release', extra: 1 } })).body.errors.map((e: any) => e.name).sort()).toEqual(['body', 'body.release']);
    expect((await stack.call('GET', `/api/releases/${randomUUID()}`)).status).toBe(404);
    expect((await stack.call('GET', '/api/releases/helloservice:0.0.0:none')).status).toBe(404);
  });
});
