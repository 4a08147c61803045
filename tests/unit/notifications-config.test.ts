import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { formatPath } from '../../config/load.js';
import { auditChannelsFor, channelsFor, type Notifications, NotificationsSchema, notificationProblems } from '../../config/notifications.js';
import { renderHtml, renderSlack, renderText, subjectOf } from '../../activities/notification-text.js';
import { type CloudEvent, type EventData, INTERLOCK_EVENTS } from '../../core/cloud-events.js';
import type { Interruption } from '../../core/interruptions.js';

/** docs/notifications.md's example, word for word. */
const DOCUMENTED_EXAMPLE = `
channels:
  - id: ops-hook
    webhook: { url: https://hooks.example.com/interlock, secret: { env: OPS_HOOK_SECRET }, format: cloudevents }  # or slack; secret may be a literal string
  - id: mail
    email: { to: [team:release-managers] }       # SMTP from SMTP_URL (smtp://user:pass@host:port)
subscriptions:
  - events: [interruption.created, interruption.reminder, interruption.decided, deployment.finished]
    projects: [hello-service]                     # default all
    channels: [ops-hook, mail]
`;

const known = { teams: ['release-managers', 'dba'], usernames: ['jjones', 'mlee'], projects: ['hello-service', 'billing'] };

const parseYaml = (text: string) => NotificationsSchema.safeParse(parse(text));
/** Each issue as the config loader prints it: `channels[0].webhook.url: …`. */
const issuesOf = (text: string): string[] => {
  const result = parseYaml(text);
  expect(result.success, 'the notifications were accepted').toBe(false);
  return result.error!.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
};
const valid = (text: string): Notifications => {
  const result = parseYaml(text);
  expect(result.error?.issues ?? []).toEqual([]);
  return result.data!;
};
const problemsOf = (text: string) => notificationProblems(valid(text), known).map(({ path, message }) => `${formatPath(path)}: ${message}`);

describe('NotificationsSchema', () => {
  it('reads the docs/notifications.md example, with the defaults filled in', () => {
    expect(valid(DOCUMENTED_EXAMPLE)).toEqual({
      channels: [
        { id: 'ops-hook', webhook: { url: 'https://hooks.example.com/interlock', secret: { env: 'OPS_HOOK_SECRET' }, format: 'cloudevents', timeout: 10_000 } },
        { id: 'mail', email: { to: ['team:release-managers'], from: 'Interlock <interlock@localhost>', subjectPrefix: '[Interlock]' } },
      ],
      subscriptions: [
        { events: ['interruption.created', 'interruption.reminder', 'interruption.decided', 'deployment.finished'], projects: ['hello-service'], channels: ['ops-hook', 'mail'] },
      ],
    });
    expect(notificationProblems(valid(DOCUMENTED_EXAMPLE), known)).toEqual([]);
  });

  it('takes a literal secret or one from the environment, a Slack format and a timeout', () => {
    const notifications = valid(`
channels:
  - id: literal
    webhook: { url: "http://127.0.0.1:9000/hook?x=1", secret: s3cret, format: slack, timeout: 1m30s }
  - id: from-env
    webhook: { url: https://hooks.example.com/x, secret: { env: HOOK_SECRET } }
  - id: plain
    webhook: { url: https://hooks.example.com/y }
  - id: responsible
    email: { from: "Deployments <deploy@example.com>", subjectPrefix: "[deploy]" }
`);
    expect(notifications.channels).toEqual([
      { id: 'literal', webhook: { url: 'http://127.0.0.1:9000/hook?x=1', secret: 's3cret', format: 'slack', timeout: 90_000 } },
      { id: 'from-env', webhook: { url: 'https://hooks.example.com/x', secret: { env: 'HOOK_SECRET' }, format: 'cloudevents', timeout: 10_000 } },
      { id: 'plain', webhook: { url: 'https://hooks.example.com/y', format: 'cloudevents', timeout: 10_000 } },
      // No `to`: whoever is responsible for the interruption.
      { id: 'responsible', email: { to: ['responsible'], from: 'Deployments <deploy@example.com>', subjectPrefix: '[deploy]' } },
    ]);
    expect(notifications.subscriptions).toEqual([]);
  });

  it('refuses a URL that is not http or https, a malformed secret or timeout, by path', () => {
    expect(issuesOf(`
channels:
  - id: a
    webhook: { url: ftp://files.example.com/hook }
  - id: b
    webhook: { url: not a url }
  - id: c
    webhook: { url: https://ok.example.com/, secret: { env: 3 } }
  - id: d
    webhook: { url: https://ok.example.com/, secret: "", timeout: soon, format: teams }
  - id: e
    webhook: { url: "https://user:pass@hooks.example.com/x" }
`)).toEqual([
      'channels[0].webhook.url: an http or https URL',
      'channels[1].webhook.url: an http or https URL',
      'channels[2].webhook.secret: a secret: a string, or { env: NAME } naming an environment variable of the worker',
      'channels[3].webhook.secret: an empty secret signs nothing: give one, or leave secret out',
      'channels[3].webhook.format: Invalid option: expected one of "cloudevents"|"slack"',
      'channels[3].webhook.timeout: a duration like 30s, 10m, 72h or 1h30m',
      'channels[4].webhook.url: no user or password in the URL (fetch refuses them); sign with secret instead',
    ]);
  });

  it('wants exactly one of webhook and email, well-formed recipients, and no unknown keys', () => {
    const issues = issuesOf(`
channels:
  - id: both
    webhook: { url: https://a.example.com/ }
    email: {}
  - id: neither
  - id: Bad_Id
    email: { to: [team:release-managers, "group:dba", not-an-address, user:jjones, ops@example.com, responsible], cc: [x] }
  - id: empty
    email: { to: [], from: nobody }
`);
    expect(issues).toEqual([
      'channels[0]: a channel has exactly one of webhook or email',
      'channels[1]: a channel has exactly one of webhook or email',
      'channels[2].id: use lower-case letters, digits and dashes (at most 63)',
      'channels[2].email.to[1]: team:<id>, user:<username>, an email address, or responsible',
      'channels[2].email.to[2]: team:<id>, user:<username>, an email address, or responsible',
      'channels[2].email: Unrecognized key: "cc"',
      'channels[3].email.to: Too small: expected array to have >=1 items',
      'channels[3].email.from: an address, or Name <address>',
    ]);
  });

  it('refuses an event pattern of no known form, and empty lists', () => {
    const issues = issuesOf(`
subscriptions:
  - events: [interruption.creatd, deployment.finished, sh.keptn.event.je-test.triggered, "dev.interlock.interruption.*"]
    channels: [mail]
  - events: []
    channels: []
`);
    expect(issues[0]).toMatch(/^subscriptions\[0\]\.events\[0\]: one of interruption\.created, .*; a full type \(dev\.interlock\.…, sh\.keptn\.event\.…\); or a prefix ending in \*$/);
    expect(issues.slice(1)).toEqual([
      'subscriptions[1].events: Too small: expected array to have >=1 items',
      'subscriptions[1].channels: Too small: expected array to have >=1 items',
    ]);
  });
});

describe('notificationProblems', () => {
  it('names an unknown channel in a subscription by its path', () => {
    expect(problemsOf(`
channels:
  - id: ops-hook
    webhook: { url: https://hooks.example.com/interlock }
subscriptions:
  - events: [deployment.finished]
    channels: [ops-hook, pager]
`)).toEqual(['subscriptions[0].channels[1]: unknown channel "pager" (channels: ops-hook)']);
  });

  it('paths are relative to notifications, so the config prefixes them', () => {
    const [problem] = notificationProblems(valid('subscriptions: [{ events: [notify], channels: [x] }]'), known);
    expect(formatPath(['notifications', ...problem!.path])).toBe('notifications.subscriptions[0].channels[0]');
    expect(problem!.message).toBe('unknown channel "x" (channels: none is defined)');
  });

  it('finds duplicate channels, unknown teams, users and projects, and Interlock events that do not exist', () => {
    expect(problemsOf(`
channels:
  - id: mail
    email: { to: [team:release-managers, team:qa-team, user:jjones, user:nobody, someone@example.com] }
  - id: mail
    webhook: { url: https://hooks.example.com/interlock }
subscriptions:
  - events: [deployment.finished, dev.interlock.deployment.exploded, "interruption.*", "sh.keptn.event.*", "dev.interlock.release.*", "nothing.*", "*"]
    projects: [hello-service, payroll]
    channels: [mail]
`)).toEqual([
      'channels[0].email.to[1]: unknown team "qa-team"',
      'channels[0].email.to[3]: unknown user "nobody"',
      'channels[1].id: duplicate channel id "mail"',
      `subscriptions[0].events[1]: "dev.interlock.deployment.exploded" matches no Interlock event (${INTERLOCK_EVENTS.join(', ')}, audit.*)`,
      `subscriptions[0].events[5]: "nothing.*" matches no Interlock event (${INTERLOCK_EVENTS.join(', ')}, audit.*)`,
      'subscriptions[0].projects[1]: unknown project "payroll"',
    ]);
  });

  it('sends audit events only to webhooks whose subscriptions name them, and refuses an email channel for them', () => {
    const notifications = `
channels:
  - { id: siem, webhook: { url: https://siem.example.com/in } }
  - { id: all, webhook: { url: https://hooks.example.com/all } }
  - { id: mail, email: { to: [security@example.com] } }
subscriptions:
  - { events: ['audit.*'], channels: [siem] }
  - { events: ['*', 'dev.interlock.*'], channels: [all] }
  - { events: [audit.refused, dev.interlock.audit.signed-in, audit.signed-out], channels: [mail] }
  - { events: [audit.exploded], channels: [siem] }
`;
    expect(problemsOf(notifications)).toEqual([
      'subscriptions[2].channels[0]: "mail" is an email channel, and audit events go to webhooks only (CloudEvents or Slack)',
      `subscriptions[3].events[0]: "audit.exploded" matches no Interlock event (${INTERLOCK_EVENTS.join(', ')}, audit.*)`,
    ]);
    const parsed = valid(notifications);
    expect(auditChannelsFor(parsed, 'dev.interlock.audit.refused')).toEqual(['siem', 'mail']);
    expect(auditChannelsFor(parsed, 'dev.interlock.audit.config-reloaded')).toEqual(['siem']);
    // A subscription to every event is about deployments: it gets no audit events.
    expect(channelsFor(parsed, 'hello-service', 'dev.interlock.deployment.finished')).toEqual(['all']);
  });

  it('does not trip over a partly invalid config (the config refinement runs on those too)', () => {
    for (const broken of [undefined, null, 'x', [], { channels: 'x', subscriptions: [null, 3, { events: 'x', channels: [7] }] }, { channels: [{ email: { to: 'team:x' } }] }]) {
      expect(notificationProblems(broken, known)).toEqual([]);
    }
  });
});

describe('channelsFor', () => {
  const notifications = valid(`
channels:
  - id: ops-hook
    webhook: { url: https://hooks.example.com/interlock }
  - id: mail
    email: { to: [team:release-managers] }
  - id: keptn
    webhook: { url: https://keptn.example.com/ }
  - id: slack
    webhook: { url: https://hooks.slack.com/services/T/B/X, format: slack }
subscriptions:
  - events: [deployment.finished, interruption.created]
    channels: [slack, mail]
  - events: [interruption.created]
    projects: [hello-service]
    channels: [ops-hook, mail]
  - events: ["sh.keptn.event.*"]
    projects: [helloservice]
    channels: [keptn]
  - events: [sh.keptn.event.je-test.triggered]
    channels: [slack]
  - events: ["interruption.*"]
    projects: [billing]
    channels: [ops-hook]
`);

  it('gives each matching channel once, in the order the channels are defined', () => {
    expect(channelsFor(notifications, 'hello-service', 'dev.interlock.interruption.created')).toEqual(['ops-hook', 'mail', 'slack']);
    expect(channelsFor(notifications, 'other', 'dev.interlock.interruption.created')).toEqual(['mail', 'slack']);
    expect(channelsFor(notifications, 'hello-service', 'dev.interlock.deployment.finished')).toEqual(['mail', 'slack']);
  });

  it('matches Keptn types in full and by prefix, each subscription within its projects', () => {
    expect(channelsFor(notifications, 'helloservice', 'sh.keptn.event.je-deployment.triggered')).toEqual(['keptn']);
    expect(channelsFor(notifications, 'helloservice', 'sh.keptn.event.je-test.triggered')).toEqual(['keptn', 'slack']);
    expect(channelsFor(notifications, 'hello-service', 'sh.keptn.event.je-test.triggered')).toEqual(['slack']);
    expect(channelsFor(notifications, 'hello-service', 'sh.keptn.event.je-test.finished')).toEqual([]);
  });

  it('a short prefix matches Interlock events only; nothing without notifications', () => {
    expect(channelsFor(notifications, 'billing', 'dev.interlock.interruption.reminder')).toEqual(['ops-hook']);
    expect(channelsFor(notifications, 'billing', 'dev.interlock.deployment.queued')).toEqual([]);
    expect(channelsFor(undefined, 'billing', 'dev.interlock.deployment.finished')).toEqual([]);
  });
});

const interruption = (overrides: Partial<Interruption> = {}): Interruption => ({
  id: 'i-1',
  kind: 'Manual',
  step: 'Ensure traders are aware of the deployment',
  state: 'Pending',
  instructions: 'Tell the trading desk that 1.4.2 goes live.\n<script>alert("x")</script> & "quotes"',
  responsibleTeams: ['release-managers'],
  assignee: null,
  notes: null,
  createdAt: '2025-01-01T09:00:00.000Z',
  decidedAt: null,
  timeoutAt: '2025-01-04T09:00:00.000Z',
  onTimeout: 'abort',
  ...overrides,
});

const event = (name: string, data: Partial<EventData> = {}): CloudEvent => ({
  specversion: '1.0',
  id: `evt-${name}`,
  source: 'interlock',
  type: name.startsWith('sh.keptn.') ? name : `dev.interlock.${name}`,
  time: '2025-01-01T09:00:00.000Z',
  datacontenttype: 'application/json',
  data: {
    project: 'hello-service',
    environment: 'production',
    release: '1.4.2',
    deployment: { id: 'hello-service:production:1.4.2:abc', status: 'Running' },
    ...data,
  },
});

const links = {
  deployment: 'http://localhost:3000/deployments/hello-service%3Aproduction%3A1.4.2%3Aabc',
  decide: [{ username: 'jjones', url: 'http://localhost:3000/i/tok-jjones' }],
};

describe('the notification renderers', () => {
  const created = event('interruption.created', { step: 'Ensure traders are aware of the deployment', interruption: interruption() });

  it('text: what waits, where, the instructions, the decision link and the deployment', () => {
    const text = renderText(created, { links, personal: true });
    expect(text).toContain('"Ensure traders are aware of the deployment" is waiting for you in hello-service 1.4.2 to production.');
    expect(text).toContain('Instructions:\nTell the trading desk that 1.4.2 goes live.\n<script>alert("x")</script> & "quotes"\n');
    expect(text).toContain('Open the decision page (you will be asked to sign in):\nhttp://localhost:3000/i/tok-jjones\n');
    expect(text).toContain(`The deployment:\n${links.deployment}\n`);
    expect(text).toMatch(/Times out: +2025-01-04 09:00 UTC, then the deployment aborts/);
    expect(text).toMatch(/Who may act: +members of release-managers \(and admins\)/);
  });

  it('HTML: the instructions escaped, with their line breaks, and the links as links', () => {
    const html = renderHtml(created, { links, personal: true });
    expect(html).not.toContain('<script>');
    expect(html).toContain('Tell the trading desk that 1.4.2 goes live.<br>\n&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;');
    expect(html).toContain('<a href="http://localhost:3000/i/tok-jjones"');
    expect(html).toContain('Open the decision page (you will be asked to sign in)</a>');
    expect(html).toContain(`<a href="${links.deployment}">Open the deployment</a>`);
  });

  it('HTML escapes every value: a step, a project, a release, notes', () => {
    const hostile = '<img src=x onerror=alert(1)>';
    const decided = event('interruption.decided', {
      project: hostile,
      release: `"${hostile}`,
      interruption: interruption({ step: hostile, state: 'Aborted', notes: hostile, assignee: { id: 'u', username: 'jjones', displayName: hostile }, decidedAt: '2025-01-01T10:00:00.000Z' }),
    });
    const html = renderHtml(decided, { links: { deployment: 'javascript:alert(1)' } });
    expect(html).not.toMatch(/<img|javascript:/);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('a subject says what waits for whom, where', () => {
    expect(subjectOf(created, { personal: true })).toBe('[Interlock] Waiting for you: Ensure traders are aware of the deployment — hello-service 1.4.2 to production');
    expect(subjectOf(created, { prefix: '[deploy]' })).toBe('[deploy] Waiting: Ensure traders are aware of the deployment — hello-service 1.4.2 to production');
    const decided = event('interruption.decided', { interruption: interruption({ state: 'Proceeded', assignee: { id: 'u', username: 'jjones', displayName: 'Jamie Jones' }, notes: 'All clear.' }) });
    expect(subjectOf(decided)).toBe('[Interlock] Proceeded: Ensure traders are aware of the deployment — hello-service 1.4.2 to production');
    expect(renderText(decided, { links: {} })).toContain('Notes from Jamie Jones (jjones):\nAll clear.');
    expect(subjectOf(event('deployment.finished', { deployment: { id: 'd', status: 'Failed' } }))).toBe('[Interlock] Failed: hello-service 1.4.2 to production');
  });

  it('a Window says when it opens, why, and who may override it; nobody is asked to decide it', () => {
    const window = interruption({
      kind: 'Window',
      step: 'Policy: production',
      responsibleTeams: [],
      timeoutAt: null,
      opensAt: '2025-01-06T09:00:00.000Z',
      reason: 'Outside the deployment window (Mon–Thu 09:00–16:00 Europe/London)',
      timezone: 'Europe/London',
      overrideTeams: ['sre-leads'],
    });
    const text = renderText(event('interruption.created', { step: 'Policy: production', interruption: window }), { links: { deployment: links.deployment } });
    expect(text).toContain('its deployment window, which opens Monday 09:00 Europe/London');
    expect(text).toContain('Outside the deployment window (Mon–Thu 09:00–16:00 Europe/London)');
    expect(text).toContain('members of sre-leads, with a reason');
    expect(text).not.toContain('Who may act');
    const opened = renderText(event('interruption.decided', { step: 'Policy: production', interruption: { ...window, state: 'WindowOpened', decidedAt: '2025-01-06T09:00:00.000Z' } }), { links: {} });
    expect(opened).toContain('its deployment window opened; the deployment goes on');
  });

  it('approval rules: each rule\'s progress, who may still approve, the inputs asked and, once decided, given', () => {
    const mlee = { id: 'users-238', username: 'mlee', displayName: 'Morgan Lee' };
    const vic = { id: 'users-300', username: 'vic', displayName: 'Vic Viewer' };
    const approval = (user: typeof mlee) => ({ user, at: '2025-01-01T09:30:00.000Z', notes: null });
    const rules = [
      { teams: ['security'], count: 2, approvals: [approval(mlee)], met: false },
      { teams: ['release-managers'], count: 1, approvals: [approval(mlee)], met: true },
    ];
    const inputs = [{ name: 'risk', type: 'choice' as const, options: ['low', 'high'], required: true }, { name: 'backupTaken', type: 'boolean' as const }];
    const waiting = renderText(event('interruption.created', { interruption: interruption({
      responsibleTeams: ['security', 'release-managers'], rules, ordered: true, inputs,
      remaining: { rules: [{ rule: 0, teams: ['security'], needed: 1 }], mayApprove: ['vic'] },
    }) }), { links: {} });
    expect(waiting).toMatch(/Approval rules, in order: +2 from security: 1 of 2 \(Morgan Lee\); 1 from release-managers: met \(Morgan Lee\)/);
    expect(waiting).toMatch(/May still approve: +vic/);
    expect(waiting).toMatch(/Asks whoever proceeds: +risk \(low\|high, required\), backupTaken \(true\|false\)/);
    const decided = renderText(event('interruption.decided', { interruption: interruption({
      state: 'Proceeded', assignee: vic, decidedAt: '2025-01-01T10:00:00.000Z', rules, inputs,
      approvals: [approval(mlee), approval(vic)], inputValues: { risk: 'low', backupTaken: true },
    }) }), { links: {} });
    expect(decided).toMatch(/Approved by: +Morgan Lee \(mlee\), Vic Viewer \(vic\)/);
    expect(decided).toMatch(/Inputs: +risk="low", backupTaken=true/);
    expect(decided).not.toContain('Asks whoever proceeds');
  });

  it('every Interlock event reads as words, with nothing undefined', () => {
    const data: Record<string, Partial<EventData>> = {
      'interruption.created': { interruption: interruption() },
      'interruption.reminder': { interruption: interruption({ state: 'Assigned', assignee: { id: 'u', username: 'jjones', displayName: 'Jamie Jones' } }) },
      // As the workflow sends it: the interruption says it escalated, and to whom.
      'interruption.escalated': { interruption: interruption({ escalateTo: ['dba'], escalateAt: '2025-01-02T09:00:00.000Z', escalated: true }), escalatedTeams: ['dba'] },
      'interruption.decided': { interruption: interruption({ state: 'TimedOut', decidedAt: '2025-01-04T09:00:00.000Z' }) },
      'deployment.queued': { queuedBehind: 'hello-service:production:1.4.1:xyz' },
      'policy.overridden': {
        step: 'Policy: production',
        override: { id: 'o-1', part: 'window', user: { id: 'u', username: 'mlee', displayName: 'Morgan Lee' }, reason: 'Payments are down (INC-4711).', at: '2025-01-01T09:30:00.000Z' },
      },
      'deployment.finished': { deployment: { id: 'd', status: 'Succeeded' } },
      'release.finished': { status: 'Succeeded', result: 'pass' },
      notify: { step: 'Tell the desk', message: 'Release 1.4.2 was aborted by Jamie Jones: "not today"' },
    };
    const expected: Record<string, RegExp> = {
      'interruption.created': /^"Ensure traders are aware of the deployment" is waiting for someone to take responsibility in hello-service 1\.4\.2 to production\./,
      'interruption.reminder': /^Reminder: ".*" is still waiting for someone to take responsibility in .*, since 2025-01-01 09:00 UTC\. Jamie Jones \(jjones\) has taken it\./,
      'interruption.escalated': /^".*" has waited too long in hello-service 1\.4\.2 to production; dba may now act on it too\./,
      'interruption.decided': /^".*" in hello-service 1\.4\.2 to production: nobody decided in time; the deployment aborts\./,
      'deployment.queued': /^hello-service 1\.4\.2 to production is queued behind hello-service:production:1\.4\.1:xyz/,
      'policy.overridden': /^Morgan Lee \(mlee\) broke glass on "Policy: production" in hello-service 1\.4\.2 to production: the deployment window \(or a freeze\) passed without waiting\.[\s\S]*Reason:\nPayments are down \(INC-4711\)\./,
      'deployment.finished': /^hello-service 1\.4\.2 to production succeeded\./,
      'release.finished': /^Release hello-service 1\.4\.2 succeeded \(result pass\)\./,
      notify: /^Release 1\.4\.2 was aborted by Jamie Jones: "not today"\n[\s\S]*Message:\nRelease 1\.4\.2 was aborted/,
    };
    for (const name of INTERLOCK_EVENTS) {
      expect(expected[name], name).toBeDefined();
      const text = renderText(event(name, data[name]), { links });
      expect(text, name).toMatch(expected[name]!);
      expect(text, name).not.toMatch(/undefined|null|\[object/);
      expect(subjectOf(event(name, data[name])), name).not.toMatch(/undefined|null/);
    }
  });

  it('a Keptn event says which task, in which stage, for which release', () => {
    const triggered: CloudEvent = {
      ...event('sh.keptn.event.je-deployment.triggered', { project: 'helloservice', stage: 'qa', service: 'helloservice', environment: undefined, release: undefined, labels: { release: '0.1.1' } }),
      shkeptncontext: 'ctx-1',
    };
    expect(subjectOf(triggered)).toBe('[Interlock] je-deployment triggered in qa for helloservice 0.1.1');
    const finished = event('sh.keptn.event.je-test.finished', { project: 'helloservice', stage: 'qa', environment: undefined, release: '0.1.1', result: 'fail', status: 'succeeded' });
    expect(renderText(finished, { links: {} })).toMatch(/^je-test finished in qa for helloservice 0\.1\.1: fail \(succeeded\)\./);
  });

  it('Slack: mrkdwn with values escaped, each person\'s own link by name, the deployment as a button', () => {
    const hostile = event('interruption.created', { interruption: interruption({ instructions: 'Ping <!channel> & <https://evil.example|click>' }) });
    const message = renderSlack(hostile, { links: { ...links, decide: [...links.decide, { username: 'mlee', url: 'http://localhost:3000/i/tok-mlee' }] } });
    const all = JSON.stringify(message);
    expect(all).not.toContain('<!channel>');
    expect(all).not.toContain('<https://evil.example');
    expect(all).toContain('Ping &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;');
    expect(message.text).toContain('is waiting for someone to take responsibility');
    expect(message.blocks).toContainEqual({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open the deployment' }, url: links.deployment }] });
    const context = message.blocks.find((block) => block.type === 'context');
    expect(context).toEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: 'Decide, each with your own link (you will be asked to sign in): <http://localhost:3000/i/tok-jjones|jjones> · <http://localhost:3000/i/tok-mlee|mlee>' }],
    });
  });
});
