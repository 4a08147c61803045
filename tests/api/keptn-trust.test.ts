import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../app.js';
import { apiClient, at, type Deployment, ok, problem, type Release, tokens, type Who } from '../support/api.js';
import { lifecycleConfig, seedShipyard } from '../support/fixtures.js';
import { eventually, sleep, until } from '../support/poll.js';
import { startSmtpServer, startWebhookReceiver } from '../support/receivers.js';
import { uniqueRelease, useStack, waitFor, waitForRelease } from '../support/stack.js';

// The Keptn surface as an attacker tries it: a deployer who answers a task that is not theirs, a
// second trigger that takes over a running release's context, a posted event dressed as
// Interlock's own message, ids named after Object's properties, and reads that cost a replay.

const cloudEvents = await startWebhookReceiver();
const chat = await startWebhookReceiver();
const smtp = await startSmtpServer();
afterAll(async () => {
  await Promise.all([cloudEvents.close(), chat.close(), smtp.close()]);
});

const TASKS = `
tasks:
  je-deployment: { type: script, run: 'echo "deploying #{Release} to #{Stage}"' }
  je-test: { type: external, executors: [je-bot, team:sre] }
`;
/**
 * Two projects with the seed's shipyard: qa's je-test is done outside Interlock, by je-bot or the sre
 * team. `helloservice` tells every channel kind about je-test; `quiet` tells nobody, so its
 * deployments' histories hold still while they wait.
 */
const config = lifecycleConfig(
  `shipyard:\n${seedShipyard().replace('properties: { pass: "manual", warning: "manual" }', 'properties: { pass: "manual", warning: "manual", responsibleTeams: [release-managers] }')}${TASKS}`,
  `  - id: quiet
    name: Quiet
    shipyard:
${seedShipyard('      ')}
${TASKS.replace(/^/gm, '    ')}
notifications:
  channels:
    - id: ce-hook
      webhook: { url: '${cloudEvents.url}', format: cloudevents }
    - id: chat
      webhook: { url: '${chat.url}', format: slack }
    - id: mail-team
      email: { to: ['team:release-managers'] }
    - id: mail-responsible
      email: {}
  subscriptions:
    - events: ['sh.keptn.event.je-test.*', 'sh.keptn.event.qa.delivery.triggered']
      projects: [helloservice]
      channels: [ce-hook, chat, mail-team, mail-responsible]
`,
);
const stack = useStack(config, { env: { SMTP_URL: smtp.url } });

/** A Keptn event posted as Keptn's API takes it: the token as `x-token`. */
type PostedEvent = Parameters<ReturnType<typeof stack.api>['api']['v1']['event']['$post']>[0]['json'];
const post = (as: Who, json: PostedEvent) => stack.api(null, { 'x-token': tokens[as] }).api.v1.event.$post({ json });

const trigger = (project: string, release: string, extra: Record<string, unknown> = {}) =>
  post('ci', {
    type: 'sh.keptn.event.qa.delivery.triggered',
    specversion: '1.0',
    source: 'my-ci',
    data: { project, stage: 'qa', service: project, labels: { release } },
    ...extra,
  });

/** A `.started` or `.finished` event of je-test, as an executor would post it. */
const taskEvent = (keptnContext: string, triggeredid: string, kind: 'started' | 'finished', data: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): PostedEvent => ({
  type: `sh.keptn.event.je-test.${kind}`,
  specversion: '1.0',
  source: 'job-executor',
  shkeptncontext: keptnContext,
  triggeredid,
  data: { stage: 'qa', status: 'succeeded', ...(kind === 'finished' ? { result: 'pass' } : {}), ...data },
  ...extra,
});

const release = (idOrContext: string) => ok(stack.api().api.releases[':id'].$get({ param: { id: idOrContext } }));
const deployment = (id: string) => ok(stack.api().api.deployments[':id'].$get({ param: { id } }));
const events = (keptnContext: string, type?: string) =>
  stack.api().api.v1.event.$get({ query: { keptnContext, pageSize: 100, ...(type ? { type } : {}) } });
const eventsOf = (keptnContext: string, type?: string) => ok(events(keptnContext, type)).then((page) => page.events);
const cancel = (id: string) => ok(stack.api('ci').api.releases[':id'].cancel.$post({ param: { id } }), [200, 202]);
const qaOf = (view: Release) => view.stages[0]!.sequences[0]!;
const productionOf = (view: Release) => view.stages[1]!.sequences[0]!;
const jeTest = (view: Deployment) => view.steps.find((step) => step.name === 'je-test');

/** A release of `project` whose qa deployment waits at je-test for its executor. */
async function waitingAtJeTest(project: string, extra: Record<string, unknown> = {}) {
  const version = uniqueRelease();
  const { keptnContext } = await ok(trigger(project, version, extra), 202);
  const view = await waitForRelease(stack, keptnContext, (v) => qaOf(v).deploymentId !== null);
  const qaId = qaOf(view).deploymentId!;
  const qa = await waitFor(stack, qaId, (v) => jeTest(v)?.status === 'Running' && jeTest(v)?.triggeredId !== undefined);
  const triggeredId = jeTest(qa)!.triggeredId!;
  // An executor hears of its task once the release keeps the task's .triggered event (channels are
  // told after the release): the view may show the id a moment before that.
  await until(() => eventsOf(keptnContext), (listed) => listed.some((event) => event.id === triggeredId), 'the release to keep je-test.triggered');
  return { version, keptnContext, releaseId: view.id, qaId, triggeredId, qa };
}

describe('an external task is answered by its executors only', () => {
  it('a deployer\'s forged finished is 403 NOT_EXECUTOR and changes nothing; the executor\'s own fail still decides the task', async () => {
    const { keptnContext, releaseId, qaId, triggeredId, qa } = await waitingAtJeTest('quiet');
    // Who may answer is in the view, for people and executors alike.
    expect(jeTest(qa)).toMatchObject({ type: 'external', executors: ['je-bot', 'team:sre'] });
    const handle = stack.client.workflow.getHandle(qaId);
    const before = (await handle.describe()).historyLength;

    // The CI that triggered, a release manager, each claiming to be the executor as best they can.
    for (const as of ['ci', 'jjones', 'mlee'] as const) {
      const forged = await problem(post(as, taskEvent(keptnContext, triggeredId, 'finished', { result: 'pass' }, { interlockpostedby: 'je-bot', source: 'job-executor' })), 403);
      expect(forged).toMatchObject({ code: 'NOT_EXECUTOR', detail: expect.stringContaining('je-bot, team:sre (and admins)') });
      const started = await problem(post(as, taskEvent(keptnContext, triggeredId, 'started')), 403);
      expect(started.code).toBe('NOT_EXECUTOR');
    }
    // Refused before any update reached the deployment: its history did not grow, its task still waits.
    expect((await handle.describe()).historyLength).toBe(before);
    expect(jeTest(await deployment(qaId))?.status).toBe('Running');
    const kept = (await eventsOf(keptnContext)).map((event) => event.type);
    expect(kept).not.toContain('sh.keptn.event.je-test.finished');
    expect(kept).not.toContain('sh.keptn.event.je-test.started');

    // The executor's own fail decides: qa fails, nothing is promoted.
    const answered = await ok(post('je-bot', taskEvent(keptnContext, triggeredId, 'finished', { result: 'fail', message: 'two tests failed' })), 202);
    expect(answered).toEqual({ keptnContext });
    const done = await waitForRelease(stack, releaseId, (v) => v.finishedAt !== null);
    expect(done.status).toBe('Failed');
    expect(qaOf(done)).toMatchObject({ status: 'Failed', result: 'fail' });
    expect(productionOf(done)).toMatchObject({ deploymentId: null, status: 'Skipped' });
    expect(jeTest(await deployment(qaId))).toMatchObject({ status: 'Failed', result: 'fail', log: expect.stringContaining('finished from job-executor (posted by je-bot): result fail') });

    // Too late for anyone: the executor hears 409, the others still 403.
    await problem(post('je-bot', taskEvent(keptnContext, triggeredId, 'finished')), 409);
    expect((await problem(post('ci', taskEvent(keptnContext, triggeredId, 'finished')), 403)).code).toBe('NOT_EXECUTOR');
  });

  it('a member of an executor team (even a viewer) and an admin may answer', async () => {
    const { keptnContext, releaseId, triggeredId } = await waitingAtJeTest('quiet');
    // vic is a viewer in sre: named through team:sre, that is enough to report on this task.
    await ok(post('vic', taskEvent(keptnContext, triggeredId, 'started')), 202);
    await ok(post('admin', taskEvent(keptnContext, triggeredId, 'finished')), 202);
    const waiting = await waitForRelease(stack, releaseId, (v) => v.status === 'Waiting');
    expect(qaOf(waiting)).toMatchObject({ status: 'Succeeded', result: 'pass' });
    const posted = (await eventsOf(keptnContext)).filter((event) => event.type.startsWith('sh.keptn.event.je-test.') && event.interlockpostedby);
    expect(posted.map((event) => [event.type, event.interlockpostedby])).toEqual([['sh.keptn.event.je-test.finished', 'admin'], ['sh.keptn.event.je-test.started', 'vic']]);
    await cancel(releaseId);
  });
});

describe('one context, one release', () => {
  it('a second trigger with a running release\'s context is 409 CONTEXT_IN_USE; the context keeps naming the first release, whose tasks and approval still answer', async () => {
    const first = await waitingAtJeTest('quiet');
    const hijack = await problem(trigger('quiet', `${first.version}-evil`, { shkeptncontext: first.keptnContext }), 409);
    expect(hijack).toMatchObject({ code: 'CONTEXT_IN_USE', detail: expect.stringContaining(first.releaseId) });
    // Another project with the same context: the same.
    expect((await problem(trigger('helloservice', uniqueRelease(), { shkeptncontext: first.keptnContext }), 409)).code).toBe('CONTEXT_IN_USE');

    // The same project and release again: the idempotent answer, and nothing else starts.
    const again = await ok(trigger('quiet', first.version, { shkeptncontext: first.keptnContext }), 202);
    expect(again).toEqual({ keptnContext: first.keptnContext });

    expect((await release(first.keptnContext)).id).toBe(first.releaseId);
    const listed = await eventsOf(first.keptnContext);
    expect(new Set(listed.map((event) => at(event.data, 'release')))).toEqual(new Set([first.version]));
    // Visibility, once it has caught up, knows one release with this context.
    await sleep(1500);
    const { executions } = await stack.client.workflowService.listWorkflowExecutions({
      namespace: 'default',
      query: `WorkflowType = 'release' AND InterlockKeptnContext = '${first.keptnContext}'`,
    });
    expect((executions ?? []).map((execution) => execution.execution?.workflowId)).toEqual([first.releaseId]);

    // The real executor and the real approver still reach the first release.
    await ok(post('je-bot', taskEvent(first.keptnContext, first.triggeredId, 'finished')), 202);
    const waiting = await waitForRelease(stack, first.keptnContext, (v) => v.status === 'Waiting' && productionOf(v).deploymentId !== null);
    const production = await waitFor(stack, productionOf(waiting).deploymentId!, (v) => v.interruptions.length > 0);
    await ok(post('jjones', {
      type: 'sh.keptn.event.approval.finished',
      shkeptncontext: first.keptnContext,
      triggeredid: production.interruptions[0]!.id,
      data: { result: 'pass', status: 'succeeded' },
    }), 202);
    expect((await waitForRelease(stack, first.keptnContext, (v) => v.finishedAt !== null)).status).toBe('Succeeded');
  });

  it('triggers racing with one new context: one release starts; the others are refused, or told it is theirs when they ask for the same', async () => {
    const context = randomUUID();
    const base = uniqueRelease();
    const racing = await Promise.all([1, 2, 3, 4, 5].map((n) => trigger('quiet', `${base}-${n}`, { shkeptncontext: context })));
    expect(racing.map((answer) => answer.status).sort()).toEqual([202, 409, 409, 409, 409]);
    const winner = racing.findIndex((answer) => answer.status === 202) + 1;
    const refusals = await Promise.all(racing.filter((answer) => answer.status !== 202).map((answer) => problem(answer, 409)));
    expect(refusals.map((refusal) => refusal.code)).toEqual(Array(4).fill('CONTEXT_IN_USE'));
    expect((await release(context)).release).toBe(`${base}-${winner}`);

    const twinContext = randomUUID();
    const twins = await Promise.all([1, 2, 3, 4].map(() => trigger('quiet', `${base}-twin`, { shkeptncontext: twinContext })));
    expect(await Promise.all(twins.map((answer) => ok(answer, 202)))).toEqual(Array(4).fill({ keptnContext: twinContext }));

    await sleep(1500);
    for (const [keptnContext, expected] of [[context, 1], [twinContext, 1]] as const) {
      const { executions } = await stack.client.workflowService.listWorkflowExecutions({
        namespace: 'default',
        query: `WorkflowType = 'release' AND InterlockKeptnContext = '${keptnContext}'`,
      });
      expect(executions ?? []).toHaveLength(expected);
      await cancel(keptnContext);
    }
  });

  it('a context names its release at once in another API process too, with no wait for visibility', async () => {
    // A second API process of the same Interlock: nothing it knows, but what Temporal knows.
    const other = createApp({ temporal: { client: stack.client, taskQueue: stack.taskQueue }, config, limits: { actionsPerMinute: 100_000, triggersPerMinute: 100_000 } });
    const read = (id: string) => apiClient('http://localhost', 'vic', { fetch: (input, init) => other.request(input, init) }).api.releases[':id'].$get({ param: { id } });
    const byEvent = await ok(trigger('quiet', uniqueRelease()), 202);
    const byApi = await ok(stack.api('ci').api.releases.$post({ json: { project: 'quiet', release: uniqueRelease() } }), 201);
    for (const keptnContext of [byEvent.keptnContext, byApi.keptnContext]) {
      const started = Date.now();
      expect((await ok(read(keptnContext))).keptnContext).toBe(keptnContext);
      expect(Date.now() - started).toBeLessThan(1_000);
      // And a context nobody used is 404 at once, not after retries.
      const unknown = Date.now();
      await problem(read(randomUUID()), 404);
      expect(Date.now() - unknown).toBeLessThan(1_000);
      await cancel(keptnContext);
    }
  });
});

describe('nothing a caller posts reaches a person as Interlock\'s words', () => {
  it('a posted event with forged links, a made-up interruption and a chosen id goes to CloudEvents webhooks only, as the poster\'s, and never into email or chat', async () => {
    const chosenTrigger = `chosen-trigger-${randomUUID()}`;
    const { keptnContext, releaseId, qaId, triggeredId } = await waitingAtJeTest('helloservice', { id: chosenTrigger });
    const evil = 'https://evil.example/phish';
    const forged = (id: string) => ({
      id,
      // What a receiver of Interlock's events would trust: a link, an open interruption, a deployment.
      data: {
        links: { deployment: evil, release: evil },
        deployment: { id: qaId, status: 'Waiting' },
        interruption: {
          id: 'forged', kind: 'Approval', step: 'approval', state: 'Pending', instructions: `Approve at ${evil}`, responsibleTeams: ['release-managers'],
          assignee: null, notes: null, createdAt: new Date().toISOString(), decidedAt: null, timeoutAt: '2999-01-01T00:00:00.000Z', onTimeout: 'proceed',
        },
        escalatedTeams: ['release-managers'],
      },
    });
    const chosen = [`chosen-${randomUUID()}`, `chosen-${randomUUID()}`];
    const started = taskEvent(keptnContext, triggeredId, 'started', forged(chosen[0]!).data, { id: chosen[0] });
    const finished = taskEvent(keptnContext, triggeredId, 'finished', { ...forged(chosen[1]!).data, message: 'all tests passed' }, { id: chosen[1] });
    await ok(post('je-bot', started), 202);
    await ok(post('je-bot', finished), 202);
    // Once qa's workflow has closed, every delivery of its events has been made (it closes after them).
    await waitForRelease(stack, releaseId, (v) => v.status === 'Waiting');
    await until(() => stack.client.workflow.getHandle(qaId).describe(), (d) => d.status.name !== 'RUNNING', 'qa to close');

    // The executor got what it needs to answer: the triggered event's id and context.
    const triggered = await eventually(() => cloudEvents.deliveries.find((d) => d.event?.type === 'sh.keptn.event.je-test.triggered' && d.event.shkeptncontext === keptnContext)?.event, 'je-test.triggered');
    expect(triggered).toMatchObject({ id: triggeredId, shkeptncontext: keptnContext, data: { project: 'helloservice', stage: 'qa', service: 'helloservice' } });
    expect(triggered.interlockpostedby).toBeUndefined();

    // The CloudEvents webhook gets each posted event once, as the poster's: its source and id,
    // marked with who posted it, none of Interlock's fields, and an Idempotency-Key of Interlock's.
    const ofThisRelease = (deliveries: typeof cloudEvents.deliveries) => deliveries.filter((d) => d.event?.shkeptncontext === keptnContext || d.body.toString().includes(keptnContext));
    const ofKind = (kind: string) => cloudEvents.deliveries.filter((d) => d.event?.type === `sh.keptn.event.je-test.${kind}` && d.event.shkeptncontext === keptnContext);
    for (const [kind, id] of [['started', chosen[0]], ['finished', chosen[1]]] as const) {
      const relayed = await eventually(() => ofKind(kind)[0], `je-test.${kind}`);
      expect(ofKind(kind)).toHaveLength(1);
      expect(relayed.event).toMatchObject({ id, source: 'job-executor', interlockpostedby: 'je-bot', triggeredid: triggeredId });
      for (const field of ['links', 'deployment', 'interruption', 'escalatedTeams']) expect(relayed.event?.data).not.toHaveProperty(field);
      expect(relayed.headers['idempotency-key']).not.toBe(id);
      expect(relayed.headers['idempotency-key']).toMatch(/^[0-9a-f]{32}$/);
    }
    expect(ofKind('finished')[0]?.event?.data.message).toBe('all tests passed');
    // The sequence's triggered event keeps the trigger's chosen id (Keptn's triggeredid), but not as the key.
    const sequence = ofThisRelease(cloudEvents.deliveries).find((d) => d.event?.type === 'sh.keptn.event.qa.delivery.triggered')!;
    expect(sequence.event?.id).toBe(chosenTrigger);
    expect(sequence.headers['idempotency-key']).not.toBe(chosenTrigger);

    // Chat and email only ever carry Interlock's own events: the triggered ones.
    const chatted = chat.deliveries.filter((d) => d.body.toString().includes(keptnContext));
    expect(new Set(chatted.map((d) => d.headers['x-interlock-event']))).toEqual(new Set(['sh.keptn.event.qa.delivery.triggered', 'sh.keptn.event.je-test.triggered']));
    const mailed = await eventually(() => {
      const mails = smtp.mails.filter((mail) => `${mail.parsed.text}`.includes(keptnContext));
      return mails.length >= 4 ? mails : undefined;
    }, 'the mails about the triggered events');
    expect(new Set(mailed.map((mail) => mail.parsed.headers.get('x-interlock-event')))).toEqual(new Set(['sh.keptn.event.qa.delivery.triggered', 'sh.keptn.event.je-test.triggered']));
    expect(mailed.flatMap((mail) => mail.to).sort()).toEqual(['jamie.jones@example.com', 'jamie.jones@example.com', 'morgan.lee@example.com', 'morgan.lee@example.com']);

    // Nowhere: the forged link, a decision link (none was signed, so none expires in 2999), the chosen ids as keys.
    const everything = [...cloudEvents.deliveries, ...chat.deliveries].map((d) => `${JSON.stringify(d.headers)} ${d.body.toString()}`).concat(smtp.mails.map((mail) => `${mail.parsed.subject} ${mail.parsed.text} ${mail.parsed.html} ${mail.parsed.messageId}`));
    for (const text of everything) {
      expect(text).not.toContain('evil.example');
      expect(text).not.toContain('/i/');
      expect(text).not.toContain('2999');
    }
    for (const id of [...chosen, chosenTrigger]) {
      expect([...cloudEvents.deliveries, ...chat.deliveries].map((d) => d.headers['idempotency-key'])).not.toContain(id);
    }
    // Kept in the release's event list as posted, marked with who posted it.
    const kept = await eventsOf(keptnContext, 'sh.keptn.event.je-test.started');
    expect(kept).toEqual([expect.objectContaining({ id: chosen[0], source: 'job-executor', interlockpostedby: 'je-bot' })]);
    await cancel(releaseId);
  });
});

describe('ids are looked up as own names only', () => {
  const INHERITED = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', '__defineGetter__', '__lookupSetter__'];

  it('a triggeredid or context named after Object\'s properties is 404, never a match, never a 500', async () => {
    const { keptnContext, releaseId, qa, triggeredId } = await waitingAtJeTest('quiet');
    for (const name of INHERITED) {
      for (const kind of ['started', 'finished'] as const) {
        expect((await problem(post('je-bot', taskEvent(keptnContext, name, kind)), 404)).code, name).toBe('TASK_NOT_FOUND');
      }
      const approval = await problem(post('jjones', { type: 'sh.keptn.event.approval.finished', shkeptncontext: keptnContext, triggeredid: name, data: { result: 'pass' } }), 404);
      expect(approval.code, name).toBe('TASK_NOT_FOUND');
      await problem(post('je-bot', taskEvent(name, triggeredId, 'finished')), 404);
      await problem(stack.api().api.releases[':id'].$get({ param: { id: name } }), 404);
      await problem(events(name), 404);
    }
    // A task Interlock runs itself takes no events, even with its own triggeredid.
    const script = qa.steps.find((step) => step.name === 'je-deployment')!;
    for (const type of ['sh.keptn.event.je-deployment.finished', 'sh.keptn.event.je-test.finished']) {
      expect((await problem(post('admin', { ...taskEvent(keptnContext, script.triggeredId!, 'finished'), type }), 404)).code, type).toBe('TASK_NOT_FOUND');
    }
    expect(jeTest(await deployment(qa.id))?.status).toBe('Running');
    await cancel(releaseId);
  });
});

describe('a finished release\'s events', () => {
  it('are read from a worker once, then kept: later reads answer with no worker at all', async () => {
    const { keptnContext, releaseId, triggeredId } = await waitingAtJeTest('quiet');
    await ok(post('je-bot', taskEvent(keptnContext, triggeredId, 'finished', { result: 'fail' })), 202);
    await until(() => stack.client.workflow.getHandle(releaseId).describe(), (d) => d.status.name !== 'RUNNING', 'the release to close');
    // Read at once by many: one read of the history serves them all.
    const first = await Promise.all(Array.from({ length: 10 }, () => ok(events(keptnContext))));
    expect(first[0]!.events.at(0)?.type).toBe('sh.keptn.event.qa.delivery.finished');

    await stack.stopWorker();
    try {
      const started = Date.now();
      const later = await Promise.all(Array.from({ length: 20 }, () => ok(events(keptnContext))));
      expect(later.every((page) => JSON.stringify(page) === JSON.stringify(first[0]))).toBe(true);
      expect(Date.now() - started).toBeLessThan(5_000);
      // A late answer to its task is refused as over, with no worker either.
      await problem(post('je-bot', taskEvent(keptnContext, triggeredId, 'finished')), 409);
    } finally {
      await stack.startWorker();
    }
  });
});
