import { describe, expect, it } from 'vitest';
import { testConfig, useStack, uniqueRelease } from '../support/stack.js';

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
  const items: { id: string; deployment: { id: string }; actions: string[] }[] = [];
  let token: string | null = null;
  let pages = 0;
  do {
    const query: string = `actionable=true&pageSize=${pageSize}${token ? `&pageToken=${token}` : ''}`;
    const { status, body } = await stack.call('GET', `/api/interruptions?${query}`, { as });
    expect(status).toBe(200);
    items.push(...body.interruptions);
    token = body.nextPageToken;
    pages++;
  } while (token);
  return { items, pages };
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await check();
    if (result !== undefined) return result;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe(`${N} deployments waiting at once`, () => {
  it('are all listed, page by page, from visibility alone; all approved; none lost', async () => {
    const ids = await pool(Array.from({ length: N }, () => uniqueRelease()), CONCURRENCY, async (release) => {
      const { status, body } = await stack.call('POST', '/api/deployments', { as: 'ci', body: { project: 'scale', environment: 'production', release } });
      expect(status).toBe(201);
      return body.id as string;
    });

    // Every one appears, each once, across pages of 100, with the interruption from the memo.
    const listed = await until('all to be listed', async () => {
      const { items, pages } = await allInterruptions('mlee', 100);
      return items.length >= N ? { items, pages } : undefined;
    });
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
      const path = `/api/deployments/${item.deployment.id}/interruptions/${(item as unknown as { id: string }).id}`;
      expect((await stack.call('POST', `${path}/take-responsibility`, { as: 'mlee' })).status).toBe(200);
      expect((await stack.call('POST', `${path}/proceed`, { as: 'mlee' })).status).toBe(200);
    });

    const succeeded = await until('all to succeed', async () => {
      const { body } = await stack.call('GET', '/api/deployments?project=scale&status=Succeeded&pageSize=100');
      let count = body.deployments.length;
      let token = body.nextPageToken;
      while (token) {
        const next = await stack.call('GET', `/api/deployments?project=scale&status=Succeeded&pageSize=100&pageToken=${token}`);
        count += next.body.deployments.length;
        token = next.body.nextPageToken;
      }
      return count >= N ? count : undefined;
    });
    expect(succeeded).toBe(N);
    expect((await allInterruptions('admin', 100)).items).toEqual([]);
  }, 300_000);
});
