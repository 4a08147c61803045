import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CliError, Client } from '../../cli/client.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

/** A server that refuses the first `refusals` requests with 429 (Retry-After: 1), then answers 200. */
async function busyServer(refusals: number): Promise<{ url: string; seen: () => { method: string }[] }> {
  const seen: { method: string }[] = [];
  server = createServer((request, response) => {
    seen.push({ method: request.method ?? '' });
    if (seen.length <= refusals) {
      response.writeHead(429, { 'Content-Type': 'application/problem+json', 'Retry-After': '1' });
      response.end(JSON.stringify({ type: 'about:blank', title: 'Too many requests', status: 429, detail: 'At most 50 waits at once per person.', code: 'RATE_LIMITED' }));
      return;
    }
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify({ status: 'Succeeded' }));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, seen: () => seen };
}

describe('the CLI meets a 429', () => {
  it('asks a read again when the server says, so a pipeline waiting on many deployments is held, not failed', async () => {
    const { url, seen } = await busyServer(2);
    const started = Date.now();
    const answer = await new Client(url, 'token').get<{ status: string }>('/api/deployments/x/wait');
    expect(answer).toEqual({ status: 200, body: { status: 'Succeeded' } });
    expect(seen()).toHaveLength(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
  });

  it('never sends a write twice: a refused trigger is the answer, with the problem', async () => {
    const { url, seen } = await busyServer(1);
    const refused = await new Client(url, 'token').post('/api/deployments', { project: 'p' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(CliError);
    expect((refused as CliError).problem).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(seen()).toEqual([{ method: 'POST' }]);
  });
});
