import { ApplicationFailure, setHandler, uuid4 } from '@temporalio/workflow';
import { overrideInterruption, overridePartOf } from '../../core/break-glass.js';
import { type Interruption, isOpen } from '../../core/interruptions.js';
import { maskInterruption, secretsOf } from '../../core/masking.js';
import { record } from '../../core/views.js';
import { type DeploymentErrorType, type OverrideRequest, overrideUpdate, type TimelineEntry } from '../messages.js';
import { OverrideRequestSchema } from '../signal-payloads.js';
import type { DeploymentState } from './deployment-state.js';
import { withRemaining } from './wait-for-decision.js';

/**
 * Break-glass (docs/change-control.md): the `override` update, by which a member of a policy's
 * override teams passes its window or approvals with a reason. An update only (the API's way, which
 * refuses whoever may not before it is sent, and audits it): the interruption ends `Overridden` and
 * the timeline says who did it and why; the policy gate, which waits on it, goes on, lists the
 * override for review and tells subscribers. Every attempt the workflow sees lands in the timeline.
 */
export function registerOverrideHandler(deployment: DeploymentState): void {
  setHandler(overrideUpdate, (request: OverrideRequest) => override(deployment, OverrideRequestSchema.parse(request)), {
    validator: (request: unknown) => {
      const parsed = OverrideRequestSchema.safeParse(request);
      if (!parsed.success) {
        throw ApplicationFailure.create({ type: 'BAD_REQUEST' satisfies DeploymentErrorType, message: `Invalid request: ${parsed.error.message}`, nonRetryable: true });
      }
    },
  });
}

function override(deployment: DeploymentState, request: OverrideRequest): Interruption {
  const { view } = deployment;
  const at = new Date().toISOString();
  const entry = (result: TimelineEntry['result'], reason: string, interruption?: string): TimelineEntry => ({
    at,
    user: request.user.username,
    action: 'Overridden',
    result,
    reason,
    ...(interruption === undefined ? {} : { interruption }),
    via: 'update',
  });
  const refuse = (type: DeploymentErrorType, detail: string, interruption?: string): never => {
    record(view.timeline, entry('refused', `${type}: ${detail}`, interruption));
    throw ApplicationFailure.create({ type, message: detail, nonRetryable: true });
  };
  const index = view.interruptions.findIndex((i) => i.id === request.interruptionId);
  if (index < 0) return refuse('INTERRUPTION_NOT_FOUND', `This deployment has no interruption "${request.interruptionId}".`);
  const target = view.interruptions[index]!;
  if (request.expiresAt !== undefined && Date.parse(at) > Date.parse(request.expiresAt)) {
    return refuse('EXPIRED', 'The request reached the deployment after its caller had stopped waiting; nothing was done. Try again.', target.id);
  }
  if (isOpen(target) && view.status !== 'Waiting') return refuse('NOT_WAITING', `The deployment is ${view.status}; it no longer waits at "${target.step}".`, target.id);
  const decision = overrideInterruption(target, request.user, request.reason, at, uuid4());
  if (!decision.accepted) return refuse(decision.refusal, decision.detail, target.id);
  // Over: its rules (and its context) need nothing more, as after any decision.
  view.interruptions[index] = withRemaining(deployment, { ...decision.interruption, decidedVia: 'update' });
  record(view.timeline, entry('accepted', `${overridePartOf(target)}: ${decision.override.reason}`, target.id));
  return maskInterruption(view.interruptions[index]!, secretsOf(deployment.variables, deployment.input.sensitive));
}
