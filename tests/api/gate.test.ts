import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { describe, expect, it } from 'vitest';
import { startStack, testConfig, useStack, uniqueRelease, waitFor, type Who } from '../support/stack.js';

// docs/manual-steps.md and docs/http-api.md tried as an attacker would: who may do what on every route, refusals that never
// reach the workflow, a flood that cannot jam an approval, and the race with the workflow's end.
const config = testConfig(`
- id: hello-service
  name: Hello service
  environments: [qa, production]
  process:
    - { name: Deploy, type: script, run: 'echo deploying' }
    - name: Approve
      type: manual
      environments: [production]
      responsibleTeams: [release-managers]
- id: four-eyes
  name: Four eyes
  environments: [production]
  preventSelfApproval: true
  process:
    - { name: Approve, type: manual, responsibleTeams: [release-managers] }
    - { name: Second look, type: manual, responsibleTeams: [release-managers], preventSelfApproval: false }
- id: self-tested
  name: Self-tested
  environments: [production]
  preventSelfApproval: true
  guidedFailure: true
  process:
    - { name: Test, type: script, run: 'echo "1 test failed"; exit 1' }
    - { name: Promote, type: script, run: 'echo promoted' }
- id: two-approvals
  name: Two approvals
  environments: [production]
  process:
    - { name: Approve, type: manual, responsibleTeams: [release-managers], requiredApprovals: 2 }
`);

const stack = useStack(config);

async function waiting(heldBy?: Who) {
  const { body } = await stack.call('POST', '/api/deployments', { as: 'ci', body: { project: 'hello-service', environment: 'production', release: uniqueRelease() } });
  const view = await waitFor(stack, body.id, (v) => v.status === 'Waiting');
  const path = `/api/deployments/${view.id}/interruptions/${view.interruptions[0].id}`;
  if (heldBy) expect((await stack.call('POST', `${path}/take-responsibility`, { as: heldBy })).status).toBe(200);
  return { id: view.id as string, path };
}

const historyLength = async (id: string) => (await stack.client.workflow.getHandle(id).fetchHistory()).events?.length ?? 0;

describe('every route × every kind of caller (docs/http-api.md)', () => {
  type Cell = number | readonly number[];
  const who = [null, 'vic', 'ci', 'mlee', 'admin'] as const;
  //                            no token  viewer  deployer  team member  admin
  const reads: [string, (id: string) => string, Cell[]][] = [
    ['GET /api/me', () => '/api/me', [401, 200, 200, 200, 200]],
    ['GET /api/projects', () => '/api/projects', [401, 200, 200, 200, 200]],
    ['GET /api/deployments', () => '/api/deployments', [401, 200, 200, 200, 200]],
    ['GET /api/deployments/{id}', (id) => `/api/deployments/${id}`, [401, 200, 200, 200, 200]],
    ['GET /api/deployments/{id}/wait', (id) => `/api/deployments/${id}/wait?timeout=0`, [401, 202, 202, 202, 202]],
    ['GET /api/interruptions', () => '/api/interruptions?actionable=true', [401, 200, 200, 200, 200]],
  ];

  it.each(reads)('%s', async (_, path, expected) => {
    const { id } = await waiting();
    for (const [i, as] of who.entries()) {
      expect((await stack.call('GET', path(id), { as })).status, `${as ?? 'no token'}`).toBe(expected[i]);
    }
  });

  it('GET /api/deployments/{id}/events', async () => {
    const { id } = await waiting();
    const expected = [401, 200, 200, 200, 200];
    for (const [i, as] of who.entries()) {
      const controller = new AbortController();
      const response = await stack.app.request(`/api/deployments/${id}/events`, {
        headers: as ? { Authorization: `Bearer ${as}-demo-token` } : {},
        signal: controller.signal,
      });
      expect(response.status, `${as ?? 'no token'}`).toBe(expected[i]);
      controller.abort();
      await response.body?.cancel().catch(() => undefined);
    }
  });

  it('POST /api/deployments', async () => {
    const expected = [401, 403, 201, 201, 201];
    for (const [i, as] of who.entries()) {
      const body = { project: 'hello-service', environment: 'qa', release: uniqueRelease() };
      expect((await stack.call('POST', '/api/deployments', { as, body })).status, `${as ?? 'no token'}`).toBe(expected[i]);
    }
  });

  it('POST /api/deployments/{id}/cancel', async () => {
    const expected: Cell[] = [401, 403, [200, 202], [200, 202], [200, 202]];
    for (const [i, as] of who.entries()) {
      const { id } = await waiting();
      const { status } = await stack.call('POST', `/api/deployments/${id}/cancel`, { as });
      expect([expected[i]].flat(), `${as ?? 'no token'}`).toContain(status);
    }
  });

  it('POST …/take-responsibility of a pending interruption', async () => {
    const expected = [401, 403, 403, 200, 200];
    const pending = await waiting();
    for (const [i, as] of who.entries()) {
      // Each acceptance changes the interruption, so each accepted cell gets a deployment of its own.
      const { path } = expected[i] === 200 ? await waiting() : pending;
      expect((await stack.call('POST', `${path}/take-responsibility`, { as })).status, `${as ?? 'no token'}`).toBe(expected[i]);
    }
  });

  it.each(['proceed', 'abort'] as const)('POST …/%s of an interruption jjones holds', async (action) => {
    const callers = [...who, 'jjones'] as const;
    //                no token  viewer  deployer  other member  admin  the assignee
    const expected = [401, 403, 403, 403, 403, 200];
    const held = await waiting('jjones');
    for (const [i, as] of callers.entries()) {
      const { path } = expected[i] === 200 ? await waiting('jjones') : held;
      const { status, body } = await stack.call('POST', `${path}/${action}`, { as, body: { notes: 'matrix' } });
      expect(status, `${as ?? 'no token'}: ${JSON.stringify(body)}`).toBe(expected[i]);
    }
  });
});

describe('refusals that never reach the workflow', () => {
  it('3,000 takes by a viewer are refused by the API alone; the history does not grow; the assignee still decides', async () => {
    const { id, path } = await waiting();
    const before = await historyLength(id);
    const statuses = new Map<number, number>();
    for (let batch = 0; batch < 30; batch++) {
      const answers = await Promise.all(Array.from({ length: 100 }, () => stack.call('POST', `${path}/take-responsibility`, { as: 'vic' })));
      for (const { status } of answers) statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 403: 3000 });
    expect(await historyLength(id)).toBe(before);

    expect((await stack.call('POST', `${path}/take-responsibility`, { as: 'mlee' })).status).toBe(200);
    expect((await stack.call('POST', `${path}/proceed`, { as: 'mlee', body: { notes: 'after the flood' } })).status).toBe(200);
    const done = await waitFor(stack, id, (v) => v.finishedAt !== null);
    expect(done.status).toBe('Succeeded');
    expect(done.timeline.filter((entry: { user: string }) => entry.user === 'vic')).toEqual([]);
  }, 120_000);

  it('a viewer is told why in words, with the refusal named', async () => {
    const { path } = await waiting();
    const { status, body } = await stack.call('POST', `${path}/take-responsibility`, { as: 'vic' });
    expect(status).toBe(403);
    expect(body).toMatchObject({ code: 'NOT_IN_TEAM', detail: expect.stringContaining('only members of release-managers') });
  });
});

describe('per-person rate limit', () => {
  it('the 31st action in a minute is 429 with Retry-After; another person is not slowed', async () => {
    const limited = await startStack(config, { actionRatePerMinute: 30 });
    try {
      const { body } = await limited.call('POST', '/api/deployments', { as: 'ci', body: { project: 'hello-service', environment: 'production', release: uniqueRelease() } });
      const view = await waitFor(limited, body.id, (v) => v.status === 'Waiting');
      const path = `/api/deployments/${view.id}/interruptions/${view.interruptions[0].id}`;
      for (let i = 0; i < 30; i++) expect((await limited.call('POST', `${path}/take-responsibility`, { as: 'vic' })).status).toBe(403);
      const limitedAnswer = await limited.call('POST', `${path}/take-responsibility`, { as: 'vic' });
      expect(limitedAnswer.status).toBe(429);
      expect(Number(limitedAnswer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(limitedAnswer.body.code).toBe('RATE_LIMITED');
      expect((await limited.call('POST', `${path}/take-responsibility`, { as: 'mlee' })).status).toBe(200);
    } finally {
      await limited.stop();
    }
  });
});

describe('an action racing the workflow\'s end', () => {
  it('is 409, never 404, for every action on a deployment that has just finished', async () => {
    const { id, path } = await waiting('mlee');
    expect((await stack.call('POST', `${path}/proceed`, { as: 'mlee' })).status).toBe(200);
    await stack.client.workflow.getHandle(id).result();
    // The workflow has closed: each update now meets a closed execution, as a racing one would.
    for (const [action, as] of [['take-responsibility', 'jjones'], ['proceed', 'mlee'], ['abort', 'mlee']] as const) {
      const { status, body } = await stack.call('POST', `${path}/${action}`, { as });
      expect(status, action).toBe(409);
      expect(['NOT_WAITING', 'ALREADY_DECIDED']).toContain(body.code);
    }
  });
});

describe('the smaller holes', () => {
  it('names that every object has are no assets, no deployments, no pages: plain 404s', async () => {
    for (const path of ['/assets/constructor', '/assets/__proto__', '/assets/toString', '/assets/hasOwnProperty']) {
      expect((await stack.app.request(path)).status, path).toBe(404);
    }
    for (const id of ['constructor', '__proto__']) {
      expect((await stack.call('GET', `/api/deployments/${id}`)).status, id).toBe(404);
    }
  });

  it('a sign-in or dashboard form over 1 MiB is refused before it is read', async () => {
    const huge = `token=${'x'.repeat(1024 * 1024 + 10)}`;
    for (const path of ['/sign-in', '/projects/hello-service/deployments']) {
      const response = await stack.app.request(path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'http://localhost', Host: 'localhost' },
        body: huge,
      });
      expect(response.status, path).toBe(413);
    }
  });

  it('over real HTTP, an API body over 1 MiB is refused before it is read, with or without a Content-Length; an empty one is none', async () => {
    const server = await new Promise<ServerType>((resolve) => {
      const started = serve({ fetch: stack.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started));
    });
    try {
      const { port } = server.address() as AddressInfo;
      /** Without a Content-Length, Node sends the body chunked (in two pieces here). */
      const send = (method: string, path: string, body: string, { chunked = false, type = 'application/json' } = {}) =>
        new Promise<{ status: number; text: string }>((resolve, reject) => {
          const req = request({
            host: '127.0.0.1', port, method, path,
            headers: { Authorization: 'Bearer jjones-demo-token', ...(type ? { 'Content-Type': type } : {}), ...(chunked ? {} : { 'Content-Length': Buffer.byteLength(body) }) },
          }, (res) => {
            let text = '';
            res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve({ status: res.statusCode!, text }));
          });
          req.on('error', reject);
          if (body) req.write(body.slice(0, 1000));
          req.end(body.slice(1000));
        });
      const release = uniqueRelease();
      const huge = JSON.stringify({ project: 'hello-service', environment: 'qa', release, variables: { Pad: 'x'.repeat(1100 * 1024) } });
      for (const chunked of [false, true]) {
        const refused = await send('POST', '/api/deployments', huge, { chunked });
        expect(refused.status, `chunked: ${chunked}`).toBe(413);
        expect(JSON.parse(refused.text).detail).toBe('Request bodies may be at most 1 MiB.');
      }
      // A GET may carry no body past the limit either; a small body is read as before.
      expect((await send('GET', '/api/deployments', huge)).status).toBe(413);
      const small = await send('POST', '/api/deployments', JSON.stringify({ project: 'hello-service', environment: 'qa', release }), { chunked: true });
      expect(small.status).toBe(201);
      // Visibility shows the small one; the refused ones, sent before it, started nothing.
      const listed = async () => (await stack.call('GET', `/api/deployments?release=${release}`, { as: 'ci' })).body.deployments as unknown[];
      while ((await listed()).length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await listed()).toHaveLength(1);

      // A bare take (Content-Length: 0, no type) takes; a body without a type is still refused.
      const { id, path } = await waiting();
      expect((await send('POST', `${path}/take-responsibility`, '{"takeOver":true}', { type: '' })).status).toBe(415);
      const taken = await send('POST', `${path}/take-responsibility`, '', { type: '' });
      expect(taken.status, taken.text).toBe(200);
      expect(JSON.parse(taken.text).assignee.username).toBe('jjones');
      expect((await stack.call('GET', `/api/deployments/${id}`)).body.interruptions[0].assignee.username).toBe('jjones');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('one person holds at most 20 event streams at once; closing one frees a place', async () => {
    const { id } = await waiting();
    const open: ReadableStreamDefaultReader<Uint8Array>[] = [];
    const stream = () => stack.app.request(`/api/deployments/${id}/events`, { headers: { Authorization: 'Bearer vic-demo-token' } });
    try {
      for (let i = 0; i < 20; i++) {
        const response = await stream();
        expect(response.status).toBe(200);
        // Read the first event so the stream is running, then leave it open.
        const reader = response.body!.getReader();
        await reader.read();
        open.push(reader);
      }
      const refused = await stream();
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('5');
      // Another person is not affected.
      const other = await stack.app.request(`/api/deployments/${id}/events`, { headers: { Authorization: 'Bearer mlee-demo-token' } });
      expect(other.status).toBe(200);
      await other.body?.cancel();
      await open.shift()!.cancel();
      await new Promise((resolve) => setTimeout(resolve, 200));
      const again = await stream();
      expect(again.status).toBe(200);
      open.push(again.body!.getReader());
    } finally {
      await Promise.all(open.map((reader) => reader.cancel()));
    }
  });
});

describe('preventSelfApproval (docs/manual-steps.md)', () => {
  it('refuses whoever triggered the deployment with 403 SELF_APPROVAL before any update, and lets a colleague approve', async () => {
    const { body } = await stack.call('POST', '/api/deployments', { as: 'jjones', body: { project: 'four-eyes', environment: 'production', release: uniqueRelease() } });
    let view = await waitFor(stack, body.id, (v) => v.status === 'Waiting');
    const path = `/api/deployments/${view.id}/interruptions/${view.interruptions[0].id}`;
    const before = await historyLength(view.id);
    const refused = await stack.call('POST', `${path}/take-responsibility`, { as: 'jjones' });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'SELF_APPROVAL', detail: expect.stringContaining('Jamie Jones (jjones) triggered this deployment') });
    expect(await historyLength(view.id)).toBe(before);
    const { body: list } = await stack.call('GET', '/api/interruptions?actionable=true', { as: 'jjones' });
    expect(list.interruptions.map((i: { deployment: { id: string } }) => i.deployment.id)).not.toContain(view.id);

    expect((await stack.call('POST', `${path}/take-responsibility`, { as: 'mlee' })).status).toBe(200);
    expect((await stack.call('POST', `${path}/proceed`, { as: 'mlee' })).status).toBe(200);
    // The second step says preventSelfApproval: false, so jjones may take that one.
    view = await waitFor(stack, view.id, (v) => v.interruptions.length === 2 && v.status === 'Waiting');
    const second = `/api/deployments/${view.id}/interruptions/${view.interruptions[1].id}`;
    expect((await stack.call('POST', `${second}/take-responsibility`, { as: 'jjones' })).status).toBe(200);
    expect((await stack.call('POST', `${second}/proceed`, { as: 'jjones' })).status).toBe(200);
    expect((await waitFor(stack, view.id, (v) => v.finishedAt !== null)).status).toBe('Succeeded');
  });
});

describe('preventSelfApproval covers guided failure: retry and ignore let a deployment go on', () => {
  it('refuses the CI that triggered its own failed test every way with 403 SELF_APPROVAL, before any update; a colleague decides', async () => {
    const { body } = await stack.call('POST', '/api/deployments', { as: 'ci', body: { project: 'self-tested', environment: 'production', release: uniqueRelease() } });
    const view = await waitFor(stack, body.id, (v) => v.status === 'Waiting');
    expect(view.interruptions[0]).toMatchObject({ kind: 'GuidedFailure', step: 'Test', excludedUserIds: ['users-100'] });
    const path = `/api/deployments/${view.id}/interruptions/${view.interruptions[0].id}`;
    const before = await historyLength(view.id);
    for (const action of ['take-responsibility', 'ignore', 'retry', 'fail']) {
      const refused = await stack.call('POST', `${path}/${action}`, { as: 'ci', body: action === 'take-responsibility' ? {} : { notes: 'known flake' } });
      expect(refused.status, action).toBe(403);
      expect(refused.body, action).toMatchObject({ code: 'SELF_APPROVAL', detail: 'CI pipeline (ci) triggered this deployment, and "Test" needs someone else to decide whether it is retried, ignored or failed.' });
    }
    expect(await historyLength(view.id)).toBe(before);
    const { body: list } = await stack.call('GET', '/api/interruptions?actionable=true', { as: 'ci' });
    expect(list.interruptions.map((i: { deployment: { id: string } }) => i.deployment.id)).not.toContain(view.id);

    expect((await stack.call('POST', `${path}/take-responsibility`, { as: 'mlee' })).status).toBe(200);
    expect((await stack.call('POST', `${path}/ignore`, { as: 'mlee', body: { notes: 'known flake, ticket OPS-12' } })).status).toBe(200);
    const done = await waitFor(stack, view.id, (v) => v.finishedAt !== null);
    expect(done.status).toBe('Succeeded');
    expect(done.steps.map((s: { status: string; ignored?: boolean }) => [s.status, s.ignored ?? false])).toEqual([['Failed', true], ['Succeeded', false]]);
  });
});

describe('requiredApprovals (docs/manual-steps.md)', () => {
  it('waits for two distinct people, refuses a second approval by the first, and names both in the outputs', async () => {
    const { body } = await stack.call('POST', '/api/deployments', { as: 'ci', body: { project: 'two-approvals', environment: 'production', release: uniqueRelease() } });
    const view = await waitFor(stack, body.id, (v) => v.status === 'Waiting');
    const path = `/api/deployments/${view.id}/interruptions/${view.interruptions[0].id}`;
    expect(view.interruptions[0]).toMatchObject({ requiredApprovals: 2, approvals: [] });

    expect((await stack.call('POST', `${path}/take-responsibility`, { as: 'jjones' })).status).toBe(200);
    const first = await stack.call('POST', `${path}/proceed`, { as: 'jjones', body: { notes: 'one' } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ state: 'Pending', assignee: null, approvals: [{ user: { username: 'jjones' }, notes: 'one' }] });
    const again = await stack.call('POST', `${path}/take-responsibility`, { as: 'jjones' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('ALREADY_APPROVED');

    expect((await stack.call('POST', `${path}/take-responsibility`, { as: 'mlee' })).status).toBe(200);
    expect((await stack.call('POST', `${path}/proceed`, { as: 'mlee', body: { notes: 'two' } })).body.state).toBe('Proceeded');
    const done = await waitFor(stack, view.id, (v) => v.finishedAt !== null);
    expect(done.status).toBe('Succeeded');
    expect(done.variables).toMatchObject({
      'Action[Approve].Output.Manual.Approvers': 'jjones,mlee',
      'Action[Approve].Output.Manual.ResponsibleUser.Username': 'mlee',
      'Action[Approve].Output.Manual.Notes': 'two',
    });
    expect(done.timeline.filter((e: { action: string }) => e.action === 'proceed').map((e: { reason?: string }) => e.reason)).toEqual(['approval 1 of 2', 'approval 2 of 2']);
  });
});
