import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { type Answer, type Api, ok, problem, type Who } from '../support/api.js';
import { sleep, until } from '../support/poll.js';
import { helloService } from '../support/fixtures.js';
import { serveOverHttp, type Stack, startStack, testConfig, uniqueRelease, useStack, waitFor } from '../support/stack.js';

// docs/manual-steps.md and docs/http-api.md tried as an attacker would: who may do what on every route, refusals that never
// reach the workflow, a flood that cannot jam an approval, and the race with the workflow's end.
const config = testConfig(`${helloService(`
- { name: Deploy, type: script, run: 'echo deploying' }
- name: Approve
  type: manual
  environments: [production]
  responsibleTeams: [release-managers]
`)}
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

/** A deployment of `project` to production once it waits at its first interruption; where that interruption's actions go. */
async function waitingAt(project: string, on: Pick<Stack, 'trigger' | 'api'> = stack, as: Who = 'ci') {
  const { id } = await ok(on.trigger({ project, environment: 'production', release: uniqueRelease() }, { as }), 201);
  const view = await waitFor(on, id, (v) => v.status === 'Waiting');
  return { id, iid: view.interruptions[0]!.id, view };
}

/** hello-service waiting at its approval, taken by `heldBy` when given. */
async function waiting(heldBy?: Who) {
  const at = await waitingAt('hello-service');
  if (heldBy) await ok(stack.act(heldBy, 'take-responsibility', at));
  return at;
}

/** The deployments whose interruptions `as` may act on now. */
const actionableFor = async (as: Who) => (await ok(stack.api(as).api.interruptions.$get({ query: { actionable: 'true' } }))).interruptions.map((i) => i.deployment.id);

const historyLength = async (id: string) => (await stack.client.workflow.getHandle(id).fetchHistory()).events?.length ?? 0;

describe('every route × every kind of caller (docs/http-api.md)', () => {
  type Cell = number | readonly number[];
  const who = [null, 'vic', 'ci', 'mlee', 'admin'] as const;
  //                            no token  viewer  deployer  team member  admin
  const reads: [string, (api: Api['api'], id: string) => Promise<Answer>, Cell[]][] = [
    ['GET /api/me', (api) => api.me.$get(), [401, 200, 200, 200, 200]],
    ['GET /api/projects', (api) => api.projects.$get(), [401, 200, 200, 200, 200]],
    ['GET /api/deployments', (api) => api.deployments.$get({ query: {} }), [401, 200, 200, 200, 200]],
    ['GET /api/deployments/{id}', (api, id) => api.deployments[':id'].$get({ param: { id } }), [401, 200, 200, 200, 200]],
    ['GET /api/deployments/{id}/wait', (api, id) => api.deployments[':id'].wait.$get({ param: { id }, query: { timeout: 0 } }), [401, 202, 202, 202, 202]],
    ['GET /api/interruptions', (api) => api.interruptions.$get({ query: { actionable: 'true' } }), [401, 200, 200, 200, 200]],
  ];

  /** Each caller's answer is the expected status of its cell; a refusal is a problem. */
  async function expectCell(answer: Answer | Promise<Answer>, cell: Cell | undefined, as: Who | null) {
    const { status } = await answer;
    expect([cell].flat(), `${as ?? 'no token'}: ${status}`).toContain(status);
    if (status >= 400) await problem(answer, status);
  }

  it.each(reads)('%s', async (_, read, expected) => {
    const { id } = await waiting();
    for (const [i, as] of who.entries()) await expectCell(read(stack.api(as).api, id), expected[i], as);
  });

  it('GET /api/deployments/{id}/events', async () => {
    const { id } = await waiting();
    const expected = [401, 200, 200, 200, 200];
    for (const [i, as] of who.entries()) {
      const controller = new AbortController();
      const response = await stack.api(as).api.deployments[':id'].events.$get({ param: { id } }, { init: { signal: controller.signal } });
      expect(response.status, `${as ?? 'no token'}`).toBe(expected[i]);
      controller.abort();
      await response.body?.cancel().catch(() => undefined);
    }
  });

  it('POST /api/deployments', async () => {
    const expected = [401, 403, 201, 201, 201];
    for (const [i, as] of who.entries()) {
      await expectCell(stack.trigger({ project: 'hello-service', environment: 'qa', release: uniqueRelease() }, { as }), expected[i], as);
    }
  });

  it('POST /api/deployments/{id}/cancel', async () => {
    const expected: Cell[] = [401, 403, [200, 202], [200, 202], [200, 202]];
    for (const [i, as] of who.entries()) {
      const { id } = await waiting();
      await expectCell(stack.api(as).api.deployments[':id'].cancel.$post({ param: { id } }), expected[i], as);
    }
  });

  it('POST …/take-responsibility of a pending interruption', async () => {
    const expected = [401, 403, 403, 200, 200];
    const pending = await waiting();
    for (const [i, as] of who.entries()) {
      // Each acceptance changes the interruption, so each accepted cell gets a deployment of its own.
      const at = expected[i] === 200 ? await waiting() : pending;
      await expectCell(stack.act(as, 'take-responsibility', at), expected[i], as);
    }
  });

  it.each(['proceed', 'abort'] as const)('POST …/%s of an interruption jjones holds', async (action) => {
    const callers = [...who, 'jjones'] as const;
    //                no token  viewer  deployer  other member  admin  the assignee
    const expected = [401, 403, 403, 403, 403, 200];
    const held = await waiting('jjones');
    for (const [i, as] of callers.entries()) {
      const at = expected[i] === 200 ? await waiting('jjones') : held;
      await expectCell(stack.act(as, action, at, { notes: 'matrix' }), expected[i], as);
    }
  });
});

describe('refusals that never reach the workflow', () => {
  it('3,000 takes by a viewer are refused by the API alone; the history does not grow; the assignee still decides', async () => {
    const at = await waiting();
    const before = await historyLength(at.id);
    const statuses = new Map<number, number>();
    for (let batch = 0; batch < 30; batch++) {
      const answers = await Promise.all(Array.from({ length: 100 }, () => stack.act('vic', 'take-responsibility', at)));
      for (const { status } of answers) statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 403: 3000 });
    expect(await historyLength(at.id)).toBe(before);

    await ok(stack.act('mlee', 'take-responsibility', at));
    await ok(stack.act('mlee', 'proceed', at, { notes: 'after the flood' }));
    const done = await waitFor(stack, at.id, (v) => v.finishedAt !== null);
    expect(done.status).toBe('Succeeded');
    expect(done.timeline.filter((entry) => entry.user === 'vic')).toEqual([]);
  }, 120_000);

  it('a viewer is told why in words, with the refusal named', async () => {
    const at = await waiting();
    const body = await problem(stack.act('vic', 'take-responsibility', at), 403);
    expect(body).toMatchObject({ code: 'NOT_IN_TEAM', detail: expect.stringContaining('only members of release-managers') });
  });
});

describe('per-person rate limit', () => {
  it('the 31st action in a minute is 429 with Retry-After; another person is not slowed', async () => {
    const limited = await startStack(config, { actionRatePerMinute: 30 });
    try {
      const at = await waitingAt('hello-service', limited);
      for (let i = 0; i < 30; i++) await problem(limited.act('vic', 'take-responsibility', at), 403);
      const limitedAnswer = await limited.act('vic', 'take-responsibility', at);
      expect((await problem(limitedAnswer, 429)).code).toBe('RATE_LIMITED');
      expect(Number(limitedAnswer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      await ok(limited.act('mlee', 'take-responsibility', at));
    } finally {
      await limited.stop();
    }
  });
});

describe('an action racing the workflow\'s end', () => {
  it('is 409, never 404, for every action on a deployment that has just finished', async () => {
    const at = await waiting('mlee');
    await ok(stack.act('mlee', 'proceed', at));
    await stack.client.workflow.getHandle(at.id).result();
    // The workflow has closed: each update now meets a closed execution, as a racing one would.
    for (const [action, as] of [['take-responsibility', 'jjones'], ['proceed', 'mlee'], ['abort', 'mlee']] as const) {
      const body = await problem(stack.act(as, action, at), 409);
      expect(['NOT_WAITING', 'ALREADY_DECIDED'], action).toContain(body.code);
    }
  });
});

describe('the smaller holes', () => {
  it('names that every object has are no assets, no deployments, no pages: plain 404s', async () => {
    for (const path of ['/assets/constructor', '/assets/__proto__', '/assets/toString', '/assets/hasOwnProperty']) {
      expect((await stack.app.request(path)).status, path).toBe(404);
    }
    for (const id of ['constructor', '__proto__']) {
      await problem(stack.api().api.deployments[':id'].$get({ param: { id } }), 404);
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
    const server = await serveOverHttp(stack);
    try {
      const { port } = new URL(server.url);
      /** Without a Content-Length, Node sends the body chunked (in two pieces here); raw, to send what no client would. */
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
      /** A raw answer as the typed helpers read it. */
      const answer = ({ status, text }: { status: number; text: string }): Answer => ({ status, headers: new Headers({ 'content-type': 'application/problem+json' }), text: async () => text });
      for (const chunked of [false, true]) {
        const refused = await send('POST', '/api/deployments', huge, { chunked });
        expect(refused.status, `chunked: ${chunked}`).toBe(413);
        expect((await problem(answer(refused), 413)).detail).toBe('Request bodies may be at most 1 MiB.');
      }
      // A GET may carry no body past the limit either; a small body is read as before.
      expect((await send('GET', '/api/deployments', huge)).status).toBe(413);
      const small = await send('POST', '/api/deployments', JSON.stringify({ project: 'hello-service', environment: 'qa', release }), { chunked: true });
      expect(small.status).toBe(201);
      // Visibility shows the small one; the refused ones, sent before it, started nothing.
      const listed = async () => (await ok(stack.api('ci').api.deployments.$get({ query: { release } }))).deployments;
      await until(listed, (deployments) => deployments.length > 0, 'visibility to list the small one');
      expect(await listed()).toHaveLength(1);

      // A bare take (Content-Length: 0, no type) takes; a body without a type is still refused.
      const { id, iid } = await waiting();
      const path = `/api/deployments/${id}/interruptions/${iid}`;
      expect((await send('POST', `${path}/take-responsibility`, '{"takeOver":true}', { type: '' })).status).toBe(415);
      const taken = await send('POST', `${path}/take-responsibility`, '', { type: '' });
      expect(taken.status, taken.text).toBe(200);
      expect(JSON.parse(taken.text)).toMatchObject({ assignee: { username: 'jjones' } });
      expect((await ok(stack.api().api.deployments[':id'].$get({ param: { id } }))).interruptions[0]?.assignee?.username).toBe('jjones');
    } finally {
      await server.close();
    }
  });

  it('one person holds at most 20 event streams at once; closing one frees a place', async () => {
    const { id } = await waiting();
    const open: ReadableStreamDefaultReader<Uint8Array>[] = [];
    const stream = (as: Who = 'vic') => stack.api(as).api.deployments[':id'].events.$get({ param: { id } });
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
      await problem(refused, 429);
      expect(refused.headers.get('retry-after')).toBe('5');
      // Another person is not affected.
      const other = await stream('mlee');
      expect(other.status).toBe(200);
      await other.body?.cancel();
      await open.shift()!.cancel();
      await sleep(200);
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
    const at = await waitingAt('four-eyes', stack, 'jjones');
    const before = await historyLength(at.id);
    const refused = await problem(stack.act('jjones', 'take-responsibility', at), 403);
    expect(refused).toMatchObject({ code: 'SELF_APPROVAL', detail: expect.stringContaining('Jamie Jones (jjones) triggered this deployment') });
    expect(await historyLength(at.id)).toBe(before);
    expect(await actionableFor('jjones')).not.toContain(at.id);

    await ok(stack.act('mlee', 'take-responsibility', at));
    await ok(stack.act('mlee', 'proceed', at));
    // The second step says preventSelfApproval: false, so jjones may take that one.
    const view = await waitFor(stack, at.id, (v) => v.interruptions.length === 2 && v.status === 'Waiting');
    const second = { id: at.id, iid: view.interruptions[1]!.id };
    await ok(stack.act('jjones', 'take-responsibility', second));
    await ok(stack.act('jjones', 'proceed', second));
    expect((await waitFor(stack, at.id, (v) => v.finishedAt !== null)).status).toBe('Succeeded');
  });
});

describe('preventSelfApproval covers guided failure: retry and ignore let a deployment go on', () => {
  it('refuses the CI that triggered its own failed test every way with 403 SELF_APPROVAL, before any update; a colleague decides', async () => {
    const at = await waitingAt('self-tested');
    expect(at.view.interruptions[0]).toMatchObject({ kind: 'GuidedFailure', step: 'Test', excludedUserIds: ['users-100'] });
    const before = await historyLength(at.id);
    for (const action of ['take-responsibility', 'ignore', 'retry', 'fail'] as const) {
      const refused = await problem(stack.act('ci', action, at, action === 'take-responsibility' ? {} : { notes: 'known flake' }), 403);
      expect(refused, action).toMatchObject({ code: 'SELF_APPROVAL', detail: 'CI pipeline (ci) triggered this deployment, and "Test" needs someone else to decide whether it is retried, ignored or failed.' });
    }
    expect(await historyLength(at.id)).toBe(before);
    expect(await actionableFor('ci')).not.toContain(at.id);

    await ok(stack.act('mlee', 'take-responsibility', at));
    await ok(stack.act('mlee', 'ignore', at, { notes: 'known flake, ticket OPS-12' }));
    const done = await waitFor(stack, at.id, (v) => v.finishedAt !== null);
    expect(done.status).toBe('Succeeded');
    expect(done.steps.map((s) => [s.status, s.ignored ?? false])).toEqual([['Failed', true], ['Succeeded', false]]);
  });
});

describe('requiredApprovals (docs/manual-steps.md)', () => {
  it('waits for two distinct people, refuses a second approval by the first, and names both in the outputs', async () => {
    const at = await waitingAt('two-approvals');
    expect(at.view.interruptions[0]).toMatchObject({ requiredApprovals: 2, approvals: [] });

    await ok(stack.act('jjones', 'take-responsibility', at));
    const first = await ok(stack.act('jjones', 'proceed', at, { notes: 'one' }));
    expect(first).toMatchObject({ state: 'Pending', assignee: null, approvals: [{ user: { username: 'jjones' }, notes: 'one' }] });
    const again = await problem(stack.act('jjones', 'take-responsibility', at), 409);
    expect(again.code).toBe('ALREADY_APPROVED');

    await ok(stack.act('mlee', 'take-responsibility', at));
    expect((await ok(stack.act('mlee', 'proceed', at, { notes: 'two' }))).state).toBe('Proceeded');
    const done = await waitFor(stack, at.id, (v) => v.finishedAt !== null);
    expect(done.status).toBe('Succeeded');
    expect(done.variables).toMatchObject({
      'Action[Approve].Output.Manual.Approvers': 'jjones,mlee',
      'Action[Approve].Output.Manual.ResponsibleUser.Username': 'mlee',
      'Action[Approve].Output.Manual.Notes': 'two',
    });
    expect(done.timeline.filter((e) => e.action === 'proceed').map((e) => e.reason)).toEqual(['approval 1 of 2', 'approval 2 of 2']);
  });
});
