import { CancelledFailure } from '@temporalio/common';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { type Notifications, NotificationsSchema } from '../../config/notifications.js';
import { createNotificationActivities, type NotifierDeps } from '../../activities/deliver-notification.js';
import type { DeliverNotificationInput } from '../../workflows/activity-contract.js';
import type { CloudEvent, EventData } from '../../core/cloud-events.js';
import type { Interruption } from '../../core/interruptions.js';
import { freePort } from '../../temporal/dev-server.js';
import { activityEnvironment, failureOf, runActivity } from '../support/activities.js';
import { signatureIsValid, startSmtpServer, startWebhookReceiver } from '../support/receivers.js';

// docs/notifications.md, as receivers meet it: deliverNotification in an activity context, against a real HTTP
// receiver that checks signatures as GitHub's users do, and a real SMTP server.

const LITERAL_SECRET = 'literal-s3cret-do-not-log';
const ENV_SECRET = 'env-s3cret-do-not-log';
const SMTP_PASSWORD = 'smtp-p4ss-do-not-log';
const PUBLIC_URL = 'http://interlock.test:3000';
const DEPLOYMENT_ID = 'hello-service:production:1.4.2:abc123';

const users: NotifierDeps['config']['users'] = [
  { id: 'users-237', username: 'jjones', displayName: 'Jamie Jones', email: 'jamie.jones@example.com', teams: ['release-managers'], roles: ['deployer'] },
  { id: 'users-238', username: 'mlee', displayName: 'Morgan Lee', email: 'morgan.lee@example.com', teams: ['release-managers'], roles: ['viewer'] },
  { id: 'users-239', username: 'nomail', displayName: 'No Mail', teams: ['release-managers'], roles: ['deployer'] },
  { id: 'users-300', username: 'otto', displayName: 'Otto Outsider', email: 'otto@example.com', teams: ['dba'], roles: ['deployer'] },
  { id: 'users-1', username: 'root', displayName: 'Ada Admin', email: 'ada@example.com', teams: [], roles: ['admin'] },
  { id: 'users-400', username: 'vic', displayName: 'Vic Viewer', email: 'vic@example.com', teams: [], roles: ['viewer'] },
];

/** Statuses the receiver answers with, in turn (200 when none is left; 0: no answer at all, the sender's timeout must end it). */
let answers: number[] = [];
const receiver = await startWebhookReceiver(() => {
  const status = answers.shift() ?? 200;
  return status === 429 ? { status, headers: { 'retry-after': '7' } } : status;
});
const received = receiver.deliveries;
const receiverUrl = receiver.origin;

/** Recipients the SMTP server answers with this reply code instead of accepting them. */
const rejectRecipients = new Map<string, number>();
const smtp = await startSmtpServer({ login: { user: 'interlock', password: SMTP_PASSWORD }, refuse: (address) => rejectRecipients.get(address) });
const mails = smtp.mails;
const smtpPort = smtp.port;

afterAll(async () => {
  await receiver.close();
  await smtp.close();
});

afterEach(() => {
  received.length = 0;
  mails.length = 0;
  answers = [];
  rejectRecipients.clear();
});

/** A port nothing listens on: bound, then let go. */
const closedPort = freePort;

const notifications = (channels: string): Notifications =>
  NotificationsSchema.parse({ channels: JSON.parse(channels) as unknown, subscriptions: [] });

/** What signLink was asked for, and the token it gave: `tok-<n>`, so each link's token can be traced to its claims. */
const signed: { claims: Parameters<NotifierDeps['signLink']>[0]; token: string }[] = [];
function activities(channels: Notifications, env: NodeJS.ProcessEnv = {}) {
  return createNotificationActivities({
    config: { teams: [{ id: 'release-managers', name: 'Release managers' }, { id: 'dba', name: 'DBAs' }], users, notifications: channels },
    env,
    publicUrl: `${PUBLIC_URL}/`,
    signLink(claims) {
      const token = `tok-${signed.length + 1}.${claims.userId}`;
      signed.push({ claims, token });
      return token;
    },
  });
}
const tokenFor = (userId: string) => signed.filter((entry) => entry.claims.userId === userId).at(-1)?.token;

const interruption = (overrides: Partial<Interruption> = {}): Interruption => ({
  id: 'intr-1',
  kind: 'Manual',
  step: 'Ensure traders are aware of the deployment',
  state: 'Pending',
  instructions: 'Tell the trading desk that 1.4.2 goes live.\n<script>alert("pwned")</script> & call Rick',
  responsibleTeams: ['release-managers'],
  assignee: null,
  notes: null,
  createdAt: '2025-01-01T09:00:00.000Z',
  decidedAt: null,
  timeoutAt: '2099-01-04T09:00:00.000Z',
  onTimeout: 'abort',
  ...overrides,
});

let sequence = 0;
const event = (name: string, data: Partial<EventData> = {}): CloudEvent => ({
  specversion: '1.0',
  id: `evt-${++sequence}-${name}`,
  source: 'interlock',
  type: `dev.interlock.${name}`,
  time: new Date().toISOString(),
  datacontenttype: 'application/json',
  data: { project: 'hello-service', environment: 'production', release: '1.4.2', deployment: { id: DEPLOYMENT_ID, status: 'Waiting' }, ...data },
});
const created = (overrides: Partial<Interruption> = {}) => event('interruption.created', { step: 'Ensure traders are aware of the deployment', interruption: interruption(overrides) });

/** Runs the activity as attempt `attempt` (with the heartbeat an earlier attempt left). */
const deliver = (acts: ReturnType<typeof activities>, input: DeliverNotificationInput, info: { attempt?: number; heartbeatDetails?: unknown } = {}) =>
  runActivity(acts.deliverNotification, [input], info);

describe('webhooks', () => {
  it('POSTs the CloudEvent, signed over its exact bytes, with decision links for each person who may act', async () => {
    const acts = activities(notifications(JSON.stringify([{ id: 'ops-hook', webhook: { url: `${receiverUrl}/hook?token=abc`, secret: LITERAL_SECRET } }])));
    const sent = created({ excludedUserIds: ['users-237'] });
    const { log } = await deliver(acts, { channel: 'ops-hook', event: sent });

    expect(received).toHaveLength(1);
    const [request] = received;
    expect(signatureIsValid(LITERAL_SECRET, request!)).toBe(true);
    expect(signatureIsValid('another secret', request!)).toBe(false);
    expect(request!.url).toBe('/hook?token=abc');
    expect(request!.headers['content-type']).toBe('application/cloudevents+json; charset=utf-8');
    expect(request!.headers['idempotency-key']).toBe(sent.id);
    expect(request!.headers['user-agent']).toBe('Interlock');
    expect(request!.headers['x-interlock-event']).toBe('dev.interlock.interruption.created');

    const body = JSON.parse(request!.body.toString('utf8')) as CloudEvent & { data: { links: { decide: { username: string; url: string }[]; deployment: string } } };
    expect({ ...body, data: { ...body.data, links: undefined } }).toEqual({ ...sent, data: { ...sent.data, links: undefined } });
    expect(body.data.links.deployment).toBe(`${PUBLIC_URL}/deployments/${encodeURIComponent(DEPLOYMENT_ID)}`);
    // The team's members (a viewer in the team too) and the admin; not whoever triggered it, nobody outside.
    expect(body.data.links.decide.map(({ username }) => username)).toEqual(['mlee', 'nomail', 'root']);
    for (const { username, url } of body.data.links.decide) {
      const user = users.find((candidate) => candidate.username === username)!;
      expect(url).toBe(`${PUBLIC_URL}/i/${tokenFor(user.id)}`);
      expect(signed.find((entry) => entry.token === tokenFor(user.id))!.claims).toEqual({
        deploymentId: DEPLOYMENT_ID,
        interruptionId: 'intr-1',
        userId: user.id,
        expiresAt: '2099-01-04T09:00:00.000Z',
      });
    }
    expect(log).toMatch(new RegExp(`^ops-hook: POST ${receiverUrl}/hook → 200 in \\d+ ms$`));
  });

  it('a decided interruption carries no decision links; without a timeout a link is signed for a year at most', async () => {
    const acts = activities(notifications(JSON.stringify([{ id: 'h', webhook: { url: receiverUrl } }])));
    await deliver(acts, { channel: 'h', event: event('interruption.decided', { interruption: interruption({ state: 'Proceeded', decidedAt: new Date().toISOString() }) }) });
    expect((JSON.parse(received[0]!.body.toString()) as { data: { links: Record<string, unknown> } }).data.links.decide).toBeUndefined();
    // No secret, no signature.
    expect(received[0]!.headers['x-interlock-signature']).toBeUndefined();

    signed.length = 0;
    const before = Date.now();
    await deliver(acts, { channel: 'h', event: created({ timeoutAt: null, responsibleTeams: [] }) });
    // No responsible team: every deployer and admin.
    expect(signed.map((entry) => entry.claims.userId)).toEqual(['users-237', 'users-239', 'users-300', 'users-1']);
    const lifetime = Date.parse(signed[0]!.claims.expiresAt) - before;
    // Only a bound: the link works while the interruption is open, which its page checks when opened.
    expect(lifetime).toBeGreaterThanOrEqual(365 * 86_400_000);
    expect(lifetime).toBeLessThan(365 * 86_400_000 + 60_000);
  });

  it('503 is retryable and the retried attempt carries the same Idempotency-Key and a valid signature', async () => {
    const acts = activities(notifications(JSON.stringify([{ id: 'ops-hook', webhook: { url: `${receiverUrl}/hook?key=${ENV_SECRET}`, secret: { env: 'OPS_HOOK_SECRET' } } }])), {
      OPS_HOOK_SECRET: ENV_SECRET,
    });
    const sent = created();
    answers = [503];
    const failure = await failureOf(deliver(acts, { channel: 'ops-hook', event: sent }));
    expect(failure.nonRetryable).toBe(false);
    expect(failure.type).toBe('NotificationFailed');
    expect(failure.message).toMatch(new RegExp(`^ops-hook: POST ${receiverUrl}/hook → 503 in \\d+ ms; will try again$`));

    const { log } = await deliver(acts, { channel: 'ops-hook', event: sent }, { attempt: 2 });
    expect(log).toMatch(/→ 200 in \d+ ms \(attempt 2\)$/);
    expect(received).toHaveLength(2);
    expect(received.map((request) => request.headers['idempotency-key'])).toEqual([sent.id, sent.id]);
    for (const request of received) expect(signatureIsValid(ENV_SECRET, request)).toBe(true);
    for (const text of [failure.message, log]) {
      expect(text).not.toContain(ENV_SECRET);
      expect(text).not.toContain('?');
    }
  });

  it('429 asks for a later retry as the receiver said (Retry-After); 408 is retryable', async () => {
    const acts = activities(notifications(JSON.stringify([{ id: 'h', webhook: { url: receiverUrl } }])));
    answers = [429, 408];
    const busy = await failureOf(deliver(acts, { channel: 'h', event: created() }));
    expect(busy.nonRetryable).toBe(false);
    expect(busy.nextRetryDelay).toBe(7000);
    expect(busy.message).toContain('→ 429');
    const slow = await failureOf(deliver(acts, { channel: 'h', event: created() }));
    expect(slow.nonRetryable).toBe(false);
  });

  it('400 is not retryable: the receiver refused it', async () => {
    const acts = activities(notifications(JSON.stringify([{ id: 'ops-hook', webhook: { url: receiverUrl, secret: LITERAL_SECRET } }])));
    answers = [400];
    const failure = await failureOf(deliver(acts, { channel: 'ops-hook', event: created() }));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe('NotificationRefused');
    expect(failure.message).toMatch(/^ops-hook: POST http:\/\/127\.0\.0\.1:\d+\/ → 400 in \d+ ms: the receiver refused it; trying again would not help$/);
    expect(failure.message).not.toContain(LITERAL_SECRET);
  });

  it('a receiver that is down, or does not answer in time, is retryable', async () => {
    const port = await closedPort();
    const acts = activities(
      notifications(JSON.stringify([
        { id: 'down', webhook: { url: `http://127.0.0.1:${port}/hook?secret=x`, secret: LITERAL_SECRET } },
        { id: 'slow', webhook: { url: `${receiverUrl}/slow`, secret: LITERAL_SECRET, timeout: '300ms' } },
      ])),
    );
    const down = await failureOf(deliver(acts, { channel: 'down', event: created() }));
    expect(down.nonRetryable).toBe(false);
    expect(down.message).toMatch(new RegExp(`^down: POST http://127\\.0\\.0\\.1:${port}/hook failed: .*ECONNREFUSED`));

    answers = [0];
    const slow = await failureOf(deliver(acts, { channel: 'slow', event: created() }));
    expect(slow.nonRetryable).toBe(false);
    expect(slow.message).toMatch(/^slow: POST http:\/\/127\.0\.0\.1:\d+\/slow failed: no answer within 300 ms$/);
    for (const failure of [down, slow]) expect(`${failure.message} ${JSON.stringify(failure)}`).not.toContain(LITERAL_SECRET);
  });

  it('a cancelled delivery ends as cancelled, not as a failed one', async () => {
    const acts = activities(notifications(JSON.stringify([{ id: 'slow', webhook: { url: `${receiverUrl}/slow`, timeout: '1m' } }])));
    answers = [0];
    const env = activityEnvironment();
    const delivery = env.run(acts.deliverNotification, { channel: 'slow', event: created() });
    await vi.waitFor(() => expect(received).toHaveLength(1));
    env.cancel();
    await expect(delivery).rejects.toBeInstanceOf(CancelledFailure);
  });

  it('Slack: { text, blocks } as its incoming webhooks take them, signed too', async () => {
    const acts = activities(notifications(JSON.stringify([{ id: 'slack', webhook: { url: `${receiverUrl}/services/T000/B000/XXXXSECRET`, format: 'slack', secret: LITERAL_SECRET } }])));
    const { log } = await deliver(acts, { channel: 'slack', event: created() });
    const [request] = received;
    expect(request!.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(signatureIsValid(LITERAL_SECRET, request!)).toBe(true);
    const message = JSON.parse(request!.body.toString()) as { text: string; blocks: { type: string; text?: { text: string }; elements?: { url?: string; text: unknown }[] }[] };
    expect(Object.keys(message).sort()).toEqual(['blocks', 'text']);
    expect(message.text).toContain('"Ensure traders are aware of the deployment" is waiting for someone to take responsibility in hello-service 1.4.2 to production.');
    expect(message.blocks[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: expect.stringContaining('is waiting') as string } });
    const instructions = message.blocks.find((block) => block.text?.text.startsWith('*Instructions*'));
    expect(instructions!.text!.text).toBe('*Instructions*\nTell the trading desk that 1.4.2 goes live.\n&lt;script&gt;alert("pwned")&lt;/script&gt; &amp; call Rick');
    expect(message.blocks.at(-1)).toEqual({
      type: 'actions',
      elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open the deployment' }, url: `${PUBLIC_URL}/deployments/${encodeURIComponent(DEPLOYMENT_ID)}` }],
    });
    // Slack's webhook path is its secret: the log names only its start.
    expect(log).toMatch(/^slack: POST http:\/\/127\.0\.0\.1:\d+\/services\/… → 200 in \d+ ms$/);
  });

  it('Slack: the context to decide — the previous release and who approved it, what changed, the release notes as text', async () => {
    const acts = activities(notifications(JSON.stringify([{ id: 'slack', webhook: { url: `${receiverUrl}/services/T000/B000/XXXXSECRET`, format: 'slack' } }])));
    const context: Interruption['context'] = {
      releaseNotes: 'Faster checkout <!channel> [x](javascript:alert(1))',
      previous: {
        deploymentId: 'hello-service:production:1.4.1:def',
        release: '1.4.1',
        finishedAt: '2025-01-01T08:00:00.000Z',
        triggeredBy: 'ci',
        approvedBy: [{ username: 'mlee', displayName: 'Morgan Lee', step: 'Sign-off', at: '2025-01-01T07:59:00.000Z' }],
      },
      changedVariables: [{ name: 'IMAGE_TAG', from: '1.4.1', to: '1.4.2' }, { name: 'DB_PASSWORD', from: '********', to: '********' }],
      evaluation: { step: 'Quality gate', result: 'pass', score: 95 },
      remaining: { rules: [], mayApprove: ['jjones', 'mlee'] },
    };
    await deliver(acts, { channel: 'slack', event: created({ context }) });
    const message = JSON.parse(received[0]!.body.toString()) as { blocks: { fields?: { text: string }[]; text?: { text: string } }[] };
    const fields = message.blocks.flatMap((block) => block.fields ?? []).map((field) => field.text);
    expect(fields).toContain('*Previous in production*\n1.4.1 (by ci, finished 2025-01-01 08:00 UTC); approved by Morgan Lee (mlee) at 2025-01-01 07:59 UTC');
    expect(fields).toContain('*Changed*\nIMAGE_TAG 1.4.1 → 1.4.2; DB_PASSWORD ******** → ********');
    expect(fields).toContain('*Evaluation*\nQuality gate: pass (score 95)');
    const notes = message.blocks.find((block) => block.text?.text.startsWith('*Release notes*'));
    expect(notes!.text!.text).toBe('*Release notes*\nFaster checkout &lt;!channel&gt; [x](javascript:alert(1))');
  });

  it('a channel the worker does not know, or a secret missing from its environment, is not retryable', async () => {
    const acts = activities(notifications(JSON.stringify([{ id: 'ops-hook', webhook: { url: receiverUrl, secret: { env: 'OPS_HOOK_SECRET' } } }])));
    const unknown = await failureOf(deliver(acts, { channel: 'pager', event: created() }));
    expect(unknown).toMatchObject({ nonRetryable: true, type: 'NotificationMisconfigured', message: 'There is no notification channel "pager" in the worker\'s config (channels: ops-hook)' });
    const missing = await failureOf(deliver(acts, { channel: 'ops-hook', event: created() }));
    expect(missing).toMatchObject({
      nonRetryable: true,
      type: 'NotificationMisconfigured',
      message: "ops-hook: the webhook's secret comes from OPS_HOOK_SECRET, which is not set in the worker's environment",
    });
    expect(received).toHaveLength(0);
  });
});

describe('events posted by a caller (an external task\'s .started/.finished)', () => {
  const evil = 'https://evil.example/phish';
  /** What an executor might post, dressed as Interlock's own: a link, an open interruption, a deployment; an id it chose. */
  const posted = (): CloudEvent => ({
    specversion: '1.0',
    id: `chosen-${++sequence}`,
    source: 'job-executor',
    type: 'sh.keptn.event.je-test.finished',
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    shkeptncontext: 'ctx-1',
    triggeredid: 'trig-1',
    interlockpostedby: 'je-bot',
    data: {
      project: 'hello-service',
      stage: 'qa',
      result: 'pass',
      status: 'succeeded',
      message: 'all green',
      links: { deployment: evil },
      deployment: { id: DEPLOYMENT_ID, status: 'Waiting' },
      interruption: interruption({ instructions: `Approve at ${evil}`, timeoutAt: '2999-01-01T00:00:00.000Z', responsibleTeams: ['release-managers'] }),
      escalatedTeams: ['dba'],
    },
  });

  it('reaches a CloudEvents webhook as its poster\'s: its source and id, marked, none of Interlock\'s fields or links, a key of Interlock\'s own', async () => {
    const acts = activities(notifications(JSON.stringify([{ id: 'ops-hook', webhook: { url: receiverUrl, secret: LITERAL_SECRET } }])));
    const sent = posted();
    const signedBefore = signed.length;
    answers = [503];
    await failureOf(deliver(acts, { channel: 'ops-hook', event: sent }));
    await deliver(acts, { channel: 'ops-hook', event: sent }, { attempt: 2 });
    expect(received).toHaveLength(2);
    const body = JSON.parse(received[0]!.body.toString()) as CloudEvent;
    expect(body).toEqual({ ...sent, data: { project: 'hello-service', stage: 'qa', result: 'pass', status: 'succeeded', message: 'all green' } });
    expect(signatureIsValid(LITERAL_SECRET, received[0]!)).toBe(true);
    const keys = received.map((request) => request.headers['idempotency-key']);
    expect(keys[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(keys).toEqual([keys[0], keys[0]]);
    expect(keys).not.toContain(sent.id);
    expect(received[0]!.body.toString()).not.toContain('evil.example');
    expect(signed).toHaveLength(signedBefore);
  });

  it('never becomes an email or a Slack message, whoever its made-up interruption names', async () => {
    const acts = activities(
      notifications(JSON.stringify([
        { id: 'mail', email: {} },
        { id: 'team-mail', email: { to: ['team:release-managers', 'ops@example.com'] } },
        { id: 'slack', webhook: { url: `${receiverUrl}/services/T0/B0/X`, format: 'slack' } },
      ])),
      { SMTP_URL: `smtp://interlock:${SMTP_PASSWORD}@127.0.0.1:${smtpPort}` },
    );
    const sent = posted();
    const signedBefore = signed.length;
    for (const channel of ['mail', 'team-mail', 'slack']) {
      const { log } = await deliver(acts, { channel, event: sent });
      expect(log).toBe(`${channel}: not sent: sh.keptn.event.je-test.finished was posted by je-bot, and a posted event goes only to CloudEvents webhooks, never to email or chat`);
    }
    expect(mails).toHaveLength(0);
    expect(received).toHaveLength(0);
    expect(signed).toHaveLength(signedBefore);
  });

  it('an event whose id a trigger chose keeps it, but not as the Idempotency-Key nor in a Message-ID', async () => {
    const acts = activities(
      notifications(JSON.stringify([{ id: 'h', webhook: { url: receiverUrl } }, { id: 'mail', email: { to: ['ops@example.com'] } }])),
      { SMTP_URL: `smtp://interlock:${SMTP_PASSWORD}@127.0.0.1:${smtpPort}` },
    );
    const chosen = { ...event('x'), type: 'sh.keptn.event.qa.delivery.triggered', id: 'evt-1-interruption.created' };
    await deliver(acts, { channel: 'h', event: chosen, foreignId: true });
    expect(JSON.parse(received[0]!.body.toString()).id).toBe(chosen.id);
    expect(received[0]!.headers['idempotency-key']).not.toBe(chosen.id);
    await deliver(acts, { channel: 'mail', event: chosen, foreignId: true });
    await deliver(acts, { channel: 'mail', event: chosen });
    const [own, taken] = mails.map((mail) => mail.parsed.messageId);
    expect(own).not.toBe(taken);
  });
});

describe('email', () => {
  const smtpUrl = (password = SMTP_PASSWORD) => `smtp://interlock:${password}@127.0.0.1:${smtpPort}`;
  const mailChannel = (email: Record<string, unknown> = {}) => notifications(JSON.stringify([{ id: 'mail', email }]));

  it('one message per team member, each with their own decision link, in text and HTML, instructions escaped', async () => {
    const acts = activities(mailChannel({ to: ['team:release-managers'] }), { SMTP_URL: smtpUrl() });
    const sent = created();
    const { log } = await deliver(acts, { channel: 'mail', event: sent });

    expect(mails.map((mail) => mail.to)).toEqual([['jamie.jones@example.com'], ['morgan.lee@example.com']]);
    expect(log).toMatch(new RegExp(`^mail: SMTP smtp://127\\.0\\.0\\.1:${smtpPort} → 2 messages \\(jamie\\.jones@example\\.com, morgan\\.lee@example\\.com\\) in \\d+ ms; skipped: nomail \\(no email address\\)$`));
    for (const [mail, user] of [[mails[0]!, users[0]!], [mails[1]!, users[1]!]] as const) {
      const { parsed } = mail;
      expect(mail.user).toBe('interlock');
      expect(mail.from).toBe('interlock@localhost');
      expect(parsed.from?.value).toEqual([{ name: 'Interlock', address: 'interlock@localhost' }]);
      expect(parsed.subject).toBe('[Interlock] Waiting for you: Ensure traders are aware of the deployment — hello-service 1.4.2 to production');
      expect(parsed.headers.get('auto-submitted')).toBe('auto-generated');

      const links = [...(parsed.text ?? '').matchAll(/https?:\/\/\S+\/i\/(\S+)/g)].map((match) => decodeURIComponent(match[1]!));
      expect(links).toEqual([tokenFor(user.id)]);
      expect(signed.find((entry) => entry.token === links[0])!.claims).toEqual({ deploymentId: DEPLOYMENT_ID, interruptionId: 'intr-1', userId: user.id, expiresAt: '2099-01-04T09:00:00.000Z' });
      expect(parsed.text).toContain('Instructions:\nTell the trading desk that 1.4.2 goes live.\n<script>alert("pwned")</script> & call Rick');
      expect(parsed.text).toContain(`Open the decision page (you will be asked to sign in):\n${PUBLIC_URL}/i/${tokenFor(user.id)}`);
      expect(parsed.text).toContain(`${PUBLIC_URL}/deployments/${encodeURIComponent(DEPLOYMENT_ID)}`);

      const html = parsed.html as string;
      expect(html).not.toContain('<script>');
      expect(html).toContain('Tell the trading desk that 1.4.2 goes live.<br>\n&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; call Rick');
      expect(html).toContain(`<a href="${PUBLIC_URL}/i/${tokenFor(user.id)}"`);
    }
    // Each person's own link: never the other's.
    expect(mails[0]!.parsed.text).not.toContain(tokenFor(users[1]!.id)!);
  });

  it('reaches the team as the config says now: a reload that takes someone out of it is heeded by the next delivery', async () => {
    const config: NotifierDeps['config'] = { teams: [{ id: 'release-managers', name: 'Release managers' }], users, notifications: mailChannel({ to: ['team:release-managers'] }) };
    const acts = createNotificationActivities({ config, env: { SMTP_URL: smtpUrl() }, publicUrl: PUBLIC_URL, signLink: () => 'tok' });
    await deliver(acts, { channel: 'mail', event: created() });
    expect(mails.flatMap((mail) => mail.to)).toEqual(['jamie.jones@example.com', 'morgan.lee@example.com']);
    mails.length = 0;
    // What a config reload does to the object the worker holds: its users replaced, Morgan out of the team.
    config.users = users.map((user) => (user.username === 'mlee' ? { ...user, teams: [] } : user));
    await deliver(acts, { channel: 'mail', event: created() });
    expect(mails.flatMap((mail) => mail.to)).toEqual(['jamie.jones@example.com']);
  });

  it('responsible (the default) means the interruption\'s teams, escalated teams when the event says so, never the excluded', async () => {
    const acts = activities(mailChannel(), { SMTP_URL: smtpUrl() });
    await deliver(acts, { channel: 'mail', event: event('interruption.escalated', { interruption: interruption({ excludedUserIds: ['users-237'], escalateTo: ['dba'], escalated: true }), escalatedTeams: ['dba'] }) });
    expect(mails.map((mail) => mail.to[0])).toEqual(['morgan.lee@example.com', 'otto@example.com']);
    // Otto may act now: he gets his own link.
    expect(mails[1]!.parsed.text).toContain(`/i/${tokenFor('users-300')}`);
    expect(mails[1]!.parsed.subject).toBe('[Interlock] Escalated: Ensure traders are aware of the deployment — hello-service 1.4.2 to production');
  });

  it('a literal address gets the deployment link only; a user who may not act gets no decision link', async () => {
    const acts = activities(mailChannel({ to: ['ops@example.com', 'user:vic', 'Jamie.Jones@example.com'], subjectPrefix: '[deploy]', from: 'Deployments <deploy@example.com>' }), { SMTP_URL: smtpUrl() });
    await deliver(acts, { channel: 'mail', event: created() });
    expect(mails.map((mail) => mail.to[0])).toEqual(['ops@example.com', 'vic@example.com', 'jamie.jones@example.com']);
    const [ops, vic, jamie] = mails.map((mail) => mail.parsed);
    for (const parsed of [ops!, vic!]) {
      expect(parsed.text).not.toContain('/i/');
      expect(parsed.html).not.toContain('/i/');
      expect(parsed.text).toContain(`${PUBLIC_URL}/deployments/${encodeURIComponent(DEPLOYMENT_ID)}`);
      expect(parsed.subject).toBe('[deploy] Waiting: Ensure traders are aware of the deployment — hello-service 1.4.2 to production');
    }
    // An address that is a user's is that user: their own link.
    expect(jamie!.text).toContain(`/i/${tokenFor('users-237')}`);
    expect(jamie!.from?.value).toEqual([{ name: 'Deployments', address: 'deploy@example.com' }]);
  });

  it('goes only to people who may see the deployment there (their grants), each deciding with their own link', async () => {
    const scoped = createNotificationActivities({
      config: {
        teams: [
          { id: 'release-managers', name: 'Release managers' },
          { id: 'production-approvers', name: 'Production approvers', grants: [{ role: 'viewer', projects: ['hello-service'], environments: ['production'] }] },
        ],
        users: [
          users[0]!,
          { id: 'users-240', username: 'dana', displayName: 'Dana Developer', email: 'dana@example.com', teams: ['release-managers'], roles: [], grants: [{ role: 'deployer', projects: ['hello-service'], environments: ['qa'] }] },
          { id: 'users-241', username: 'pat', displayName: 'Pat Approver', email: 'pat@example.com', teams: ['production-approvers'], roles: [] },
        ],
        notifications: mailChannel({ to: ['team:release-managers', 'team:production-approvers', 'user:dana'] }),
      },
      env: { SMTP_URL: smtpUrl() },
      publicUrl: PUBLIC_URL,
      signLink: (claims) => `tok-scoped.${claims.userId}`,
    });
    const production = created({ responsibleTeams: ['release-managers', 'production-approvers'] });
    const { log } = await deliver(scoped, { channel: 'mail', event: production });
    // Dana deploys to qa only: she hears nothing of production, whatever her team.
    expect(mails.map((mail) => mail.to[0])).toEqual(['jamie.jones@example.com', 'pat@example.com']);
    expect(log).toContain('skipped: user:dana (may not see hello-service)');
    expect(mails[1]!.parsed.text).toContain('/i/tok-scoped.users-241');

    mails.length = 0;
    await deliver(scoped, { channel: 'mail', event: event('interruption.created', { environment: 'qa', step: 'Ensure traders are aware of the deployment', interruption: interruption() }) });
    // In qa: dana (with her link, a release manager who may see it) and jamie; pat sees production only.
    expect(mails.map((mail) => mail.to[0]).sort()).toEqual(['dana@example.com', 'jamie.jones@example.com']);
    expect(mails.find((mail) => mail.to[0] === 'dana@example.com')!.parsed.text).toContain('/i/tok-scoped.users-240');
  });

  it('a retried delivery skips whoever an earlier attempt reached, and keeps each Message-ID', async () => {
    const acts = activities(mailChannel({ to: ['team:release-managers'] }), { SMTP_URL: smtpUrl() });
    const sent = created();
    await deliver(acts, { channel: 'mail', event: sent });
    const first = new Map(mails.map((mail) => [mail.to[0], mail.parsed.messageId]));
    mails.length = 0;

    const { log } = await deliver(acts, { channel: 'mail', event: sent }, { attempt: 2, heartbeatDetails: { sent: ['jamie.jones@example.com'] } });
    expect(mails.map((mail) => mail.to[0])).toEqual(['morgan.lee@example.com']);
    expect(mails[0]!.parsed.messageId).toBe(first.get('morgan.lee@example.com'));
    expect(first.get('jamie.jones@example.com')).not.toBe(first.get('morgan.lee@example.com'));
    expect(log).toContain('already sent on an earlier attempt: jamie.jones@example.com');
  });

  it('a transient refusal (4xx) is retryable, a permanent one (5xx) is not; the others are still sent', async () => {
    const acts = activities(mailChannel({ to: ['team:release-managers', 'otto@example.com'] }), { SMTP_URL: smtpUrl() });
    rejectRecipients.set('jamie.jones@example.com', 450);
    const busy = await failureOf(deliver(acts, { channel: 'mail', event: created() }));
    expect(busy.nonRetryable).toBe(false);
    expect(busy.message).toMatch(/^mail: SMTP smtp:\/\/127\.0\.0\.1:\d+: sent to 2 of 3; failed: jamie\.jones@example\.com \(.*450.*\); skipped: nomail \(no email address\) in \d+ ms$/);
    expect(mails.map((mail) => mail.to[0])).toEqual(['morgan.lee@example.com', 'otto@example.com']);

    mails.length = 0;
    rejectRecipients.set('jamie.jones@example.com', 550);
    const gone = await failureOf(deliver(acts, { channel: 'mail', event: created() }));
    expect(gone.nonRetryable).toBe(true);
    expect(gone.type).toBe('NotificationRefused');
    expect(gone.message).toContain('jamie.jones@example.com (');
    expect(gone.message).toContain('550');
  });

  it('an SMTP server that is down is retryable; a wrong password is not, and is never shown', async () => {
    const port = await closedPort();
    const down = await failureOf(deliver(activities(mailChannel({ to: ['ops@example.com'] }), { SMTP_URL: `smtp://interlock:${SMTP_PASSWORD}@127.0.0.1:${port}` }), { channel: 'mail', event: created() }));
    expect(down.nonRetryable).toBe(false);
    expect(down.message).toMatch(new RegExp(`^mail: SMTP smtp://127\\.0\\.0\\.1:${port}: sent to 0 of 1; failed: ops@example\\.com \\(.*\\)`));

    const wrong = 'wr0ng-p4ss-do-not-log';
    const refused = await failureOf(deliver(activities(mailChannel({ to: ['ops@example.com'] }), { SMTP_URL: smtpUrl(wrong) }), { channel: 'mail', event: created() }));
    expect(refused.nonRetryable).toBe(true);
    expect(refused.message).toContain('535');
    for (const failure of [down, refused]) {
      expect(JSON.stringify({ message: failure.message, failure })).not.toMatch(new RegExp(`${SMTP_PASSWORD}|${wrong}`));
    }
    expect(mails).toHaveLength(0);
  });

  it('without SMTP_URL, or with nobody to send to, it says what to do and does not retry', async () => {
    const noSmtp = await failureOf(deliver(activities(mailChannel()), { channel: 'mail', event: created() }));
    expect(noSmtp).toMatchObject({
      nonRetryable: true,
      type: 'NotificationMisconfigured',
      message: "mail: SMTP_URL is not set in the worker's environment; set it to smtp://user:pass@host:port",
    });

    const acts = activities(mailChannel(), { SMTP_URL: smtpUrl() });
    const nobody = await failureOf(deliver(acts, { channel: 'mail', event: event('deployment.finished', { deployment: { id: DEPLOYMENT_ID, status: 'Succeeded' } }) }));
    expect(nobody).toMatchObject({
      nonRetryable: true,
      type: 'NoRecipients',
      message: 'mail: nobody to send dev.interlock.deployment.finished to (to: responsible): "responsible" names the people of an interruption, and dev.interlock.deployment.finished is about none; give the channel a "to"',
    });
    const noAddress = await failureOf(deliver(activities(mailChannel({ to: ['user:nomail'] }), { SMTP_URL: smtpUrl() }), { channel: 'mail', event: created() }));
    expect(noAddress).toMatchObject({ nonRetryable: true, type: 'NoRecipients', message: 'mail: nobody to send dev.interlock.interruption.created to (to: user:nomail): nomail (no email address)' });
    expect(mails).toHaveLength(0);
  });

  it('deployment.finished to a team: the outcome in the subject, the deployment link, no decision link', async () => {
    const acts = activities(mailChannel({ to: ['team:dba'] }), { SMTP_URL: smtpUrl() });
    const { log } = await deliver(acts, { channel: 'mail', event: event('deployment.finished', { deployment: { id: DEPLOYMENT_ID, status: 'Aborted' } }) });
    expect(log).toMatch(/→ 1 message \(otto@example\.com\)/);
    expect(mails[0]!.parsed.subject).toBe('[Interlock] Aborted: hello-service 1.4.2 to production');
    expect(mails[0]!.parsed.text).toMatch(/^hello-service 1\.4\.2 to production was aborted\./);
    expect(mails[0]!.parsed.text).not.toContain('/i/');
  });
});
