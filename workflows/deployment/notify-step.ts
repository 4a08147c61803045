import type { NotifyStep } from '../../config/schema.js';
import { INTERLOCK_EVENT_PREFIX } from '../../core/cloud-events.js';
import { maskText, secretsOf } from '../../core/masking.js';
import { describeUnknown, substitute } from '../../core/substitution.js';
import { record } from '../../core/views.js';
import { buildEvent, deliver, failureMessage } from '../outbox.js';
import { finishStep, type DeploymentState } from './deployment-state.js';

/**
 * A `notify` step (docs/notifications.md): its template filled in and sent through its channel, waiting for the
 * delivery (retried as every notification is). A delivery that fails in the end is recorded and
 * the step shows `Failed (ignored)`: a notification never fails a deployment.
 */
export async function runNotify(deployment: DeploymentState, step: NotifyStep, view: { log: string } & Parameters<typeof finishStep>[0]) {
  const message = substitute(step.template, deployment.variables);
  const subject = step.subject === undefined ? undefined : substitute(step.subject, deployment.variables);
  const unknown = [...(message.ok ? [] : message.unknown), ...(subject && !subject.ok ? subject.unknown : [])];
  if (unknown.length > 0) {
    finishStep(view, 'Failed', `Cannot start: ${describeUnknown(unknown)} (in the template).`);
    return 'Failed' as const;
  }
  const secrets = secretsOf(deployment.variables, deployment.input.sensitive);
  const text = maskText((message as { text: string }).text, secrets);
  const event = buildEvent(deployment, `${INTERLOCK_EVENT_PREFIX}notify`, {
    step: step.name,
    message: text,
    ...(subject?.ok ? { subject: maskText(subject.text, secrets) } : {}),
  });
  try {
    const { log } = await deliver(step.channel, event);
    finishStep(view, 'Succeeded', `${log}\n\n${text}\n`);
  } catch (error) {
    const why = failureMessage(error);
    record(deployment.view.timeline, { at: new Date().toISOString(), user: 'system', action: 'notify', result: 'failed', reason: `${step.channel}: ${why}` });
    finishStep(view, 'Failed', `Not delivered through ${step.channel}: ${why}\nA notification never fails a deployment, so it goes on.\n`);
    view.ignored = true;
  }
  return 'Succeeded' as const;
}
