import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEvents } from '../support/events.js';
import { type Stack, startStack, testConfig, uniqueRelease, waitFor } from '../support/stack.js';

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

let stack: Stack;
beforeAll(async () => {
  stack = await startStack(config);
});
afterAll(async () => {
  await stack?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function trigger(project = 'hello-service', variables: Record<string, string> = {}) {
  const { status, body } = await stack.call('POST', '/api/deployments', { as: 'ci', body: { project, environment: 'production', release: uniqueRelease(), variables } });
  expect(status).toBe(201);
  return body.id as string;
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

const interruptionUrl = (view: any) => `/api/deployments/${view.id}/interruptions/${view.interruptions[0].id}`;

const openEvents = (id: string, lastEventId?: string) =>
  stack.app.request(`/api/deployments/${id}/events`, {
    headers: { Authorization: 'Bearer vic-demo-token', ...(lastEventId ? { 'Last-Event-ID': lastEventId } : {}) },
  });

describe('GET /api/deployments/{id}/wait', () => {
  it('answers 202 with the current view when the time passes, 200 once finished', async () => {
    const id = await trigger();
    await waitFor(stack, id, (view) => view.status === 'Waiting');
    const started = Date.now();
    const pending = await stack.call('GET', `/api/deployments/${id}/wait?timeout=1`);
    expect(pending.status).toBe(202);
    expect(pending.body.status).toBe('Waiting');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);

    const waiter = stack.call('GET', `/api/deployments/${id}/wait?timeout=60`);
    const view = pending.body;
    await stack.call('POST', `${interruptionUrl(view)}/take-responsibility`, { as: 'jjones' });
    await stack.call('POST', `${interruptionUrl(view)}/proceed`, { as: 'jjones', body: { notes: 'ok' } });
    const done = await waiter;
    expect(done.status).toBe(200);
    expect(done.body.status).toBe('Succeeded');

    const again = await stack.call('GET', `/api/deployments/${id}/wait?timeout=5`);
    expect(again.status).toBe(200);
  });

  it('refuses a timeout over 300 s and unknown deployments', async () => {
    const tooLong = await stack.call('GET', '/api/deployments/x:y:z:w/wait?timeout=301');
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.errors[0].name).toBe('query.timeout');
    expect((await stack.call('GET', '/api/deployments/x:y:z:w/wait?timeout=1')).status).toBe(404);
    expect((await stack.call('GET', '/api/deployments/x:y:z:w/events')).status).toBe(404);
  });
});

describe('GET /api/deployments/{id}/events', () => {
  it('streams Running, Waiting, Assigned, Succeeded in order, then ends', async () => {
    const id = await trigger();
    const response = await openEvents(id);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');

    const seen: string[] = [];
    const describe = (view: any) => (view.interruptions[0]?.state === 'Assigned' && view.status === 'Waiting' ? 'Assigned' : view.status);
    const reading = readEvents(response, (events) => {
      const last = events.at(-1)!;
      if (seen.at(-1) !== describe(last.data)) seen.push(describe(last.data));
      if (last.data.status === 'Waiting' && last.data.interruptions[0].state === 'Pending') {
        void stack.call('POST', `${interruptionUrl(last.data)}/take-responsibility`, { as: 'jjones' });
      }
      if (describe(last.data) === 'Assigned') {
        void stack.call('POST', `${interruptionUrl(last.data)}/proceed`, { as: 'jjones' });
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
    const resumed = Promise.resolve(openEvents(id, lastId)).then((response) => readEvents(response, (events) => events.length === 1));
    await new Promise((resolve) => setTimeout(resolve, 700));
    await stack.call('POST', `${interruptionUrl(waiting)}/take-responsibility`, { as: 'mlee' });
    const next = await resumed;
    expect(next.events[0]!.data.interruptions[0].assignee.username).toBe('mlee');

    // ...and with an older id, the change made while disconnected comes at once.
    const caughtUp = await readEvents(await openEvents(id, lastId), (events) => events.length === 1);
    expect(caughtUp.events[0]!.id).not.toBe(lastId);
    expect(caughtUp.events[0]!.data.interruptions[0].state).toBe('Assigned');
  });
});

describe('after an abort, wait and the event stream agree: Running until the last step has ended', () => {
  it('a client polling for a finished status sees Aborted only once the failure step has run', async () => {
    const go = join(scratch, `go-${uniqueRelease()}`);
    const id = await trigger('notify-on-abort', { Go: go });
    const waiting = await waitFor(stack, id, (view) => view.status === 'Waiting');
    await stack.call('POST', `${interruptionUrl(waiting)}/take-responsibility`, { as: 'jjones' });
    expect((await stack.call('POST', `${interruptionUrl(waiting)}/abort`, { as: 'jjones', body: { notes: 'not today' } })).status).toBe(200);

    const meanwhile = await waitFor(stack, id, (view) => view.steps[2].status === 'Running');
    expect(meanwhile).toMatchObject({ status: 'Running', outcome: 'Aborted', finishedAt: null });
    const held = await stack.call('GET', `/api/deployments/${id}/wait?timeout=1`);
    expect(held.status).toBe(202);
    expect(held.body).toMatchObject({ status: 'Running', outcome: 'Aborted', finishedAt: null });
    const streamed = await readEvents(await openEvents(id), (events) => events.length === 1);
    expect(streamed.events[0]!.data).toMatchObject({ status: 'Running', outcome: 'Aborted', finishedAt: null });
    const listed = await stack.call('GET', `/api/deployments?project=notify-on-abort&status=Aborted`);
    expect(listed.body.deployments.map((d: { id: string }) => d.id)).not.toContain(id);

    const waiter = stack.call('GET', `/api/deployments/${id}/wait?timeout=60`);
    const stream = readEvents(await openEvents(id), (events) => events.at(-1)!.data.finishedAt !== null);
    writeFileSync(go, '');
    const [done, { events }] = await Promise.all([waiter, stream]);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'Aborted', outcome: 'Aborted' });
    expect(done.body.steps.map((s: { status: string }) => s.status)).toEqual(['Aborted', 'Skipped', 'Succeeded']);
    expect(done.body.finishedAt >= done.body.steps[2].finishedAt).toBe(true);
    // Every view the stream sent before the last one was still Running; the last is the end.
    expect(events.slice(0, -1).every((event) => event.data.status === 'Running')).toBe(true);
    expect(events.at(-1)!.data).toMatchObject({ status: 'Aborted', finishedAt: done.body.finishedAt });
  });
});

describe('POST /api/deployments/{id}/cancel', () => {
  it('stops a running script, process group and all, and ends Cancelled', async () => {
    const pidFile = join(scratch, 'pid');
    const id = await trigger('slow-service', { PidFile: pidFile });
    await waitFor(stack, id, (view) => view.steps[0].status === 'Running');
    let pid = 0;
    for (let i = 0; i < 100 && !pid; i++) {
      pid = Number(readFileSync(pidFile, { encoding: 'utf8', flag: 'a+' }).trim()) || 0;
      if (!pid) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(isRunning(pid)).toBe(true);

    expect((await stack.call('POST', `/api/deployments/${id}/cancel`, { as: 'vic' })).status).toBe(403);
    const cancelled = await stack.call('POST', `/api/deployments/${id}/cancel`, { as: 'ci' });
    expect([200, 202]).toContain(cancelled.status);
    const done = await waitFor(stack, id, (view) => view.finishedAt !== null);
    expect(done.status).toBe('Cancelled');
    expect(done.steps.map((s: { status: string }) => s.status)).toEqual(['Cancelled', 'Skipped']);
    expect(done.timeline.at(-1)).toMatchObject({ user: 'ci', action: 'cancel', result: 'accepted' });
    // The script's own child is gone too: its process group was killed.
    expect(isRunning(pid)).toBe(false);

    const again = await stack.call('POST', `/api/deployments/${id}/cancel`, { as: 'ci' });
    expect(again.status).toBe(409);
    expect(again.body.detail).toContain('Cancelled');
    expect((await stack.call('POST', '/api/deployments/x:y:z:w/cancel', { as: 'ci' })).status).toBe(404);
  });

  it('cancels a deployment that waits at a manual step', async () => {
    const id = await trigger();
    await waitFor(stack, id, (view) => view.status === 'Waiting');
    const cancelled = await stack.call('POST', `/api/deployments/${id}/cancel`, { as: 'jjones' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('Cancelled');
    expect(cancelled.body.steps.map((s: { status: string }) => s.status)).toEqual(['Succeeded', 'Cancelled', 'Skipped']);
    // Visibility is eventually consistent (on a PostgreSQL cluster under load, a moment behind): wait until it has caught up.
    const listed = async () => (await stack.call('GET', '/api/interruptions', { as: 'jjones' })).body.interruptions.map((i: { deployment: { id: string } }) => i.deployment.id);
    for (let i = 0; i < 50 && (await listed()).includes(id); i++) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await listed()).not.toContain(id);
  });
});

describe('what one person may hold at once, tried with a burst over real HTTP', () => {
  let server: ServerType;
  let base = '';
  beforeAll(async () => {
    server = serve({ fetch: stack.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const as = (who: 'vic' | 'jjones') => ({ Authorization: `Bearer ${who}-demo-token` });
  /** Sends a request that stays open; its controller ends it as a client that goes away does. */
  const held = (path: string, who: 'vic' | 'jjones' = 'vic') => {
    const controller = new AbortController();
    const answer = fetch(`${base}${path}`, { headers: as(who), signal: controller.signal });
    return { answer, close: () => controller.abort() };
  };
  /** Opens again and again until the server has given the slots back (it learns of a closed socket a moment later). */
  async function opensAgain(path: string): Promise<Response & { close(): void }> {
    for (let i = 0; ; i++) {
      const { answer, close } = held(path);
      const response = await answer;
      if (response.status !== 429 || i === 50) return Object.assign(response, { close });
      close();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('60 event streams at once: 20 open, 40 get 429 with Retry-After; once closed, new ones open', async () => {
    const id = await trigger();
    await waitFor(stack, id, (view) => view.status === 'Waiting');
    const burst = Array.from({ length: 60 }, () => held(`/api/deployments/${id}/events`));
    const answers = await Promise.all(burst.map(({ answer }) => answer));
    expect(answers.filter((response) => response.status === 200)).toHaveLength(20);
    const refused = answers.filter((response) => response.status !== 200);
    expect(refused).toHaveLength(40);
    for (const response of refused) {
      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toBe('5');
      expect(await response.json()).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    }
    // The cap is the person's, whatever they watch; another person is not held back by it.
    expect((await fetch(`${base}/api/releases/x:y:z/events`, { headers: as('vic') })).status).toBe(429);
    const other = held(`/api/deployments/${id}/events`, 'jjones');
    expect((await other.answer).status).toBe(200);
    other.close();

    for (const { close } of burst) close();
    const again = await opensAgain(`/api/deployments/${id}/events`);
    expect(again.status).toBe(200);
    again.close();
  });

  it('60 waits at once: 50 are held, 10 get 429 with Retry-After at once; a wait whose caller went away makes room', async () => {
    const id = await trigger();
    await waitFor(stack, id, (view) => view.status === 'Waiting');
    const burst = Array.from({ length: 60 }, () => held(`/api/deployments/${id}/wait?timeout=120`));
    const answered: Response[] = [];
    for (const { answer } of burst) void answer.then((response) => answered.push(response), () => undefined);
    for (let i = 0; i < 100 && answered.length < 10; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    // Nothing else answers: the other 50 are held until the deployment ends or 120 s pass.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(answered).toHaveLength(10);
    for (const response of answered) {
      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toBe('5');
      expect(await response.json()).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    }
    expect((await fetch(`${base}/api/deployments/${id}/wait?timeout=0`, { headers: as('jjones') })).status).toBe(202);

    for (const { close } of burst) close();
    const again = await opensAgain(`/api/deployments/${id}/wait?timeout=0`);
    expect(again.status).toBe(202);
    expect((await again.json()).status).toBe('Waiting');
  });
});
