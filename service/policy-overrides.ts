import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { type OverrideRecord, overrideInterruption, overrideReasonProblem } from '../core/break-glass.js';
import { overridesWorkflowId } from '../core/ids.js';
import { type Interruption, MAX_NOTES, notesProblem } from '../core/interruptions.js';
import { overridesQuery, type OverridesPage, overrideUpdate, reviewOverrideUpdate } from '../workflows/messages.js';
import type { Deployments } from './deployments.js';
import { invalid, ServiceError, toServiceError } from './errors.js';
import { actorOf, personOf, type Principal, requirePermission } from './permissions.js';

/** Where an audit record goes: the app's logger (pino), one structured line each. */
export interface AuditLog {
  info(record: Record<string, unknown>, message: string): void;
}

/** What a page of the overrides list takes. */
export interface OverridesListRequest {
  reviewed?: boolean | undefined;
  pageSize?: number | undefined;
  pageToken?: string | undefined;
}

/**
 * Break-glass and its review (docs/change-control.md), the rules the JSON API, the dashboard and
 * the CLI share. An override is refused here, before any update, unless the person is in the
 * policy's override teams (NOT_OVERRIDER) and gives a reason; then the deployment's `override`
 * update applies it. Each attempt, accepted or refused, is one audit record. The overrides to
 * review are the `overrides:<taskQueue>` workflow's list: admins read it and mark them reviewed.
 */
export class PolicyOverrides {
  private readonly client: Client;

  constructor(
    private readonly deployments: Deployments,
    private readonly deps: { client: Client; taskQueue: string },
  ) {
    this.client = deps.client;
  }

  /** Passes a policy gate's window or approvals as `user`, for `reason`; the interruption as it is then. */
  async override(user: Principal, id: string, interruptionId: string, reason: string | undefined, audit?: AuditLog): Promise<Interruption> {
    const object = { deploymentId: id, interruptionId };
    try {
      this.deployments.limits.action(user.id);
      const problem = overrideReasonProblem(reason);
      if (problem !== undefined) throw invalid([{ name: 'body.reason', reason: problem }]);
      const place = this.deployments.visiblePlace(user, id);
      requirePermission(user, 'act', place, 'this deployment', { hidden: `No deployment "${id}".` });
      const actor = actorOf(user, place);
      const view = await this.deployments.view(id);
      const target = view.interruptions.find((interruption) => interruption.id === interruptionId);
      if (!target) throw new ServiceError('INTERRUPTION_NOT_FOUND', `This deployment has no interruption "${interruptionId}".`);
      // Whoever may not override is refused here, so no number of refusals reaches the workflow.
      const check = overrideInterruption(target, actor, reason, new Date().toISOString(), 'check');
      if (!check.accepted) throw new ServiceError(check.refusal, check.detail);
      const { temporal } = this.deployments;
      let overridden: Interruption;
      try {
        overridden = await temporal.withDeadline(() =>
          this.client.workflow.getHandle(id).executeUpdate(overrideUpdate, {
            args: [{ user: actor, interruptionId, reason: reason!.trim(), expiresAt: new Date(Date.now() + this.deployments.actionTimeoutMs).toISOString() }],
          }),
        );
      } catch (error) {
        throw await temporal.explainMissing(id, error, 'override');
      }
      auditRecord(audit, user, 'policy.override', { ...object, part: overridden.kind === 'Window' ? 'window' : 'approvals', step: overridden.step, reason: reason!.trim() }, 'accepted');
      return overridden;
    } catch (error) {
      auditRecord(audit, user, 'policy.override', object, 'refused', error);
      throw error;
    }
  }

  /** A page of the overrides (admins), newest first; `reviewed: false` those still to review. */
  async list(user: Principal, { reviewed, pageSize = 50, pageToken }: OverridesListRequest): Promise<OverridesPage> {
    requirePermission(user, 'reviewOverrides', {}, 'the overrides to review');
    const handle = this.client.workflow.getHandle(overridesWorkflowId(this.deps.taskQueue));
    try {
      return await this.deployments.temporal.withDeadline(() =>
        handle.query(overridesQuery, { pageSize, ...(reviewed === undefined ? {} : { reviewed }), ...(pageToken ? { after: pageToken } : {}) }),
      );
    } catch (error) {
      // Nobody has overridden anything yet: there is no list.
      if (error instanceof WorkflowNotFoundError || toServiceError(error)?.code === 'NOT_FOUND') return { overrides: [], nextPageToken: null };
      throw error;
    }
  }

  /** Marks an override reviewed (admins), once: the record as it is then. */
  async review(user: Principal, overrideId: string, notes: string | undefined, audit?: AuditLog): Promise<OverrideRecord> {
    const object = { overrideId };
    try {
      requirePermission(user, 'reviewOverrides', {}, 'the overrides to review');
      this.deployments.limits.action(user.id);
      const problem = notesProblem(notes);
      if (problem !== undefined) throw invalid([{ name: 'body.notes', reason: problem }]);
      const handle = this.client.workflow.getHandle(overridesWorkflowId(this.deps.taskQueue));
      let reviewed: OverrideRecord;
      try {
        reviewed = await this.deployments.temporal.withDeadline(() =>
          handle.executeUpdate(reviewOverrideUpdate, { args: [{ id: overrideId, user: personOf(user), notes: notes?.trim() ? notes.trim().slice(0, MAX_NOTES) : null }] }),
        );
      } catch (error) {
        if (error instanceof WorkflowNotFoundError || toServiceError(error)?.code === 'NOT_FOUND') {
          throw new ServiceError('OVERRIDE_NOT_FOUND', `No override "${overrideId}". GET /api/overrides lists them.`);
        }
        throw error;
      }
      auditRecord(audit, user, 'policy.override.review', { ...object, deploymentId: reviewed.deploymentId }, 'accepted');
      return reviewed;
    } catch (error) {
      auditRecord(audit, user, 'policy.override.review', object, 'refused', error);
      throw error;
    }
  }
}

/** One audit record: `audit: true`, who, what, on what, and how it ended (a refusal with its code and words). */
function auditRecord(audit: AuditLog | undefined, user: Principal, action: string, object: Record<string, unknown>, outcome: 'accepted' | 'refused', error?: unknown): void {
  if (!audit) return;
  const refusal = error === undefined ? undefined : toServiceError(error);
  audit.info(
    {
      audit: true,
      principal: { id: user.id, username: user.username },
      action,
      object,
      outcome,
      ...(refusal ? { code: refusal.code, detail: refusal.message } : error === undefined ? {} : { detail: error instanceof Error ? error.message : String(error) }),
    },
    `audit: ${action} ${outcome}`,
  );
}
