import { z } from 'zod';
import { AUDIT_ACTIONS, AUDIT_EVENT_PREFIX, INTERLOCK_EVENT_PREFIX, INTERLOCK_EVENTS, KEPTN_EVENT_PREFIX, matchesAuditEvent, matchesEvent } from '../core/cloud-events.js';
import { parseDuration } from '../core/durations.js';

// The same grammar as config/schema.ts's ids and durations, which that file does not export.
const Id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'use lower-case letters, digits and dashes (at most 63)');

const Duration = z
  .string()
  .refine((text) => parseDuration(text) !== undefined, 'a duration like 30s, 10m, 72h or 1h30m')
  .transform((text) => parseDuration(text)!);

const USERNAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const TEAM_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Where a webhook secret comes from: the text itself, or an environment variable of the worker read at delivery time. */
export const SecretSchema = z.union([z.string().min(1, 'an empty secret signs nothing: give one, or leave secret out'), z.strictObject({ env: z.string().regex(ENV_NAME, 'the name of an environment variable') })], {
  error: 'a secret: a string, or { env: NAME } naming an environment variable of the worker',
});
export type Secret = z.infer<typeof SecretSchema>;

export const WEBHOOK_FORMATS = ['cloudevents', 'slack'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

export const WebhookSchema = z.strictObject({
  url: z
    .url({ protocol: /^https?$/, error: 'an http or https URL' })
    .refine((url) => !/^[a-z]+:\/\/[^/?#]*@/i.test(url), 'no user or password in the URL (fetch refuses them); sign with secret instead'),
  /** Signs each body: `X-Interlock-Signature: sha256=<hex HMAC-SHA256>`, as GitHub does. */
  secret: SecretSchema.optional(),
  /** `cloudevents` (default): the event itself; `slack`: a message for Slack's incoming webhooks. */
  format: z.enum(WEBHOOK_FORMATS).default('cloudevents'),
  /** Per attempt; the workflow's retry policy decides how often to try again. */
  timeout: Duration.default(10_000),
});

/** A recipient in an email channel's `to`. */
const isRecipient = (entry: string): boolean =>
  entry === 'responsible' ||
  (entry.startsWith('team:') && TEAM_ID.test(entry.slice('team:'.length))) ||
  (entry.startsWith('user:') && USERNAME.test(entry.slice('user:'.length))) ||
  z.email().safeParse(entry).success;

/** `Name <address>` or a bare address, as a From header. */
const isFrom = (text: string): boolean => {
  const address = /<([^<>]+)>\s*$/.exec(text)?.[1] ?? text;
  return z.email().safeParse(address.trim()).success;
};

export const EmailSchema = z.strictObject({
  /**
   * `team:<id>` (its members), `user:<username>`, an email address, or `responsible`: whoever may
   * act on the interruption the event is about (its responsible teams' members). `responsible` when absent.
   */
  to: z
    .array(z.string().refine(isRecipient, 'team:<id>, user:<username>, an email address, or responsible'))
    .min(1)
    .default(['responsible']),
  from: z.string().refine(isFrom, 'an address, or Name <address>').default('Interlock <interlock@localhost>'),
  subjectPrefix: z.string().max(100).default('[Interlock]'),
});

type WebhookChannel = { id: string; webhook: z.output<typeof WebhookSchema> };
type EmailChannel = { id: string; email: z.output<typeof EmailSchema> };

/**
 * A channel: `{ id, webhook }` or `{ id, email }`. One object with both keys optional rather than a
 * union, so a mistake inside either is reported at its own path instead of zod's "Invalid input".
 */
export const ChannelSchema = z
  .strictObject({ id: Id, webhook: WebhookSchema.optional(), email: EmailSchema.optional() })
  .superRefine((channel, ctx) => {
    const kinds = [channel.webhook, channel.email].filter((kind) => kind !== undefined).length;
    if (kinds !== 1) ctx.addIssue({ code: 'custom', path: [], message: 'a channel has exactly one of webhook or email' });
  })
  .transform((channel) => channel as WebhookChannel | EmailChannel);
export type Channel = z.infer<typeof ChannelSchema>;

/** The form of an event pattern; whether an Interlock pattern names a real event is `notificationProblems`'s check. */
const isEventPattern = (pattern: string): boolean =>
  (INTERLOCK_EVENTS as readonly string[]).includes(pattern) ||
  pattern.startsWith(INTERLOCK_EVENT_PREFIX) ||
  pattern.startsWith(KEPTN_EVENT_PREFIX) ||
  pattern.startsWith('audit.') ||
  pattern.endsWith('*');

export const SubscriptionSchema = z.strictObject({
  /** Interlock's short names (`deployment.finished`), full types (`sh.keptn.event.je-test.triggered`), or prefixes ending in `*`. */
  events: z
    .array(
      z.string().min(1).refine(isEventPattern, {
        error: `one of ${INTERLOCK_EVENTS.join(', ')}; audit.<action> (${AUDIT_ACTIONS.join(', ')}); a full type (${INTERLOCK_EVENT_PREFIX}…, ${KEPTN_EVENT_PREFIX}…); or a prefix ending in *`,
      }),
    )
    .min(1),
  /** Every project when absent. */
  projects: z.array(Id).min(1).optional(),
  channels: z.array(Id).min(1),
});
export type Subscription = z.infer<typeof SubscriptionSchema>;

/**
 * The config's `notifications:` (docs/notifications.md): where messages go (`channels`) and which events go
 * where (`subscriptions`). What refers to what is checked by `notificationProblems`.
 */
export const NotificationsSchema = z.strictObject({
  channels: z.array(ChannelSchema).default([]),
  subscriptions: z.array(SubscriptionSchema).default([]),
});
export type Notifications = z.infer<typeof NotificationsSchema>;

export interface NotificationProblem {
  /** Relative to `notifications`. */
  path: (string | number)[];
  message: string;
}

/**
 * What the notifications refer to that does not exist: channels a subscription names, teams and
 * users an email channel sends to, projects, Interlock event names; and duplicate channel ids.
 * Paths are relative to `notifications`. Safe on a partly invalid config (any entry may be malformed),
 * since the config's superRefine runs on those too.
 */
export function notificationProblems(
  notifications: unknown,
  known: { teams: string[]; usernames: string[]; projects: string[] },
): NotificationProblem[] {
  const problems: NotificationProblem[] = [];
  const problem = (path: (string | number)[], message: string) => problems.push({ path, message });
  const record = (value: unknown): Record<string, unknown> | undefined =>
    typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
  const strings = (value: unknown): [string, number][] =>
    list(value).flatMap((item, i): [string, number][] => (typeof item === 'string' ? [[item, i]] : []));

  const root = record(notifications);
  if (!root) return problems;

  const channelIds = new Set<string>();
  const emailChannels = new Set<string>();
  list(root.channels).forEach((entry, c) => {
    const channel = record(entry);
    if (!channel) return;
    if (typeof channel.id === 'string') {
      if (channelIds.has(channel.id)) problem(['channels', c, 'id'], `duplicate channel id "${channel.id}"`);
      channelIds.add(channel.id);
      if (channel.email !== undefined) emailChannels.add(channel.id);
    }
    strings(record(channel.email)?.to).forEach(([recipient, r]) => {
      const path = ['channels', c, 'email', 'to', r];
      if (recipient.startsWith('team:') && !known.teams.includes(recipient.slice(5))) problem(path, `unknown team "${recipient.slice(5)}"`);
      if (recipient.startsWith('user:') && !known.usernames.includes(recipient.slice(5))) problem(path, `unknown user "${recipient.slice(5)}"`);
    });
  });

  list(root.subscriptions).forEach((entry, s) => {
    const subscription = record(entry);
    if (!subscription) return;
    strings(subscription.events).forEach(([pattern, e]) => {
      if (namesNoInterlockEvent(pattern)) problem(['subscriptions', s, 'events', e], `"${pattern}" matches no Interlock event (${INTERLOCK_EVENTS.join(', ')}, audit.*)`);
    });
    strings(subscription.projects).forEach(([project, p]) => {
      if (!known.projects.includes(project)) problem(['subscriptions', s, 'projects', p], `unknown project "${project}"`);
    });
    const audit = strings(subscription.events).some(([pattern]) => AUDIT_ACTIONS.some((action) => matchesAuditEvent(pattern, `${AUDIT_EVENT_PREFIX}${action}`)));
    strings(subscription.channels).forEach(([channel, c]) => {
      if (!channelIds.has(channel)) {
        const defined = [...channelIds].join(', ') || 'none is defined';
        problem(['subscriptions', s, 'channels', c], `unknown channel "${channel}" (channels: ${defined})`);
      } else if (audit && emailChannels.has(channel)) {
        problem(['subscriptions', s, 'channels', c], `"${channel}" is an email channel, and audit events go to webhooks only (CloudEvents or Slack)`);
      }
    });
  });
  return problems;
}

/**
 * A pattern in Interlock's own namespace (written in full, or short, or a short prefix) that no
 * Interlock event matches. Keptn's namespace is open: any task may be dispatched. Patterns whose
 * form the schema refuses are left to the schema, so no problem is reported twice.
 */
function namesNoInterlockEvent(pattern: string): boolean {
  if (pattern.startsWith(KEPTN_EVENT_PREFIX) || !isEventPattern(pattern)) return false;
  return (
    !INTERLOCK_EVENTS.some((name) => matchesEvent(pattern, `${INTERLOCK_EVENT_PREFIX}${name}`)) &&
    !AUDIT_ACTIONS.some((action) => matchesAuditEvent(pattern, `${AUDIT_EVENT_PREFIX}${action}`))
  );
}

/** The channels an audit event of this type goes to: those of the subscriptions that name audit events, whatever their projects. */
export function auditChannelsFor(notifications: Notifications | undefined, eventType: string): string[] {
  if (!notifications) return [];
  const wanted = new Set(
    notifications.subscriptions
      .filter((subscription) => subscription.events.some((pattern) => matchesAuditEvent(pattern, eventType)))
      .flatMap((subscription) => subscription.channels),
  );
  return notifications.channels.map((channel) => channel.id).filter((id) => wanted.has(id));
}

/**
 * The ids of the channels an event of this type about this project goes to: every channel named
 * by a subscription that matches both, once each, in the order the channels are defined. Pure.
 */
export function channelsFor(notifications: Notifications | undefined, project: string, eventType: string): string[] {
  if (!notifications) return [];
  const wanted = new Set(
    notifications.subscriptions
      .filter((subscription) => subscription.projects === undefined || subscription.projects.includes(project))
      .filter((subscription) => subscription.events.some((pattern) => matchesEvent(pattern, eventType)))
      .flatMap((subscription) => subscription.channels),
  );
  const ids = notifications.channels.map((channel) => channel.id).filter((id) => wanted.has(id));
  return [...new Set(ids)];
}
