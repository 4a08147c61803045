import { readFileSync } from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EXAMPLE_CONFIG_PATH, parseConfig } from '../../config/load.js';
import type { AuditEvent } from '../../core/cloud-events.js';
import { problem, tokens } from '../support/api.js';
import { openPage, postForm, signIn, signInForForms } from '../support/dashboard.js';
import { helloService } from '../support/fixtures.js';
import { startWebhookReceiver } from '../support/receivers.js';
import { type Stack, startStack } from '../support/stack.js';

/**
 * The audit trail as a security team meets it: every sign-in, sign-out, refused sign-in and refused
 * action is one log line with `audit: true`, and a CloudEvent `dev.interlock.audit.*` on the
 * webhooks subscribed to audit events (and on no other), with never a token in either.
 */
let stack: Stack;
let siem: Awaited<ReturnType<typeof startWebhookReceiver>>;
let chat: Awaited<ReturnType<typeof startWebhookReceiver>>;
let everything: Awaited<ReturnType<typeof startWebhookReceiver>>;
const lines: Record<string, unknown>[] = [];
/** Audit records a minute to the channels, low enough for a flood to pass it quickly. */
const RATE = 20;

beforeAll(async () => {
  [siem, chat, everything] = await Promise.all([startWebhookReceiver(), startWebhookReceiver(), startWebhookReceiver()]);
  const example = parseConfig(readFileSync(EXAMPLE_CONFIG_PATH, 'utf8'), EXAMPLE_CONFIG_PATH);
  const config = parseConfig(`
teams: ${JSON.stringify(example.teams.map(({ grants: _scoped, ...team }) => team))}
users: ${JSON.stringify(example.users.map(({ grants: _scoped, ...user }) => user))}
projects:
${helloService('- { name: Deploy, type: script, run: "echo deploying" }').replace(/^/gm, '  ')}
notifications:
  channels:
    - { id: siem, webhook: { url: '${siem.url}' } }
    - { id: chat, webhook: { url: '${chat.url}', format: slack } }
    - { id: everything, webhook: { url: '${everything.url}' } }
  subscriptions:
    - { events: ['audit.*'], channels: [siem] }
    - { events: [dev.interlock.audit.refused], channels: [chat] }
    - { events: ['*'], channels: [everything] }
`);
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  stack = await startStack(config, { logger, limits: { auditEventsPerMinute: RATE } });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await Promise.all([siem?.close(), chat?.close(), everything?.close()]);
});

const audited = (action: string) => lines.filter((line) => line.audit === true && line.action === action);
const received = (receiver: typeof siem, type: string) =>
  receiver.deliveries.flatMap((delivery) => (delivery.event?.type === type ? [delivery.event as unknown as AuditEvent] : []));

describe('the audit trail', () => {
  it('records a dashboard sign-in and sign-out, as a log line and as a CloudEvent to the audit subscription', async () => {
    const session = await signInForForms(stack.app, 'mlee');
    const signedOut = await postForm(stack.app, session, '/sign-out');
    expect(signedOut.status).toBe(303);

    const [signedIn] = audited('signed-in').filter((line) => (line.actor as { username: string }).username === 'mlee');
    expect(signedIn).toMatchObject({ audit: true, actor: { id: 'users-238', username: 'mlee', via: 'token' }, request: { method: 'POST', path: '/sign-in' } });
    expect(audited('signed-out').at(-1)).toMatchObject({ actor: { username: 'mlee' }, request: { path: '/sign-out' } });

    await vi.waitFor(() => {
      const [event] = received(siem, 'dev.interlock.audit.signed-in');
      expect(event).toMatchObject({ specversion: '1.0', source: 'http://interlock.test', data: { action: 'signed-in', actor: { username: 'mlee' } } });
      expect(received(siem, 'dev.interlock.audit.signed-out')).toHaveLength(1);
    }, { timeout: 20_000, interval: 100 });
  }, 30_000);

  it('records a refused sign-in and a refused action with the reason, and never the token tried', async () => {
    const wrong = 'not-anyones-token-4711';
    const refusedSignIn = await stack.app.request('/sign-in', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'http://localhost', Host: 'localhost' },
      body: `token=${wrong}&next=%2F`,
    });
    expect(refusedSignIn.status).toBe(401);
    await problem(stack.api(null, { Authorization: `Bearer ${wrong}` }).api.deployments.$get({ query: {} }), 401);
    // A viewer may not deploy.
    const refused = await problem(stack.trigger({ project: 'hello-service', environment: 'qa', release: '1.0.0' }, { as: 'vic' }), 403);

    expect(audited('sign-in-refused').map((line) => line.request)).toEqual([
      { method: 'POST', path: '/sign-in' },
      { method: 'GET', path: '/api/deployments' },
    ]);
    expect(audited('refused').at(-1)).toMatchObject({ actor: { username: 'vic' }, reason: refused.detail, code: refused.code, request: { method: 'POST', path: '/api/deployments' } });

    await vi.waitFor(() => {
      expect(received(siem, 'dev.interlock.audit.sign-in-refused')).toHaveLength(2);
      const [event] = received(siem, 'dev.interlock.audit.refused');
      expect(event?.data).toMatchObject({ action: 'refused', actor: { username: 'vic' }, code: refused.code });
      // The chat channel subscribed to refusals alone, and gets them in words.
      const [message] = chat.deliveries.map((delivery) => delivery.json as { text: string });
      expect(message?.text).toMatch(/^Interlock audit: vic \(token\): refused — .+ \[POST \/api\/deployments\]$/);
    }, { timeout: 20_000, interval: 100 });
    expect(chat.deliveries).toHaveLength(1);

    const everywhere = [JSON.stringify(lines), ...[siem, chat].flatMap((receiver) => receiver.deliveries.map((delivery) => delivery.body.toString('utf8')))];
    for (const text of everywhere) {
      expect(text).not.toContain(wrong);
      for (const token of Object.values(tokens)) expect(text).not.toContain(token);
    }
  }, 30_000);

  it('keeps audit events from a subscription to every event', () => {
    expect(everything.deliveries.filter((delivery) => delivery.event?.type.startsWith('dev.interlock.audit.'))).toEqual([]);
  });

  it('logs a flood of refusals in full, and sends the channels no more than its rate', async () => {
    const flood = 2 * RATE;
    const logged = audited('sign-in-refused').length;
    await Promise.all(Array.from({ length: flood }, () => stack.app.request('/api/deployments', { headers: { Authorization: 'Bearer flood' } })));
    const records = audited('sign-in-refused').slice(logged);
    expect(records).toHaveLength(flood);
    const logOnly = records.filter((line) => line.notSent !== undefined);
    expect(logOnly.length).toBeGreaterThanOrEqual(flood - RATE);
    expect(logOnly[0]!.notSent).toBe(`over ${RATE} audit records a minute (INTERLOCK_AUDIT_RATE): in this log only`);
    // What the rate let through reaches the channel (after the two refused sign-ins before), and nothing more.
    await vi.waitFor(() => expect(received(siem, 'dev.interlock.audit.sign-in-refused')).toHaveLength(2 + flood - logOnly.length), { timeout: 20_000, interval: 100 });
  }, 60_000);

  it('a signed-in session is recorded once, whichever page it opens next', async () => {
    const count = audited('signed-in').length;
    const cookie = await signIn(stack.app, 'jjones');
    for (const path of ['/', '/projects']) expect((await openPage(stack.app, path, cookie)).status).toBe(200);
    expect(audited('signed-in').length).toBe(count + 1);
  });
});
