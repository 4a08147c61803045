import { describe, expect, it } from 'vitest';
import { type Answer, ok, problem } from '../support/api.js';
import { openPage, postForm, signInForForms } from '../support/dashboard.js';
import { sleep, until } from '../support/poll.js';
import { helloService } from '../support/fixtures.js';
import { testConfig, uniqueRelease, useStack, waitFor } from '../support/stack.js';

// Per-person limits, tried as a script that loops would: every refusal is a 429 with Retry-After and
// the code RATE_LIMITED, it comes before any work is done, and it changes nothing.

const config = testConfig(helloService(`
- { name: Approve, type: manual, responsibleTeams: [release-managers] }
`));

// Small limits, so a flood is quick to send; the defaults are in service/rate-limit.ts.
const stack = useStack(config, { actionRatePerMinute: 3, limits: { triggersPerMinute: 10, linksPerMinute: 4 } });

/** A refusal for going over a limit: 429 with Retry-After and the code RATE_LIMITED; its problem. */
async function expectLimited(answer: Answer | Promise<Answer>) {
  const refused = await answer;
  const body = await problem(refused, 429);
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(body.code).toBe('RATE_LIMITED');
  return body;
}

/** How many deployments of this release visibility lists, once it shows at least `expected` and a moment has passed for any more to show. */
async function listed(release: string, expected: number): Promise<number> {
  const count = async () => (await ok(stack.api('vic').api.deployments.$get({ query: { project: 'hello-service', release, pageSize: 100 } }))).deployments.length;
  await until(count, (n) => n >= expected, `visibility to list ${expected} deployments`, { timeoutMs: 20_000, everyMs: 200 });
  await sleep(1_000);
  return count();
}

describe('starting work', () => {
  it('30 triggers at once with a limit of 10: 10 start, 20 get 429 and start nothing; releases, Keptn events and the dashboard share the budget', async () => {
    const release = uniqueRelease();
    const flood = await Promise.all(Array.from({ length: 30 }, (_, i) =>
      stack.trigger({ project: 'hello-service', environment: i % 2 ? 'qa' : 'production', release })));
    expect(flood.filter((answer) => answer.status === 201)).toHaveLength(10);
    const refused = flood.filter((answer) => answer.status !== 201);
    expect(refused).toHaveLength(20);
    const problems = await Promise.all(refused.map((answer) => expectLimited(answer)));
    expect(problems[0]!.detail).toContain('nothing was started');
    expect(await listed(release, 10)).toBe(10);

    // Whatever else starts work, for the same person, waits too, before it is even read.
    const ci = stack.api('ci').api;
    await expectLimited(ci.releases.$post({ json: { project: 'podtatohead', release: '0.1.1' } }));
    await expectLimited(ci.v1.event.$post({ json: { type: 'sh.keptn.event.dev.delivery.triggered', data: { project: 'x' } } }));
    const session = await signInForForms(stack.app, 'ci');
    const page = await postForm(stack.app, session, '/projects/hello-service/deployments', { release, environment: 'qa', variables: '' });
    expect(page.status).toBe(429);
    expect(Number(page.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await page.text()).toContain('deployments, releases and events in a minute; nothing was started');
    expect(await listed(release, 10)).toBe(10);

    // Someone else is not slowed by it.
    await ok(stack.trigger({ project: 'hello-service', environment: 'qa', release: uniqueRelease() }, { as: 'jjones' }), 201);
  });

  it('cancel counts as an action: with a limit of 3, the fourth in a minute is 429 and that deployment goes on waiting', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      ids.push((await ok(stack.trigger({ project: 'hello-service', environment: 'qa', release: uniqueRelease() }, { as: 'mlee' }), 201)).id);
    }
    await Promise.all(ids.map((id) => waitFor(stack, id, (view) => view.status === 'Waiting')));
    const cancel = (id: string) => stack.api('mlee').api.deployments[':id'].cancel.$post({ param: { id } });
    for (const id of ids.slice(0, 3)) await ok(cancel(id), 200);
    await expectLimited(cancel(ids[3]!));
    // The dashboard's buttons share the budget: its cancel form and its take form are refused as well.
    const mlee = await signInForForms(stack.app, 'mlee');
    for (const path of [`/deployments/${ids[3]}/cancel`, `/deployments/${ids[3]}/interruptions/x/take-responsibility`]) {
      const page = await postForm(stack.app, mlee, path);
      expect(page.status).toBe(429);
      expect(Number(page.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await page.text()).toContain('actions in a minute; nothing was done');
    }
    const after = await ok(stack.api('mlee').api.deployments[':id'].$get({ param: { id: ids[3]! } }));
    expect(after.status).toBe('Waiting');
    expect(after.timeline.map((entry) => entry.action)).not.toContain('cancel');
  });
});

describe('one-click links', () => {
  it('are counted per client address before sign-in and per person after it', async () => {
    const link = '/i/made-up.token';
    for (let i = 0; i < 4; i++) expect((await openPage(stack.app, link)).status).toBe(303);
    const limited = await openPage(stack.app, link);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await limited.text()).toContain('decision links opened in a minute');

    // A signed-in person has a budget of their own, whatever their address has spent.
    const { cookie } = await signInForForms(stack.app, 'vic');
    for (let i = 0; i < 4; i++) expect((await openPage(stack.app, link, cookie)).status).toBe(404);
    expect((await openPage(stack.app, link, cookie)).status).toBe(429);
  });
});
