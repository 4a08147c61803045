import { ApplicationFailure, condition, setHandler } from '@temporalio/workflow';
import type { ExternalStep } from '../../config/schema.js';
import { formatDuration } from '../../core/durations.js';
import type { CloudEvent } from '../../core/cloud-events.js';
import { executorsInWords, mayAnswerTask } from '../../core/executors.js';
import { fromRoster } from './interruption-handlers.js';
import { type Actor, type DeploymentErrorType, type StepView, taskEventUpdate, type TaskEventRequest } from '../messages.js';
import { TASK_RESULTS, TASK_STATUSES, type TaskResult } from '../../core/names.js';
import { channelsFor, send } from '../outbox.js';
import { finishStep, type DeploymentState } from './deployment-state.js';
import type { StepOutcome } from './run-step.js';

/**
 * A lifecycle task that nothing in `tasks:` runs (docs/keptn.md): its `.triggered` event has gone to the
 * subscriptions that ask for it; it waits, durably and up to its timeout, for the `.finished` event
 * posted back to the Keptn event API (a `.started` one is optional), and ends with the result and
 * status that event reports.
 */
export async function runExternalTask(deployment: DeploymentState, step: ExternalStep, view: StepView, triggeredId: string): Promise<StepOutcome> {
  const type = `sh.keptn.event.${step.name}.triggered`;
  const receivers = channelsFor(deployment.input.notifications, type);
  view.log = receivers.length > 0
    ? `Sent ${type} to ${receivers.join(', ')}; waiting for its .finished event (up to ${formatDuration(step.timeout)}).\n`
    : `No subscription asks for ${type}; waiting for a .finished event posted to /api/v1/event (up to ${formatDuration(step.timeout)}).\n`;
  const events = deployment.taskEvents.get(triggeredId) ?? [];
  deployment.taskEvents.set(triggeredId, events);
  deployment.setStatus('Running', `Running: ${step.name} — waiting for ${type.replace('.triggered', '.finished')}`);
  const finished = () => events.find((event) => event.type.endsWith('.finished'));
  const deadline = Date.now() + step.timeout;
  let seen = 0;
  while (!finished()) {
    const arrived = await condition(() => events.length > seen, Math.max(0, deadline - Date.now()));
    for (const event of events.slice(seen)) view.log += describe(event);
    seen = events.length;
    if (!arrived) break;
  }
  const end = finished();
  if (!end) {
    view.result = 'fail';
    finishStep(view, 'Failed', `${view.log}No ${step.name}.finished event arrived within ${formatDuration(step.timeout)}; the task failed.\n`);
    return 'Failed';
  }
  const data = end.data as { result?: string; status?: string; message?: string };
  const result: TaskResult = data.status === 'errored' || data.status === 'aborted' ? 'fail' : (data.result as TaskResult);
  view.result = result;
  finishStep(view, result === 'fail' ? 'Failed' : 'Succeeded', view.log);
  return result === 'fail' ? 'Failed' : 'Succeeded';
}

function describe(event: CloudEvent): string {
  const data = event.data as { result?: string; status?: string; message?: string };
  const kind = event.type.split('.').at(-1);
  const by = `${event.source ? ` from ${event.source}` : ''}${event.interlockpostedby ? ` (posted by ${event.interlockpostedby})` : ''}`;
  const outcome = kind === 'finished' ? `: result ${data.result ?? 'pass'}, status ${data.status ?? 'succeeded'}` : '';
  return `${kind}${by}${outcome}${data.message ? ` — ${data.message}` : ''}\n`;
}

const MAX_TASK_EVENTS = 20;

/**
 * `taskEvent`: a `.started` or `.finished` event of an open external task, posted to the event API.
 * Refused with a name (never a failed workflow task) when no task of this deployment waits for it,
 * when its task is over, when it does not read as a Keptn task event, or when its sender is none of
 * the task's executors as this deployment was started with them (NOT_EXECUTOR): who the sender is
 * comes from the deployment's roster, not from the request.
 */
export function registerTaskEventHandler(deployment: DeploymentState): void {
  const refuse = (type: DeploymentErrorType, message: string): never => {
    throw ApplicationFailure.create({ type, message, nonRetryable: true });
  };
  const check = (request: TaskEventRequest, validating: boolean) => {
    const event = request?.event;
    if (typeof event !== 'object' || event === null || typeof event.type !== 'string' || typeof event.triggeredid !== 'string') {
      return refuse('BAD_REQUEST', 'A task event needs a type and the triggeredid of the task\'s .triggered event.');
    }
    if (validating && (typeof request.user?.id !== 'string' || typeof request.user.username !== 'string')) return refuse('BAD_REQUEST', 'A task event needs the user who posted it.');
    if (request.expiresAt !== undefined && Date.now() > Date.parse(request.expiresAt)) {
      return refuse('EXPIRED', 'The event reached the deployment after its sender had stopped waiting; nothing was done. Send it again.');
    }
    const match = /^sh\.keptn\.event\.([a-z][a-z0-9-]*)\.(started|finished)$/.exec(event.type);
    if (!match) return refuse('BAD_REQUEST', `"${event.type}" is not a task's .started or .finished event.`);
    const data = (event.data ?? {}) as { result?: unknown; status?: unknown };
    if (match[2] === 'finished' && data.result !== undefined && !(TASK_RESULTS as readonly unknown[]).includes(data.result)) {
      return refuse('BAD_REQUEST', `data.result must be one of ${TASK_RESULTS.join(', ')}.`);
    }
    if (data.status !== undefined && !(TASK_STATUSES as readonly unknown[]).includes(data.status)) {
      return refuse('BAD_REQUEST', `data.status must be one of ${TASK_STATUSES.join(', ')}.`);
    }
    const events = deployment.taskEvents.get(event.triggeredid);
    const step = deployment.view.steps.find((candidate) => candidate.name === match[1]);
    if (!events || !step) return refuse('TASK_NOT_FOUND', `No task of this deployment waits for an answer to ${event.triggeredid}.`);
    if (validating) {
      // Only in the validator, which replay never runs: an update that an earlier version accepted replays as it ran.
      const index = deployment.view.steps.indexOf(step);
      const task = deployment.input.process[index];
      if (step.triggeredId !== event.triggeredid || task?.type !== 'external') {
        return refuse('TASK_NOT_FOUND', `No task ${match[1]} of this deployment waits for an answer to ${event.triggeredid}.`);
      }
      const sender = senderOf(deployment.input.roster, request.user);
      if (!sender || !mayAnswerTask(task.executors, sender)) {
        return refuse('NOT_EXECUTOR', `${request.user.username} may not answer ${task.name}: its executors are ${executorsInWords(task.executors)}. Nothing was changed.`);
      }
    }
    if (events.some((earlier) => earlier.type.endsWith('.finished')) || step.status !== 'Running') {
      return refuse('TASK_FINISHED', `${match[1]} has already finished (${step.status}); nothing was changed.`);
    }
    // A task says it started, then that it finished; a flood of events would only grow the history.
    if (events.length >= MAX_TASK_EVENTS) {
      return refuse('BAD_REQUEST', `${match[1]} has had ${events.length} events already; send its .finished event.`);
    }
    return { events, step };
  };
  setHandler(
    taskEventUpdate,
    (request) => {
      const { events, step } = check(request, false);
      // The caller's event, marked as such: it is never taken for one Interlock wrote.
      const posted: CloudEvent = { ...request.event, interlockpostedby: request.user?.username ?? 'unknown' };
      const event: CloudEvent = { ...posted, data: { ...(posted.data ?? {}), result: posted.data?.result ?? 'pass', status: posted.data?.status ?? 'succeeded' } };
      events.push(event);
      // Kept in the release's event list and relayed, as posted, to CloudEvents webhooks only.
      send(deployment, posted);
      return { task: step.name, status: step.status };
    },
    { validator: (request) => void check(request, true) },
  );
}

/** The sender with the teams and roles this deployment knows them by: its roster's, or the request's in deployments without one. */
function senderOf(roster: Actor[] | undefined, user: TaskEventRequest['user']): Pick<Actor, 'username' | 'teams' | 'roles'> | undefined {
  const claimed: Actor = { ...user, teams: Array.isArray(user.teams) ? user.teams : [], roles: Array.isArray(user.roles) ? user.roles : [] };
  return fromRoster(roster, claimed);
}
