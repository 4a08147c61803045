import { describe, expect, it } from 'vitest';
import { ok, type OpenInterruption } from '../support/api.js';
import { eventually } from '../support/poll.js';
import { testConfig, uniqueRelease, useStack } from '../support/stack.js';

// The scale scenario of `npm run bench:scale`, small: many deployments wait at once, the list of
// interruptions pages through all of them from visibility, every one is approved, none is lost.
// Timing goals live in the benchmark; this asserts what a user would see.
const N = Number(process.env.SCALE_TEST_N ?? 300);
const CONCURRENCY = 16;

const config = testConfig(`
- id: scale
  name: Scale
  environments: [production]
  process:
    - { name: Approve, type: manual, responsibleTeams: [release-managers] }
    - { name: After, type: script, run: 'true' }
`);

const stack = useStack(config);

/** Runs `work` over `items` with at most `limit` at once. */
async function pool<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  }));
  return results;
}

/** Every page of `GET /api/interruptions`, as a client following nextPageToken would read them. */
async function allInterruptions(as: 'mlee' | 'admin', pageSize: number) {
  const items: OpenInterruption[] = [];
  let token: string | null = null;
  let pages = 0;
  do {
    const page: { interruptions: OpenInterruption[]; nextPageToken: string | null } = await ok(stack.api(as).api.interruptions.$get({ query: { actionable: 'true', pageSize, ...(token ? { pageToken: token } : {}) } }));
    items.push(...page.interruptions);
    token = page.nextPageToken;
    pages++;
  } while (token);
  return { items, pages };
}

/** Every page of `GET /api/deployments` of the scale project with this status: how many there are. */
async function countDeployments(status: 'Succeeded') {
  let count = 0;
  let token: string | null = null;
  do {
    const page: { deployments: unknown[]; nextPageToken: string | null } = await ok(stack.api().api.deployments.$get({ query: { project: 'scale', status, pageSize: 100, ...(token ? { pageToken: token } : {}) } }));
    count += page.deployments.length;
    token = page.nextPageToken;
  } while (token);
  return count;
}

const minutes = { timeoutMs: 120_000, everyMs: 250 };

describe(`${N} deployments waiting at once`, () => {
  it('are all listed, page by page, from visibility alone; all approved; none lost', async () => {
    const ids = await pool(Array.from({ length: N }, () => uniqueRelease()), CONCURRENCY, async (release) => {
      return (await ok(stack.trigger({ project: 'scale', environment: 'production', release }), 201)).id;
    });

    // Every one appears, each once, across pages of 100, with the interruption from the memo.
    const listed = await eventually(async () => {
      const { items, pages } = await allInterruptions('mlee', 100);
      return items.length >= N ? { items, pages } : undefined;
    }, 'all to be listed', minutes);
    expect(listed.pages).toBeGreaterThanOrEqual(Math.ceil(N / 100));
    expect(new Set(listed.items.map((item) => item.deployment.id))).toEqual(new Set(ids));
    expect(listed.items.every((item) => item.actions.join() === 'takeResponsibility')).toBe(true);

    // With no worker to answer queries the list still answers: it opens no workflow.
    await stack.stopWorker();
    try {
      const { items } = await allInterruptions('admin', 37);
      expect(items).toHaveLength(N);
    } finally {
      await stack.startWorker();
    }

    await pool(listed.items, CONCURRENCY, async (item) => {
      const at = { id: item.deployment.id, iid: item.id };
      await ok(stack.act('mlee', 'take-responsibility', at));
      await ok(stack.act('mlee', 'proceed', at));
    });

    const succeeded = await eventually(async () => {
      const count = await countDeployments('Succeeded');
      return count >= N ? count : undefined;
    }, 'all to succeed', minutes);
    expect(succeeded).toBe(N);
    expect((await allInterruptions('admin', 100)).items).toEqual([]);
  }, 300_000);
});
