import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type Deployment, deploymentIn, ok, problem, type Who } from '../support/api.js';
import { readEvents } from '../support/events.js';
import { eventually, sleep, until } from '../support/poll.js';
import { serveOverHttp, testConfig, uniqueRelease, useStack, waitFor } from '../support/stack.js';

const STEP = 'Ensure traders are aware of the deployment';
const scratch = mkdtempSync(join(tmpdir(), 'interlock-progress-'));

const config = testConfig(`
- id: hello-service
  name: Hello service
  environments: [production]
  process:
    - { name: Deploy, type: script, run: 'sleep 0.3; echo deployed' }
    - { name: ${STEP}, type: manual, responsibleTeams: [release-managers] }
    - { name: After, type: script, run: 'echo after' }
- id: slow-service
  name: Slow service
  environments: [production]
  variables: { PidFile: { prompted: true } }
  process:
    # The script starts a child of its own; cancelling must stop the whole process group.
    - { name: Deploy, type: script, run: 'sleep 300 & echo $! > "#{PidFile}"; wait' }
    - { name: After, type: script, run: 'echo never' }
- id: notify-on-abort
  name: Notify on abort
  environments: [production]
  variables: { Go: { prompted: true } }
  process:
    - { name: Sign off, type: manual }
    - { name: Deploy, type: script, run: 'echo never' }
    - { name: Tell the desk, type: script, runCondition: failure, run: 'while [ ! -e "#{Go}" ]; do sleep 0.1; done; echo told the desk' }
`);

const stack = useStack(config);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function trigger(project = 'hello-service', variables: Record<string, string> = {}) {
  return (await ok(stack.trigger({ project, environment: 'production', release: uniqueRelease(), variables }), 201)).id;
}

/** Alive and not a zombie (an orphan killed here may wait a while for init to reap it). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

/** The deployment's first interruption, where its actions go. */
const interruptionOf = (view: Deployment) => ({ id: view.id, iid: view.interruptions[0]!.id });
const wait = (id: string, timeout: number) => stack.api().api.deployments[':id'].wait.$get({ param: { id }, query: { timeout } });
const cancel = (id: string, who: Who) => stack.api(who).api.deployments[':id'].cancel.$post({ param: { id } });

const openEvents = (id: string, lastEventId?: string) =>
  stack.api('vic', lastEventId ? { 'Last-Event-ID': lastEventId } : {}).api.deployments[':id'].events.$get({ param: { id } });

describe('GET /api/deployments/{id}/wait', () => {
  it('answers 202 with the current view when the time passes, 200 once finished', async () => {
    const id = await trigger();
    await waitFor(stack, id, (view) => view.status === 'Waiting');
    const started = Date.now();
    const view = deploymentIn(await ok(wait(id, 1), 202));
    expect(view.status).toBe('Waiting');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);

    const waiter = ok(wait(id, 60), 200);
    await ok(stack.act('jjones', 'take-responsibility', interruptionOf(view)));
    await ok(stack.act('jjones', 'proceed', interruptionOf(view), { notes: 'ok' }));
    expect((await waiter).status).toBe('Succeeded');

    await ok(wait(id, 5), 200);
  });

  it('refuses a timeout over 300 s and unknown deployments', async () => {
    const tooLong = await problem(wait('x:y:z:w', 301), 400);
    expect(tooLong.errors?.[0]?.name).toBe('query.timeout');
    await problem(wait('x:y:z:w', 1), 404);
    await problem(stack.api().api.deployments[':id'].events.$get({ param: { id: 'x:y:z:w' } }), 404);
  });
});

describe('GET /api/deployments/{id}/events', () => {
  it('streams Running, Waiting, Assigned, Succeeded in order, then ends', async () => {
    const id = await trigger();
    const response = await openEvents(id);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');

    const seen: string[] = [];
    const describe = (view: Deployment) => (view.interruptions[0]?.state === 'Assigned' && view.status === 'Waiting' ? 'Assigned' : view.status);
    const reading = readEvents(response, (events) => {
      const last = events.at(-1)!;
      if (seen.at(-1) !== describe(last.data)) seen.push(describe(last.data));
      if (last.data.status === 'Waiting' && last.data.interruptions[0]?.state === 'Pending') {
        void stack.act('jjones', 'take-responsibility', interruptionOf(last.data));
      }
      if (describe(last.data) === 'Assigned') {
        void stack.act('jjones', 'proceed', interruptionOf(last.data));
      }
      return false;
    });
    const { events, ended } = await reading;
    expect(ended).toBe(true);
    // The view is read twice a second, so the brief Running after the proceed may or may not show.
    expect(seen.filter((status, i) => !(status === 'Running' && i > 0))).toEqual(['Running', 'Waiting', 'Assigned', 'Succeeded']);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  it('misses nothing across a reconnect with Last-Event-ID', async () => {
    const id = await trigger();
    const waiting = await waitFor(stack, id, (view) => view.status === 'Waiting');
    const first = await readEvents(await openEvents(id), (events) => events.length === 1);
    const lastId = first.events[0]!.id;
    expect(first.events[0]!.data.status).toBe('Waiting');

    // Reconnecting with the id of the current view sends nothing until the view changes...
    const resumed = openEvents(id, lastId).then((response) => readEvents(response, (events) => events.length === 1));
    await sleep(700);
    await ok(stack.act('mlee', 'take-responsibility', interruptionOf(waiting)));
    const next = await resumed;
    expect(next.events[0]!.data.interruptions[0]?.assignee?.username).toBe('mlee');

    // ...and with an older id, the change made while disconnected comes at once.
    const caughtUp = await readEvents(await openEvents(id, lastId), (events) => events.length === 1);
    expect(caughtUp.events[0]!.id).not.toBe(lastId);
    expect(caughtUp.events[0]!.data.interruptions[0]?.state).toBe('Assigned');
  });
});

describe('after an abort, wait and the event stream agree: Running until the last step has ended', () => {
  it('a client polling for a finished status sees Aborted only once the failure step has run', async () => {
    const go = join(scratch, `go-${uniqueRelease()}`);
    const id = await trigger('notify-on-abort', { Go: go });
    const waiting = await waitFor(stack, id, (view) => view.status === 'Waiting');
    await ok(stack.act('jjones', 'take-responsibility', interruptionOf(waiting)));
    await ok(stack.act('jjones', 'abort', interruptionOf(waiting), { notes: 'not today' }));

    const meanwhile = await waitFor(stack, id, (view) => view.steps[2]?.status === 'Running');
    expect(meanwhile).toMatchObject({ status: 'Running', outcome: 'Aborted', finishedAt: null });
    expect(await ok(wait(id, 1), 202)).toMatchObject({ status: 'Running', outcome: 'Aborted', finishedAt: null });
    const streamed = await readEvents(await openEvents(id), (events) => events.length === 1);
    expect(streamed.events[0]!.data).toMatchObject({ status: 'Running', outcome: 'Aborted', finishedAt: null });
    const listed = await ok(stack.api().api.deployments.$get({ query: { project: 'notify-on-abort', status: 'Aborted' } }));
    expect(listed.deployments.map((d) => d.id)).not.toContain(id);

    const waiter = ok(wait(id, 60), 200);
    const stream = readEvents(await openEvents(id), (events) => events.at(-1)!.data.finishedAt !== null);
    writeFileSync(go, '');
    const [ended, { events }] = await Promise.all([waiter, stream]);
    const done = deploymentIn(ended);
    expect(done).toMatchObject({ status: 'Aborted', outcome: 'Aborted' });
    expect(done.steps.map((s) => s.status)).toEqual(['Aborted', 'Skipped', 'Succeeded']);
    expect(done.finishedAt! >= done.steps[2]!.finishedAt!).toBe(true);
    // Every view the stream sent before the last one was still Running; the last is the end.
    expect(events.length).toBeGreaterThan(0);
    expect(events.slice(0, -1).every((event) => event.data.status === 'Running')).toBe(true);
    expect(events.at(-1)!.data).toMatchObject({ status: 'Aborted', finishedAt: done.finishedAt });
  });
});

describe('POST /api/deployments/{id}/cancel', () => {
  it('stops a running script, process group and all, and ends Cancelled', async () => {
    const pidFile = join(scratch, 'pid');
    const id = await trigger('slow-service', { PidFile: pidFile });
    await waitFor(stack, id, (view) => view.steps[0]?.status === 'Running');
    const pid = await eventually(() => Number(readFileSync(pidFile, { encoding: 'utf8', flag: 'a+' }).trim()) || undefined, 'the script to write its child\'s pid', { timeoutMs: 10_000 });
    expect(isRunning(pid)).toBe(true);

    await problem(cancel(id, 'vic'), 403);
    await ok(cancel(id, 'ci'), [200, 202]);
    const done = await waitFor(stack, id, (view) => view.finishedAt !== null);
    expect(done.status).toBe('Cancelled');
    expect(done.steps.map((s) => s.status)).toEqual(['Cancelled', 'Skipped']);
    expect(done.timeline.at(-1)).toMatchObject({ user: 'ci', action: 'cancel', result: 'accepted' });
    // The script's own child is gone too: its process group was killed.
    expect(isRunning(pid)).toBe(false);

    const again = await problem(cancel(id, 'ci'), 409);
    expect(again.detail).toContain('Cancelled');
    await problem(cancel('x:y:z:w', 'ci'), 404);
  });

  it('cancels a deployment that waits at a manual step', async () => {
    const id = await trigger();
    await waitFor(stack, id, (view) => view.status === 'Waiting');
    const cancelled = await ok(cancel(id, 'jjones'), 200);
    expect(cancelled.status).toBe('Cancelled');
    expect(cancelled.steps.map((s) => s.status)).toEqual(['Succeeded', 'Cancelled', 'Skipped']);
    // Visibility is eventually consistent (on a PostgreSQL cluster under load, a moment behind): wait until it has caught up.
    const listed = async () => (await ok(stack.api('jjones').api.interruptions.$get({ query: {} }))).interruptions.map((i) => i.deployment.id);
    expect(await until(listed, (ids) => !ids.includes(id), 'the list to drop the cancelled deployment', { timeoutMs: 10_000, everyMs: 200 })).not.toContain(id);
  });
});

describe('what one person may hold at once, tried with a burst over real HTTP', () => {
  let server: Awaited<ReturnType<typeof serveOverHttp>> | undefined;
  beforeAll(async () => {
    server = await serveOverHttp(stack);
  });
  afterAll(() => server?.close());

  const api = (who: Who) => apiClient(server!.url, who).api;
  /** Sends a request that stays open (an event stream, a wait); its controller ends it as a client that goes away does. */
  const held = <R>(send: (init: RequestInit) => Promise<R>) => {
    const controller = new AbortController();
    return { answer: send({ signal: controller.signal }), close: () => controller.abort() };
  };
  const openStream = (id: string, who: Who = 'vic') => held((init) => api(who).deployments[':id'].events.$get({ param: { id } }, { init }));
  const openWait = (id: string, timeout: number, who: Who = 'vic') => held((init) => api(who).deployments[':id'].wait.$get({ param: { id }, query: { timeout } }, { init }));
  /** Opens again and again until the server has given the slots back (it learns of a closed socket a moment later). */
  async function opensAgain<R extends { status: number }>(open: () => { answer: Promise<R>; close(): void }): Promise<{ response: R; close(): void }> {
    const opened = async () => {
      const { answer, close } = open();
      const response = await answer;
      if (response.status === 429) close();
      return { response, close };
    };
    return until(opened, ({ response }) => response.status !== 429, 'a slot to be given back', { timeoutMs: 5_000 });
  }

  it('60 event streams at once: 20 open, 40 get 429 with Retry-After; once closed, new ones open', async () => {
    const id = await trigger();
    await waitFor(stack, id, (view) => view.status === 'Waiting');
    const burst = Array.from({ length: 60 }, () => openStream(id));
    const answers = await Promise.all(burst.map(({ answer }) => answer));
    expect(answers.filter((response) => response.status === 200)).toHaveLength(20);
    const refused = answers.filter((response) => response.status !== 200);
    expect(refused).toHaveLength(40);
    for (const response of refused) {
      expect((await problem(response, 429)).code).toBe('RATE_LIMITED');
      expect(response.headers.get('retry-after')).toBe('5');
    }
    // The cap is the person's, whatever they watch; another person is not held back by it.
    await problem(api('vic').releases[':id'].events.$get({ param: { id: 'x:y:z' } }), 429);
    const other = openStream(id, 'jjones');
    expect((await other.answer).status).toBe(200);
    other.close();

    for (const { close } of burst) close();
    const again = await opensAgain(() => openStream(id));
    expect(again.response.status).toBe(200);
    again.close();
  });

  it('60 waits at once: 50 are held, 10 get 429 with Retry-After at once; a wait whose caller went away makes room', async () => {
    const id = await trigger();
    await waitFor(stack, id, (view) => view.status === 'Waiting');
    const burst = Array.from({ length: 60 }, () => openWait(id, 120));
    const answered: Awaited<(typeof burst)[number]['answer']>[] = [];
    for (const { answer } of burst) void answer.then((response) => answered.push(response), () => undefined);
    await until(() => answered.length, (count) => count >= 10, 'ten waits to be refused at once', { timeoutMs: 10_000 });
    // Nothing else answers: the other 50 are held until the deployment ends or 120 s pass.
    await sleep(1_000);
    expect(answered).toHaveLength(10);
    for (const response of answered) {
      expect((await problem(response, 429)).code).toBe('RATE_LIMITED');
      expect(response.headers.get('retry-after')).toBe('5');
    }
    await ok(openWait(id, 0, 'jjones').answer, 202);

    for (const { close } of burst) close();
    const again = await opensAgain(() => openWait(id, 0));
    expect((await ok(again.response, 202)).status).toBe('Waiting');
  });
});
