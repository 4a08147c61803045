import { createHash, createHmac } from 'node:crypto';
import { ApplicationFailure, Context, type Info } from '@temporalio/activity';
import nodemailer from 'nodemailer';
import type { Channel, Notifications } from '../config/notifications.js';
import { type AuditEvent, type CloudEvent, isAuditEvent } from '../core/cloud-events.js';
import { type Actor, type Interruption, isActionableBy, isOpen, responsibleOf } from '../core/interruptions.js';
import { actorOf, hasRoleAt, type ListedPerson, type ListedTeam, type Place, type Principal, principalOfPerson } from '../core/principals.js';
import { maskText } from '../core/masking.js';
import { type DecideLink, renderAuditSlack, renderHtml, renderSlack, renderText, subjectOf } from './notification-text.js';
import type { DeliverNotificationInput, StepOutput } from '../workflows/activity-contract.js';

/** What the worker gives the notification activities; nothing secret ever travels in a workflow's input. */
export interface NotifierDeps {
  config: {
    teams: (ListedTeam & { name: string })[];
    /** People, their teams and grants: a message about a project goes only to those who may see it there. */
    users: ListedPerson[];
    notifications?: Notifications;
  };
  /** Webhook secrets (`{ env: NAME }`) and `SMTP_URL` are read from here at delivery time. */
  env: NodeJS.ProcessEnv;
  /** How people reach Interlock, e.g. `http://localhost:3000`. */
  publicUrl: string;
  /** A token for `/i/<token>`: the decision page of that person for that interruption, until `expiresAt`. */
  signLink(claims: { deploymentId: string; interruptionId: string; userId: string; expiresAt: string }): string;
  /** Tests may pass their own; the global `fetch` otherwise. */
  fetch?: typeof fetch;
}


/**
 * The `type` of every failure `deliverNotification` throws. `NotificationFailed` is retryable (the
 * receiver is down, busy or timed out); the others are not: trying again would get the same answer.
 */
export const NOTIFICATION_FAILURES = ['NotificationFailed', 'NotificationRefused', 'NotificationMisconfigured', 'NoRecipients'] as const;
export type NotificationFailure = (typeof NOTIFICATION_FAILURES)[number];

/**
 * The longest a decision link can be signed for, when its interruption has no timeout. Only a bound:
 * a link works while its interruption is open (the page checks it each time it is opened), so an
 * interruption left open for months still has working links, and a decided one has none.
 */
const LINK_LIFETIME_MS = 365 * 86_400_000;
/** The longest a receiver's `Retry-After` may hold the next attempt back. */
const MAX_RETRY_AFTER_MS = 15 * 60_000;
const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

type WebhookChannel = Extract<Channel, { webhook: unknown }>;
type EmailChannel = Extract<Channel, { email: unknown }>;

const retryable = (message: string): ApplicationFailure => ApplicationFailure.retryable(message, 'NotificationFailed' satisfies NotificationFailure);
const fail = (message: string, type: Exclude<NotificationFailure, 'NotificationFailed'>): ApplicationFailure => ApplicationFailure.nonRetryable(message, type);

/**
 * The notification activities (docs/notifications.md), bound to the worker's config and environment:
 * `activities: { ...createNotificationActivities(deps), ...others }`.
 */
export function createNotificationActivities(deps: NotifierDeps) {
  const publicUrl = deps.publicUrl.replace(/\/+$/, '');
  // The config's people as principals, made again when a reload gives the config new ones.
  let known: { users: readonly ListedPerson[]; people: Principal[] } | undefined;
  const peopleNow = (): Principal[] => {
    if (known?.users !== deps.config.users) known = { users: deps.config.users, people: deps.config.users.map((user) => principalOfPerson(user, deps.config.teams, 'token')) };
    return known.people;
  };
  /**
   * The people who may see what the event is about (its project, in its environment or stage), each
   * as an actor with the roles they hold there: nobody hears of, or gets a link to, what they may not see.
   * `acting`: only those who may act (not read-only).
   */
  const actorsFor = (event: CloudEvent, { acting = false } = {}): Actor[] => {
    const place: Place = { project: event.data.project, environment: event.data.environment ?? event.data.stage };
    return peopleNow().filter((person) => (!acting || !person.readOnly) && hasRoleAt(person, 'viewer', place)).map((person) => actorOf(person, place));
  };

  const deploymentUrl = (event: CloudEvent): string | undefined => {
    const id = event.data.deployment?.id;
    if (id) return `${publicUrl}/deployments/${encodeURIComponent(id)}`;
    const given = event.data.links?.deployment;
    return given && /^https?:\/\//i.test(given) ? given : undefined;
  };

  /** The open interruption the event is about, with the deployment it belongs to; none for anything else. */
  const openInterruption = (event: CloudEvent): { interruption: Interruption; deploymentId: string } | undefined => {
    const { interruption, deployment } = event.data;
    return interruption && deployment?.id && isOpen(interruption) ? { interruption, deploymentId: deployment.id } : undefined;
  };

  /** A one-click link for whoever may act on the event's open interruption (core's rule, escalation included); none for anyone else. */
  const decideLink = (event: CloudEvent, actor: Actor): DecideLink | undefined => {
    const open = openInterruption(event);
    // A read-only person may look, never decide: no link.
    if (!open || !isActionableBy(open.interruption, actor) || peopleNow().some((person) => person.id === actor.id && person.readOnly)) return undefined;
    // Its timeout ends the interruption, and the link with it; without one, the bound above.
    const expiresAt = open.interruption.timeoutAt ?? new Date(Date.now() + LINK_LIFETIME_MS).toISOString();
    const token = deps.signLink({ deploymentId: open.deploymentId, interruptionId: open.interruption.id, userId: actor.id, expiresAt });
    return { username: actor.username, url: `${publicUrl}/i/${encodeURIComponent(token)}` };
  };

  const decideLinks = (event: CloudEvent): DecideLink[] => actorsFor(event, { acting: true }).flatMap((actor) => decideLink(event, actor) ?? []);

  /** What a webhook is sent: an audit record as it is (or in words, for Slack); a posted event as its poster's; else ours, with links. */
  const webhookBody = (event: CloudEvent | AuditEvent, format: WebhookChannel['webhook']['format']): unknown => {
    if (isAuditEvent(event)) return format === 'slack' ? renderAuditSlack(event) : event;
    // A posted event is relayed as its poster's: no links of ours, nothing read from its data.
    if (isPosted(event)) return asPosted(event);
    const links = { deployment: deploymentUrl(event), decide: decideLinks(event) };
    return format === 'slack' ? renderSlack(event, { links }) : withLinks(event, links);
  };

  async function deliverWebhook(channel: WebhookChannel, event: CloudEvent | AuditEvent, foreignId: boolean): Promise<StepOutput> {
    const { url, format, timeout } = channel.webhook;
    const secret = secretOf(channel, deps.env);
    const hide = (text: string) => (secret ? maskText(text, [secret]) : text);
    const { info, cancellationSignal } = Context.current();
    const posted = !isAuditEvent(event) && isPosted(event);
    const body = JSON.stringify(webhookBody(event, format));
    const headers: Record<string, string> = {
      'Content-Type': format === 'slack' ? 'application/json; charset=utf-8' : 'application/cloudevents+json; charset=utf-8',
      'User-Agent': 'Interlock',
      // The same on every attempt, so a receiver that got an earlier one can tell; never an id a caller chose.
      'Idempotency-Key': posted || foreignId ? ownKey(info) : event.id,
      'X-Interlock-Event': event.type,
    };
    if (secret) headers['X-Interlock-Signature'] = `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;

    const attempt = info.attempt > 1 ? ` (attempt ${info.attempt})` : '';
    const where = hide(`${channel.id}: POST ${shownUrl(url, format)}`);
    const started = Date.now();
    let response: Response;
    try {
      response = await (deps.fetch ?? fetch)(url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(timeout), cancellationSignal]),
      });
      // Read to the end (and drop: a receiver's answer is not ours to log), so the connection is reused.
      await response.arrayBuffer();
    } catch (error) {
      // Cancelled (the deployment was): say so to Temporal, not as a failed delivery.
      cancellationSignal.throwIfAborted();
      const reason = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${timeout} ms` : reasonOf(error);
      throw retryable(hide(`${where} failed${attempt}: ${reason}`));
    }
    const line = `${where} → ${response.status} in ${Date.now() - started} ms${attempt}`;
    const { status } = response;
    if (status >= 200 && status < 300) return { log: line };
    if (status === 408 || status === 429 || status >= 500) {
      const delay = retryAfterMs(response.headers.get('retry-after'));
      const message = `${line}; will try again${delay !== undefined ? ` in ${Math.round(delay / 1000)} s, as it asked` : ''}`;
      if (delay === undefined) throw retryable(message);
      throw ApplicationFailure.create({ message, type: 'NotificationFailed' satisfies NotificationFailure, nextRetryDelay: delay });
    }
    if (status >= 300 && status < 400) throw fail(`${line}: a redirect, not followed; give the channel the URL it points to`, 'NotificationRefused');
    throw fail(`${line}: the receiver refused it; trying again would not help`, 'NotificationRefused');
  }

  async function deliverEmail(channel: EmailChannel, event: CloudEvent, foreignId: boolean): Promise<StepOutput> {
    const smtpUrl = deps.env.SMTP_URL;
    if (!smtpUrl) throw fail(`${channel.id}: SMTP_URL is not set in the worker's environment; set it to smtp://user:pass@host:port`, 'NotificationMisconfigured');
    const server = smtpServerOf(smtpUrl);
    if (!server) throw fail(`${channel.id}: SMTP_URL is not an smtp:// or smtps:// URL (smtp://user:pass@host:port)`, 'NotificationMisconfigured');
    const hide = (text: string) => maskText(text, server.secrets);
    const where = `${channel.id}: SMTP ${server.shown}`;

    const { recipients, skipped } = recipientsOf(channel.email.to, event);
    if (recipients.length === 0) {
      const why = skipped.length > 0 ? `: ${skipped.join(', ')}` : channel.email.to.includes('responsible') && !event.data.interruption ? `: "responsible" names the people of an interruption, and ${event.type} is about none; give the channel a "to"` : '';
      throw fail(`${channel.id}: nobody to send ${event.type} to (to: ${channel.email.to.join(', ')})${why}`, 'NoRecipients');
    }

    const context = Context.current();
    const alreadySent = sentBefore(context.info.heartbeatDetails);
    const key = foreignId ? ownKey(context.info) : event.id;
    const sent: string[] = [];
    const failures: { address: string; reason: string; transient: boolean }[] = [];
    const domain = /@([^@>\s]+)>?\s*$/.exec(channel.email.from)?.[1] ?? 'interlock.localhost';
    const started = Date.now();
    const transport = nodemailer.createTransport({ url: smtpUrl, ...SMTP_TIMEOUTS });
    try {
      for (const recipient of recipients) {
        if (alreadySent.includes(recipient.address)) continue;
        context.cancellationSignal.throwIfAborted();
        const link = recipient.user ? decideLink(event, recipient.user) : undefined;
        const options = { links: { deployment: deploymentUrl(event), decide: link ? [link] : [] }, personal: link !== undefined };
        try {
          await transport.sendMail({
            from: channel.email.from,
            to: recipient.user ? { name: recipient.user.displayName, address: recipient.address } : recipient.address,
            subject: subjectOf(event, { ...options, prefix: channel.email.subjectPrefix }),
            text: renderText(event, options),
            html: renderHtml(event, options),
            // The same on every attempt, so a mailbox (or a person) can tell a retried delivery from a new one.
            messageId: `<${createHash('sha256').update(`${key}\n${recipient.address}`).digest('hex').slice(0, 32)}@${domain}>`,
            headers: { 'X-Interlock-Event': event.type, 'X-Interlock-Event-Id': event.id, 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' },
          });
          sent.push(recipient.address);
          context.heartbeat({ sent: [...alreadySent, ...sent] });
        } catch (error) {
          const { transient, connection } = smtpErrorKind(error);
          failures.push({ address: recipient.address, reason: hide(reasonOf(error)), transient });
          // The server is unreachable: the others would only wait for the same timeout.
          if (connection) break;
        }
      }
    } finally {
      transport.close();
    }

    const elapsed = `in ${Date.now() - started} ms`;
    const notes = [
      alreadySent.length > 0 ? `already sent on an earlier attempt: ${alreadySent.join(', ')}` : '',
      skipped.length > 0 ? `skipped: ${skipped.join(', ')}` : '',
    ].filter(Boolean).map((note) => `; ${note}`).join('');
    if (failures.length === 0) {
      return { log: `${where} → ${sent.length} ${sent.length === 1 ? 'message' : 'messages'} (${sent.join(', ') || 'none left'}) ${elapsed}${notes}` };
    }
    const unsent = recipients.length - alreadySent.length - sent.length - failures.length;
    const message = [
      `${where}: sent to ${sent.length} of ${recipients.length - alreadySent.length}`,
      `failed: ${failures.map(({ address, reason }) => `${address} (${reason})`).join(', ')}`,
      unsent > 0 ? `not tried: ${unsent}` : '',
    ].filter(Boolean).join('; ') + `${notes} ${elapsed}`;
    if (failures.some((failure) => failure.transient)) throw retryable(message);
    throw fail(message, 'NotificationRefused');
  }

  /** Who an email channel's `to` names for this event, once each, with the user behind each address where there is one. */
  function recipientsOf(to: string[], event: CloudEvent): { recipients: { address: string; user?: Actor }[]; skipped: string[] } {
    const recipients = new Map<string, { address: string; user?: Actor }>();
    const skipped = new Set<string>();
    const actors = actorsFor(event);
    const hidden = (username: string) => !actors.some((actor) => actor.username === username) && peopleNow().some((person) => person.username === username);
    const addUser = (actor: Actor) => {
      if (!actor.email) skipped.add(`${actor.username} (no email address)`);
      else if (!recipients.has(actor.email.toLowerCase())) recipients.set(actor.email.toLowerCase(), { address: actor.email, user: actor });
    };
    for (const entry of to) {
      if (entry === 'responsible') (event.data.interruption ? responsibleOf(event.data.interruption, actorsFor(event, { acting: true })) : []).forEach(addUser);
      else if (entry.startsWith('team:')) actors.filter((actor) => actor.teams.includes(entry.slice(5))).forEach(addUser);
      else if (entry.startsWith('user:')) {
        const actor = actors.find((candidate) => candidate.username === entry.slice(5));
        if (actor) addUser(actor);
        else if (hidden(entry.slice(5))) skipped.add(`${entry} (may not see ${event.data.project})`);
        else skipped.add(`${entry} (not in the worker's config)`);
      } else {
        // An address that is a user's gets that user's own link.
        const actor = actors.find((candidate) => candidate.email?.toLowerCase() === entry.toLowerCase());
        const person = peopleNow().find((candidate) => candidate.email?.toLowerCase() === entry.toLowerCase());
        if (actor) addUser(actor);
        else if (person) skipped.add(`${person.username} (may not see ${event.data.project})`);
        else if (!recipients.has(entry.toLowerCase())) recipients.set(entry.toLowerCase(), { address: entry });
      }
    }
    return { recipients: [...recipients.values()], skipped: [...skipped] };
  }

  return {
    /**
     * Sends one event through one channel: a webhook POST (CloudEvent or Slack message, signed when
     * the channel has a secret) or one email per recipient over SMTP. Throws `NotificationFailed`
     * (retryable) when the receiver is down, busy or slow, and a non-retryable failure when it
     * refuses or the worker's config cannot send it; the workflow records either in the timeline.
     */
    async deliverNotification({ channel: id, event, foreignId }: DeliverNotificationInput): Promise<StepOutput> {
      const channel = deps.config.notifications?.channels.find((candidate) => candidate.id === id);
      if (!channel) {
        const known = deps.config.notifications?.channels.map((candidate) => candidate.id).join(', ') || 'none';
        throw fail(`There is no notification channel "${id}" in the worker's config (channels: ${known})`, 'NotificationMisconfigured');
      }
      if (isAuditEvent(event)) {
        // The config refuses an email channel for audit events; a worker on an older config says so.
        if (!('webhook' in channel)) throw fail(`${id}: audit events go to webhook channels only, not email`, 'NotificationMisconfigured');
        return deliverWebhook(channel, event, false);
      }
      // Nothing a caller posted reaches a person as Interlock's words: a posted event goes to CloudEvents webhooks only.
      if (isPosted(event) && !('webhook' in channel && channel.webhook.format !== 'slack')) {
        return { log: `${id}: not sent: ${event.type} was posted by ${event.interlockpostedby}, and a posted event goes only to CloudEvents webhooks, never to email or chat` };
      }
      return 'webhook' in channel ? deliverWebhook(channel, event, foreignId === true) : deliverEmail(channel, event, foreignId === true);
    },
  };
}

/** The activity functions, for `proxyActivities<NotificationActivities>`. */
export type NotificationActivities = ReturnType<typeof createNotificationActivities>;

/** Whether the event was posted to the event API by someone (the workflow marks every such event), not built by Interlock. */
const isPosted = (event: CloudEvent): boolean => event.interlockpostedby !== undefined;

/** What of Interlock's own a posted event's data may pretend to carry (its links, an interruption, a deployment); never relayed. */
const INTERLOCK_FIELDS = ['links', 'interruption', 'escalatedTeams', 'deployment'] as const;

/** A posted event as relayed: as its poster sent it (its source, its id), marked with who posted it, without Interlock's fields. */
function asPosted(event: CloudEvent): CloudEvent {
  const data = Object.fromEntries(Object.entries(event.data ?? {}).filter(([key]) => !(INTERLOCK_FIELDS as readonly string[]).includes(key)));
  return { ...event, interlockpostedby: String(event.interlockpostedby), data: data as CloudEvent['data'] };
}

/** An Idempotency-Key of Interlock's own: the same on every attempt of one delivery, different for every other. */
function ownKey(info: Info): string {
  const { workflowId = '', runId = '' } = info.workflowExecution ?? {};
  return createHash('sha256').update(`${workflowId}\n${runId}\n${info.activityId}`).digest('hex').slice(0, 32);
}

/** The event as sent to a CloudEvents webhook: its data's links completed with the deployment page and the decision pages. */
function withLinks(event: CloudEvent, links: { deployment?: string; decide: DecideLink[] }): CloudEvent {
  const merged = { ...event.data.links, ...(links.deployment && !event.data.links?.deployment ? { deployment: links.deployment } : {}) };
  const decide = links.decide.length > 0 ? { decide: links.decide } : {};
  if (Object.keys(merged).length === 0 && links.decide.length === 0) return event;
  return { ...event, data: { ...event.data, links: { ...merged, ...decide } } };
}

function secretOf(channel: WebhookChannel, env: NodeJS.ProcessEnv): string | undefined {
  const { secret } = channel.webhook;
  if (secret === undefined || typeof secret === 'string') return secret;
  const value = env[secret.env];
  if (!value) {
    throw fail(`${channel.id}: the webhook's secret comes from ${secret.env}, which is not set in the worker's environment`, 'NotificationMisconfigured');
  }
  return value;
}

/** The URL as logs show it: no credentials, query or fragment; a Slack webhook's path is its secret, so only its start. */
export function shownUrl(url: string, format: 'cloudevents' | 'slack'): string {
  const parsed = new URL(url);
  if (format === 'slack') {
    const first = parsed.pathname.split('/').filter(Boolean)[0];
    return `${parsed.origin}/${first ? `${first}/…` : ''}`;
  }
  return `${parsed.origin}${parsed.pathname}`;
}

/** `Retry-After` in seconds or as an HTTP date, within reason. */
function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const ms = /^\d+$/.test(header.trim()) ? Number(header.trim()) * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, MAX_RETRY_AFTER_MS) : undefined;
}

function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause : undefined;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return cause ? `${cause.message}${code && !cause.message.includes(code) ? ` (${code})` : ''}` : error.message;
}

/** Where SMTP_URL points, for logs (no credentials), and what must never be shown (its password). */
function smtpServerOf(smtpUrl: string): { shown: string; secrets: string[] } | undefined {
  let url: URL;
  try {
    url = new URL(smtpUrl);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') return undefined;
  const secrets = url.password ? [...new Set([url.password, decodeURIComponent(url.password)])] : [];
  return { shown: `${url.protocol}//${url.host}`, secrets };
}

/**
 * Whether trying again could help: a connection that failed or timed out, or a 4xx reply (RFC 5321's
 * transient class), yes; a 5xx reply (a mailbox that does not exist, a bad login), missing
 * credentials or a malformed address, no.
 */
function smtpErrorKind(error: unknown): { transient: boolean; connection: boolean } {
  const { code, responseCode, permanent } = (error ?? {}) as { code?: string; responseCode?: number; permanent?: boolean };
  const connection = responseCode === undefined && ['ECONNECTION', 'ESOCKET', 'ETIMEDOUT', 'EDNS', 'ETLS', 'EPROXY'].includes(code ?? '');
  if (responseCode !== undefined) return { transient: permanent !== undefined ? !permanent : responseCode < 500 || responseCode === 503, connection: responseCode === 421 };
  return { transient: connection || !['EAUTH', 'ENOAUTH', 'EOAUTH2', 'EENVELOPE', 'ECONFIG'].includes(code ?? ''), connection };
}

/** The addresses an earlier attempt of this activity reached, from its last heartbeat. */
function sentBefore(details: unknown): string[] {
  const sent = (details as { sent?: unknown } | undefined)?.sent;
  return Array.isArray(sent) ? sent.filter((address): address is string => typeof address === 'string') : [];
}
