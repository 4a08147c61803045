import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { auditChannelsFor } from '../config/notifications.js';
import type { Config } from '../config/schema.js';
import { AUDIT_EVENT_PREFIX, type AuditData, type AuditEvent } from '../core/cloud-events.js';
import type { Principal } from '../core/principals.js';
import { RateLimiter } from './rate-limit.js';
import { type AuditDelivery, auditEventsSignal, auditTrailWorkflowId } from '../workflows/messages.js';

/** How often the records for the channels are handed to the audit trail's workflow: one signal at most. */
const FLUSH_MS = 1000;

/** Who did it, as an audit record names them: never a token or a session. */
export const auditActor = (principal: Principal | undefined): AuditData['actor'] =>
  principal && { id: principal.id, username: principal.username, via: principal.via };

/**
 * The audit trail (docs/security.md): every sign-in, sign-out, refused sign-in, refused action and
 * config reload is one structured log line (`audit: true`), and, when a notification subscription
 * names audit events, a CloudEvent `dev.interlock.audit.<action>` to its channels, delivered durably
 * by the `auditTrail` workflow. Recording never waits and never fails the request it is about.
 */
export class AuditTrail {
  private pending: AuditDelivery[] = [];
  private timer: NodeJS.Timeout | undefined;
  /**
   * A flood of refused requests is logged in full, and costs Temporal and the channels no more than
   * `perMinute` records a minute; the log line of each one over it says so.
   */
  private readonly rate: RateLimiter;

  constructor(
    private readonly deps: {
      logger: Logger;
      config: Config;
      /** Without a Temporal client (a unit of the app alone), records are logged only. */
      client?: Client | undefined;
      taskQueue: string;
      /** The CloudEvents' `source`: where people reach this Interlock. */
      source: string;
      /** Records sent to the channels per minute, by this process as a whole (`INTERLOCK_AUDIT_RATE`). */
      perMinute: number;
    },
  ) {
    this.rate = new RateLimiter(deps.perMinute, 1);
  }

  record(data: AuditData, logger: Logger = this.deps.logger): void {
    const type = `${AUDIT_EVENT_PREFIX}${data.action}`;
    const channels = this.deps.client ? auditChannelsFor(this.deps.config.notifications, type) : [];
    const overRate = channels.length > 0 && this.rate.take('audit') !== undefined;
    const notSent = overRate ? { notSent: `over ${this.deps.perMinute} audit records a minute (INTERLOCK_AUDIT_RATE): in this log only` } : {};
    logger.info({ audit: true, ...data, ...notSent }, `audit: ${data.action}`);
    if (channels.length === 0 || overRate) return;
    const event: AuditEvent = { specversion: '1.0', id: randomUUID(), source: this.deps.source, type, time: new Date().toISOString(), datacontenttype: 'application/json', data };
    this.pending.push({ event, channels });
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS).unref();
  }

  /**
   * A refused request, whichever front end refused it: a 401 is a refused sign-in, a 403 a refused
   * action, with its reason and code; any other status is no refusal of the audit's.
   */
  recordRefusal(
    status: number,
    refusal: { reason: string; code?: string | undefined },
    who: { actor: Principal | undefined; request: { method: string; path: string } },
    logger: Logger = this.deps.logger,
  ): void {
    if (status !== 401 && status !== 403) return;
    this.record(
      {
        action: status === 401 ? 'sign-in-refused' : 'refused',
        ...(who.actor ? { actor: auditActor(who.actor) } : {}),
        reason: refusal.reason,
        ...(refusal.code ? { code: refusal.code } : {}),
        request: who.request,
      },
      logger,
    );
  }

  /** Hands what is pending to the workflow now (the timer does it within a second otherwise). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending.splice(0);
    if (batch.length === 0 || !this.deps.client) return;
    const { client, taskQueue, logger } = this.deps;
    await client.workflow
      .signalWithStart('auditTrail', {
        workflowId: auditTrailWorkflowId(taskQueue),
        taskQueue,
        args: [{}],
        signal: auditEventsSignal,
        signalArgs: [batch],
      })
      .catch((error: unknown) => logger.warn({ err: error, records: batch.length }, 'audit records not handed to the audit trail; they are in this log'));
  }
}
