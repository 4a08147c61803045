import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { CloudEvent } from '../../core/cloud-events.js';
import { searchAttributes } from '../../workflows/messages.js';
import { ok, problem, type Release, tokens, type Who } from '../support/api.js';
import { lifecycleConfig, seedShipyard } from '../support/fixtures.js';
import { until } from '../support/poll.js';
import { startWebhookReceiver } from '../support/receivers.js';
import { uniqueRelease, useStack, waitForRelease } from '../support/stack.js';

const { keptnContext: keptnContextKey, stage: stageKey, sequence: sequenceKey } = searchAttributes;

/**
 * A small CloudEvents receiver standing in for Keptn's job executor: it gets every
 * `sh.keptn.event.je-*.triggered` event, and answers each at once with `.started` and then
 * `.finished`, posted back to the Keptn event API with an `x-token`, as the job executor does.
 */
let answer: (event: CloudEvent) => void = () => undefined;
const receiver = await startWebhookReceiver(({ event }) => {
  if (event && /^sh\.keptn\.event\.je-[a-z-]+\.triggered$/.test(event.type)) setImmediate(() => answer(event));
  return 200;
});
afterAll(() => receiver.close());
const received = () => receiver.deliveries.flatMap(({ event }) => (event ? [event] : []));

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
      webhook: { url: '${receiver.url}', format: cloudevents }
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
  const reply = async (kind: 'started' | 'finished', data: Record<string, unknown>) => {
    const response = await stack.api(null, { 'x-token': tokens['je-bot'] }).api.v1.event.$post({
      json: { type: event.type.replace('.triggered', `.${kind}`), source: 'job-executor', shkeptncontext: event.shkeptncontext, triggeredid: event.id, data },
    });
    if (response.status !== 202) refused.push(`${kind} ${event.type}: ${response.status} ${await response.text()}`);
  };
  const scope = { project: event.data.project, stage: event.data.stage, service: event.data.service };
  void reply('started', { ...scope, status: 'succeeded' }).then(() => reply('finished', { ...scope, status: 'succeeded', result: 'pass', message: `ran ${event.type}` }));
};

const start = (json: Parameters<ReturnType<typeof stack.api>['api']['releases']['$post']>[0]['json'], as: Who = 'ci') => stack.api(as).api.releases.$post({ json });
const cancel = (id: string, as: Who = 'ci') => stack.api(as).api.releases[':id'].cancel.$post({ param: { id } });
const sequence = (view: Release, stage: string) => view.stages.find((s) => s.name === stage)!.sequences[0]!;
const deployment = (id: string) => ok(stack.api().api.deployments[':id'].$get({ param: { id } }));
const keptnEvents = (query: { keptnContext: string; type?: string; pageSize?: number; pageToken?: string }) => stack.api().api.v1.event.$get({ query });
/** A Keptn event, posted by `as` with a bearer token, or with ci's token as `x-token` when `as` is null. */
const postEvent = (json: Parameters<ReturnType<typeof stack.api>['api']['v1']['event']['$post']>[0]['json'], as: Who | null = 'jjones') =>
  stack.api(as, as ? {} : { 'x-token': tokens.ci }).api.v1.event.$post({ json });

const triggerDelivery = (version: string, as: Who | null = null, extra: Record<string, unknown> = {}) =>
  postEvent({
    type: 'sh.keptn.event.qa.delivery.triggered',
    specversion: '1.0',
    source: 'https://github.com/keptn/keptn/cli#configuration-change',
    data: { project: 'helloservice', stage: 'qa', service: 'helloservice', configurationChange: { values: { image: `ghcr.io/podtato-head/helloservice:${version}` } } },
    ...extra,
  }, as);

/** A release delivered to qa and waiting at production's approval. */
async function waitingInProduction() {
  const version = uniqueRelease();
  const { keptnContext } = await ok(triggerDelivery(version), 202);
  const view = await waitForRelease(stack, keptnContext, (v) => v.status === 'Waiting');
  const production = await deployment(sequence(view, 'production').deploymentId!);
  const approval = production.interruptions[0]!;
  return { version, keptnContext, view, production, approval };
}

const approvalFinished = (keptnContext: string, triggeredid: string, result: 'pass' | 'fail', as: Who = 'jjones') =>
  postEvent({ type: 'sh.keptn.event.approval.finished', shkeptncontext: keptnContext, triggeredid, data: { result, status: 'succeeded', message: `${result} from the Keptn API` } }, as);

describe('the seed shipyard through Keptn\'s event API (docs/keptn.md)', () => {
  it('delivers to qa by the receiver, promotes to production by itself, waits for approval, and runs je-deployment there only once approved', async () => {
    const { version, keptnContext, view, production, approval } = await waitingInProduction();
    expect(view).toMatchObject({ project: 'helloservice', release: version, keptnContext, status: 'Waiting' });
    expect(sequence(view, 'qa')).toMatchObject({ status: 'Succeeded', result: 'pass' });
    expect(sequence(view, 'production')).toMatchObject({ status: 'Waiting', result: null });
    expect(production).toMatchObject({ stage: 'production', sequence: 'delivery', releaseId: view.id, keptnContext });
    expect(approval).toMatchObject({ kind: 'Approval', state: 'Pending', step: 'approval', responsibleTeams: ['release-managers'] });
    // It is listed where people look for what waits for them, with its deployment.
    const listed = (await ok(stack.api('mlee').api.interruptions.$get({ query: { actionable: 'true' } }))).interruptions.find((i) => i.id === approval.id);
    expect(listed).toMatchObject({ kind: 'Approval', deployment: { id: production.id, project: 'helloservice', environment: 'production', release: version } });
    // What the receiver was sent: qa's two tasks, and production's je-deployment not yet.
    const sent = received().filter((event) => event.shkeptncontext === keptnContext).map((event) => event.type);
    expect(sent).toEqual(['sh.keptn.event.je-deployment.triggered', 'sh.keptn.event.je-test.triggered']);

    // A viewer is refused (the same rules as take-responsibility), nothing changes.
    const refused = await problem(approvalFinished(keptnContext, approval.id, 'pass', 'vic'), 403);
    expect(refused.code).toBe('NOT_IN_TEAM');

    const approved = await ok(approvalFinished(keptnContext, approval.id, 'pass'), 202);
    expect(approved).toEqual({ keptnContext });
    const done = await waitForRelease(stack, keptnContext, (v) => v.finishedAt !== null);
    expect(done.status).toBe('Succeeded');
    const deployed = await deployment(production.id);
    expect(deployed.steps.map((s) => [s.name, s.status, s.result])).toEqual([['approval', 'Succeeded', 'pass'], ['je-deployment', 'Succeeded', 'pass']]);
    expect(deployed.interruptions[0]).toMatchObject({ state: 'Proceeded', assignee: { username: 'jjones' }, notes: 'pass from the Keptn API' });
    expect(deployed.steps[1]!.log).toContain('finished from job-executor (posted by je-bot): result pass, status succeeded — ran sh.keptn.event.je-deployment.triggered');

    // Asked twice: already decided (and by now the deployment has finished: docs/manual-steps.md).
    const again = await problem(approvalFinished(keptnContext, approval.id, 'pass'), 409);
    expect(['ALREADY_DECIDED', 'NOT_WAITING']).toContain(again.code);
  });

  it('the next release\'s production approval shows its release notes and the one approved before it (docs/change-control.md#the-context-to-decide)', async () => {
    const before = await waitingInProduction();
    await ok(approvalFinished(before.keptnContext, before.approval.id, 'pass'), 202);
    expect((await waitForRelease(stack, before.keptnContext, (v) => v.finishedAt !== null)).status).toBe('Succeeded');

    const version = uniqueRelease();
    const releaseNotes = 'Podtato head gets a **new hat**.';
    const started = await ok(start({ project: 'helloservice', release: version, releaseNotes }), 201);
    const view = await waitForRelease(stack, started.keptnContext, (v) => v.status === 'Waiting');
    const production = await deployment(sequence(view, 'production').deploymentId!);
    expect(production.interruptions[0]!.context).toMatchObject({
      releaseNotes,
      previous: { deploymentId: before.production.id, release: before.version, approvedBy: [expect.objectContaining({ username: 'jjones', step: 'approval' })] },
      remaining: { rules: [], mayApprove: expect.arrayContaining(['jjones', 'mlee']) },
    });
    await ok(cancel(started.id), 200);
  });

  it('a decline through approval.finished runs nothing further', async () => {
    const { keptnContext, production, approval } = await waitingInProduction();
    await ok(approvalFinished(keptnContext, approval.id, 'fail', 'mlee'), 202);
    const done = await waitForRelease(stack, keptnContext, (v) => v.finishedAt !== null);
    expect(done.status).toBe('Aborted');
    const declined = await deployment(production.id);
    expect(declined.steps.map((s) => s.status)).toEqual(['Aborted', 'Skipped']);
    expect(received().filter((event) => event.shkeptncontext === keptnContext && event.data.stage === 'production')).toEqual([]);
  });

  it('lists the release\'s events newest first, by type, a page at a time', async () => {
    const { keptnContext } = await waitingInProduction();
    // The release says Waiting once its deployment does; the approval's .started reaches the
    // release's event list by a signal of its own, a moment later.
    const { events } = await until(
      async () => ok(keptnEvents({ keptnContext })),
      (answer) => answer.events.some((event) => event.type === 'sh.keptn.event.approval.started'),
      'the release to have heard the approval start',
    );
    const types = events.map((event) => event.type);
    expect(types[0]).toBe('sh.keptn.event.approval.started');
    expect(types.at(-1)).toBe('sh.keptn.event.qa.delivery.triggered');
    expect(types).toContain('sh.keptn.event.je-test.finished');
    // The executor's events are kept as posted, triggeredid at the top level, marked with who posted them.
    const finished = events.find((event) => event.type === 'sh.keptn.event.je-test.finished');
    expect(finished).toMatchObject({ source: 'job-executor', shkeptncontext: keptnContext, triggeredid: expect.any(String), interlockpostedby: 'je-bot' });

    const started = await ok(keptnEvents({ keptnContext, type: 'sh.keptn.event.approval.started' }));
    expect(started.events).toHaveLength(1);
    expect(started.events[0]?.data).toMatchObject({ message: "Approval strategy for result 'pass': manual" });

    const first = await ok(keptnEvents({ keptnContext, pageSize: 3 }));
    expect(first.events).toHaveLength(3);
    const second = await ok(keptnEvents({ keptnContext, pageSize: 3, pageToken: first.nextPageToken! }));
    expect(second.events[0]?.id).toBe(events[3]?.id);
    await problem(keptnEvents({ keptnContext, pageToken: 'forged.token' }), 400);
  });

  it('takes the release from data.labels.release, else the image tag, else the event id; a context used before names its release', async () => {
    const labelled = await ok(triggerDelivery('ignored', null, { data: { project: 'helloservice', stage: 'qa', service: 'helloservice', labels: { release: '7.7.7-label' } } }), 202);
    expect((await waitForRelease(stack, labelled.keptnContext, () => true)).release).toBe('7.7.7-label');
    const id = randomUUID();
    const byId = await ok(triggerDelivery('ignored', null, { id, data: { project: 'helloservice', stage: 'qa' } }), 202);
    expect((await waitForRelease(stack, byId.keptnContext, () => true)).release).toBe(id);
    const context = randomUUID();
    expect(await ok(triggerDelivery('1.2.3', null, { shkeptncontext: context }), 202)).toEqual({ keptnContext: context });
    // The same project and release again: the idempotent answer; another release: refused.
    expect(await ok(triggerDelivery('1.2.3', null, { shkeptncontext: context }), 202)).toEqual({ keptnContext: context });
    const other = await problem(triggerDelivery('1.2.4', null, { shkeptncontext: context }), 409);
    expect(other.code).toBe('CONTEXT_IN_USE');
  });

  it('answers bad events with 400 naming the field, unknown ones with 404, and needs a token', async () => {
    await problem(stack.api(null).api.v1.event.$post({ json: { type: 'sh.keptn.event.qa.delivery.triggered' } }), 401);
    const unknownType = await problem(postEvent({ type: 'sh.keptn.event.get-sli' }), 400);
    expect(unknownType.errors?.[0]?.name).toBe('body.type');
    const noProject = await problem(postEvent({ type: 'sh.keptn.event.qa.delivery.triggered', data: {} }), 400);
    expect(noProject.errors).toEqual([{ name: 'body.data.project', reason: expect.any(String) }]);
    const noKeys = await problem(postEvent({ type: 'sh.keptn.event.approval.finished', data: { result: 'pass' } }), 400);
    expect((noKeys.errors ?? []).map((e) => e.name)).toEqual(['body.shkeptncontext', 'body.triggeredid']);
    await problem(postEvent({ type: 'sh.keptn.event.approval.finished', shkeptncontext: randomUUID(), triggeredid: randomUUID(), data: { result: 'pass' } }), 404);
    await problem(postEvent({ type: 'not-keptn' }), 400);
    const badStage = await problem(postEvent({ type: 'sh.keptn.event.staging.delivery.triggered', data: { project: 'helloservice' } }), 400);
    expect(badStage.errors?.[0]?.name).toBe('body.stage');
    // Events are kept in the release's list and history: a huge one is refused before anything happens.
    const huge = await problem(postEvent({ type: 'sh.keptn.event.qa.delivery.triggered', data: { project: 'helloservice', padding: 'x'.repeat(20_000) } }), 400);
    expect(huge.errors?.[0]?.reason).toContain('at most 16 KiB');
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
    const found = async () => {
      const { executions } = await stack.client.workflowService.listWorkflowExecutions({ namespace: 'default', query: `InterlockKeptnContext = '${keptnContext}' AND InterlockStage = 'production'` });
      return (executions ?? []).map((e) => e.execution?.workflowId);
    };
    expect(await until(found, (ids) => ids.length > 0, 'visibility to find the child by its attributes', { timeoutMs: 5_000 })).toEqual([production.id]);
    await cancel(view.id);
  });
});

describe('the release API', () => {
  it('starts a release (201), reads it by id and by keptnContext, lists it, waits for it, and cancels it', async () => {
    const release = uniqueRelease();
    const response = await start({ project: 'helloservice', release });
    const created = await ok(response, 201);
    expect(created).toMatchObject({ project: 'helloservice', release, status: 'Running', triggeredBy: { username: 'ci' } });
    expect(created.stages.map((s) => s.name)).toEqual(['qa', 'production']);
    expect(response.headers.get('location')).toBe(created.links.self);
    const byContext = await waitForRelease(stack, created.keptnContext, (v) => v.status === 'Waiting');
    expect(byContext.id).toBe(created.id);

    const listed = await ok(stack.api().api.releases.$get({ query: { project: 'helloservice', status: 'Waiting' } }));
    expect(listed.releases.map((r) => r.id)).toContain(created.id);
    const wait = (timeout: number) => stack.api().api.releases[':id'].wait.$get({ param: { id: created.id }, query: { timeout } });
    await ok(wait(0), 202);

    await problem(cancel(created.id, 'vic'), 403);
    const cancelled = await ok(cancel(created.id), 200);
    expect(cancelled.status).toBe('Cancelled');
    const production = await deployment(sequence(cancelled, 'production').deploymentId!);
    expect(production.status).toBe('Cancelled');
    await ok(wait(5), 200);
    await problem(cancel(created.id), 409);
  });

  it('streams the release\'s view as `release` events', async () => {
    const { id } = await ok(start({ project: 'helloservice', release: uniqueRelease() }), 201);
    const response = await stack.api('jjones').api.releases[':id'].events.$get({ param: { id } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('"status":"Waiting"')) text += decoder.decode((await reader.read()).value);
    await reader.cancel();
    expect(text).toMatch(/^event: release$/m);
    await cancel(id);
  });

  it('refuses what it cannot do, naming why', async () => {
    const plain = await problem(start({ project: 'plain', release: '1.0.0' }), 400);
    expect(plain.errors?.[0]).toMatchObject({ name: 'body.project', reason: expect.stringContaining('not a lifecycle project') });
    const lifecycleDeployment = await problem(stack.trigger({ project: 'helloservice', environment: 'qa', release: '1.0.0' }), 400);
    expect(lifecycleDeployment.errors?.[0]?.reason).toContain('POST /api/releases');
    const stage = await problem(start({ project: 'helloservice', release: '1.0.0', stage: 'staging' }), 400);
    expect(stage.errors?.[0]).toMatchObject({ name: 'body.stage' });
    const sequenceName = await problem(start({ project: 'helloservice', release: '1.0.0', sequence: 'rollback' }), 400);
    expect(sequenceName.errors?.[0]).toMatchObject({ name: 'body.sequence' });
    await problem(start({ project: 'helloservice', release: '1.0.0' }, 'vic'), 403);
    await problem(start({ project: 'nope', release: '1.0.0' }), 404);
    // A field no client would send: a raw request.
    const extra = await problem(stack.send('POST', '/api/releases', { as: 'ci', body: { project: 'helloservice', release: 'bad release', extra: 1 } }), 400);
    expect((extra.errors ?? []).map((e) => e.name).sort()).toEqual(['body', 'body.release']);
    await problem(stack.api().api.releases[':id'].$get({ param: { id: randomUUID() } }), 404);
    await problem(stack.api().api.releases[':id'].$get({ param: { id: 'helloservice:0.0.0:none' } }), 404);
  });
});
