/**
 * The events Interlock sends (docs/notifications.md) and the Keptn events it sends and receives (docs/keptn.md): all
 * CloudEvents 1.0 in structured mode. Pure: the workflow builds them, activities deliver them, the
 * API parses them.
 */
import type { Interruption } from './interruptions.js';

/** Interlock's own event types, sent as `dev.interlock.<name>`. */
export const INTERLOCK_EVENTS = [
  'interruption.created',
  'interruption.reminder',
  'interruption.escalated',
  'interruption.decided',
  'deployment.queued',
  /** Break-glass on a policy gate (docs/change-control.md). */
  'policy.overridden',
  'deployment.finished',
  'release.finished',
  'notify',
] as const;
export type InterlockEventName = (typeof INTERLOCK_EVENTS)[number];

export const INTERLOCK_EVENT_PREFIX = 'dev.interlock.';

/**
 * What the audit trail records (docs/security.md), sent as `dev.interlock.audit.<action>` to the
 * subscriptions that name audit events themselves (`audit.*`, `audit.refused`…); a subscription to
 * every event (`*`) does not get them.
 */
export const AUDIT_ACTIONS = ['signed-in', 'signed-out', 'sign-in-refused', 'refused', 'config-reloaded', 'config-refused'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
export const AUDIT_EVENT_PREFIX = `${INTERLOCK_EVENT_PREFIX}audit.`;

/** One audit record: who did what, how, and why it was refused. Never a token, a secret or a session. */
export interface AuditData {
  action: AuditAction;
  /** Whoever it was, when known: their id, username and how they came (token, session, provider, CI job). */
  actor?: { id: string; username: string; via?: string };
  /** Why it was refused, in words, and the refusal's code (`NOT_PERMITTED`, `SELF_APPROVAL`…). */
  reason?: string;
  code?: string;
  /** The request it answered. */
  request?: { method: string; path: string; address?: string };
  /** A config reload: the file, the hash of what is loaded now, and the problems of a refused one. */
  config?: { source: string; sha256: string; problems?: string[] };
}

export type AuditEvent = CloudEvent<AuditData>;

export const isAuditEvent = (event: CloudEvent<unknown>): event is AuditEvent => event.type.startsWith(AUDIT_EVENT_PREFIX);

/** Whether a subscription's pattern asks for this audit event: only patterns that name audit events themselves. */
export function matchesAuditEvent(pattern: string, type: string): boolean {
  const full = pattern.startsWith(INTERLOCK_EVENT_PREFIX) ? pattern : `${INTERLOCK_EVENT_PREFIX}${pattern}`;
  return full.startsWith(AUDIT_EVENT_PREFIX) && matchesEvent(pattern, type);
}
export const KEPTN_EVENT_PREFIX = 'sh.keptn.event.';

/** A CloudEvent as Interlock sends and keeps it (structured JSON mode). */
export interface CloudEvent<Data = EventData> {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  time: string;
  datacontenttype: 'application/json';
  subject?: string;
  /** Keptn's context: the release (lifecycle projects) this event belongs to. */
  shkeptncontext?: string;
  /** Keptn: the id of the `.triggered` event a `.started` or `.finished` event answers. */
  triggeredid?: string;
  /**
   * An event posted to the event API, not built by Interlock: the username of whoever posted it.
   * Such an event reaches CloudEvents webhooks only, as the poster's, never a person's inbox or chat.
   */
  interlockpostedby?: string;
  data: Data;
}

/** What an Interlock event says; Keptn events carry Keptn's own fields beside these. */
export interface EventData {
  project: string;
  environment?: string;
  release?: string;
  /** Keptn's names for the same things, on lifecycle events. */
  stage?: string;
  service?: string;
  deployment?: { id: string; status?: string; outcome?: string };
  step?: string;
  interruption?: Interruption;
  /** A `notify` step's message, its template already filled in. */
  message?: string;
  links?: { deployment?: string; release?: string; temporal?: string };
  [key: string]: unknown;
}

/**
 * Whether a subscription's pattern names this event type: the full type (`dev.interlock.deployment.finished`,
 * `sh.keptn.event.je-deployment.triggered`), Interlock's short name (`deployment.finished`), or a
 * prefix ending in `*` (`sh.keptn.event.*`, `dev.interlock.interruption.*`).
 */
export function matchesEvent(pattern: string, type: string): boolean {
  const full = pattern.startsWith(KEPTN_EVENT_PREFIX) || pattern.startsWith(INTERLOCK_EVENT_PREFIX) ? pattern : `${INTERLOCK_EVENT_PREFIX}${pattern}`;
  if (full.endsWith('*')) return type.startsWith(full.slice(0, -1));
  return type === full;
}

/**
 * A release's Keptn events, newest first, with every task's `.triggered` listed as older than the
 * events that answer it (their `triggeredid` names it). A deployment signals its events to its
 * release one by one, and two signals sent together may arrive in either order; an answer is never
 * older than its question. Otherwise the order is the order they arrived in.
 */
export function questionsBeforeAnswers(newestFirst: readonly CloudEvent[]): CloudEvent[] {
  const questions = new Map(newestFirst.filter((event) => event.type.endsWith('.triggered')).map((event) => [event.id, event]));
  const placed = new Set<CloudEvent>();
  const oldestFirst: CloudEvent[] = [];
  for (const event of [...newestFirst].reverse()) {
    if (placed.has(event)) continue;
    const question = event.triggeredid === undefined ? undefined : questions.get(event.triggeredid);
    if (question && !placed.has(question)) {
      oldestFirst.push(question);
      placed.add(question);
    }
    oldestFirst.push(event);
    placed.add(event);
  }
  return oldestFirst.reverse();
}
