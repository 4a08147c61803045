import { ActivityFailure, ApplicationFailure, getExternalWorkflowHandle, patched, proxyActivities, uuid4 } from '@temporalio/workflow';
import type { Activities } from './activity-contract.js';
import { type AuditEvent, type CloudEvent, type EventData, INTERLOCK_EVENT_PREFIX, type InterlockEventName, KEPTN_EVENT_PREFIX, matchesEvent } from '../core/cloud-events.js';
import type { Interruption } from '../core/interruptions.js';
import { maskInterruption, maskText, secretsOf } from '../core/masking.js';
import { releaseEventSignal, type NotificationRoute, type ProcessStep, type StepView, type TimelineEntry } from './messages.js';
import type { TaskResult } from '../core/names.js';
import type { DeploymentState } from './deployment/deployment-state.js';
import { record } from '../core/views.js';

// Delivery is durable (docs/notifications.md): retried with backoff for a quarter of an hour, so a receiver that
// is down for a minute still gets it; a failure after that is recorded, never a failed deployment.
const { deliverNotification } = proxyActivities<Activities>({
  // An email channel sends one message per person, each with SMTP's own timeouts.
  startToCloseTimeout: '3m',
  scheduleToCloseTimeout: '15m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m' },
  summary: 'notification',
});

/** The channels whose subscriptions ask for this event type, each once, in the config's order. */
export function channelsFor(routes: readonly NotificationRoute[] | undefined, type: string): string[] {
  const channels = (routes ?? []).filter((route) => route.events.some((pattern) => matchesEvent(pattern, type))).flatMap((route) => route.channels);
  return [...new Set(channels)];
}

/**
 * Sends an event: to every subscribed channel (an activity each, in the background: the deployment
 * never waits for a receiver), and, for a lifecycle deployment's Keptn events, to its release, which
 * keeps the release's event list (docs/keptn.md). Sensitive values are masked before anything leaves.
 */
export function emit(deployment: DeploymentState, type: string, data: Partial<EventData> = {}, extra: EventExtras = {}): CloudEvent {
  const event = buildEvent(deployment, type, data, extra);
  send(deployment, event);
  return event;
}

type EventExtras = Partial<Pick<CloudEvent, 'id' | 'shkeptncontext' | 'triggeredid'>>;

/** A CloudEvent about this deployment: its project, environment, release and link, sensitive values masked. */
export function buildEvent(deployment: DeploymentState, type: string, data: Partial<EventData> = {}, extra: EventExtras = {}): CloudEvent {
  const { input, view } = deployment;
  const base = input.variables['Interlock.Url'];
  const secrets = secretsOf(deployment.variables, input.sensitive);
  const event: CloudEvent = {
    specversion: '1.0',
    id: extra.id ?? uuid4(),
    source: base ? `${base}/deployments/${encodeURIComponent(input.id)}` : `interlock:${input.id}`,
    type,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    ...(input.lifecycle ? { shkeptncontext: input.lifecycle.keptnContext } : {}),
    ...(extra.shkeptncontext ? { shkeptncontext: extra.shkeptncontext } : {}),
    ...(extra.triggeredid ? { triggeredid: extra.triggeredid } : {}),
    data: JSON.parse(
      maskText(
        JSON.stringify({
          project: input.project.id,
          environment: input.environment,
          release: input.release,
          // While the steps after an abort or failure run, `status` is still Running and `outcome` says how it will end.
          deployment: { id: input.id, status: view.status, ...(view.outcome ? { outcome: view.outcome } : {}) },
          ...(base ? { links: { deployment: `${base}/deployments/${encodeURIComponent(input.id)}` } } : {}),
          ...data,
        }),
        secrets.map((secret) => JSON.stringify(secret).slice(1, -1)),
      ),
    ) as EventData,
  };
  return event;
}

/** An event about an interruption (`interruption.created`, `.reminder`, `.escalated`, `.decided`), with its step and links. */
export function emitInterruption(deployment: DeploymentState, name: InterlockEventName, interruption: Interruption): void {
  if (!hasRoutes(deployment, `${INTERLOCK_EVENT_PREFIX}${name}`)) return;
  const secrets = secretsOf(deployment.variables, deployment.input.sensitive);
  emit(deployment, `${INTERLOCK_EVENT_PREFIX}${name}`, {
    step: interruption.step,
    interruption: maskInterruption(interruption, secrets),
    ...(interruption.escalated && interruption.escalateTo ? { escalatedTeams: interruption.escalateTo } : {}),
  });
}

/** Whether anything would receive this event: without subscriptions (and outside a release) it costs nothing. */
export function hasRoutes(deployment: DeploymentState, type: string): boolean {
  return channelsFor(deployment.input.notifications, type).length > 0 || (deployment.input.lifecycle !== undefined && type.startsWith(KEPTN_EVENT_PREFIX));
}

/** The patch: deployments recorded before it sent a release's events to the release and to the channels at once. */
const RELEASE_HEARS_FIRST = 'release-hears-first';
/** The patch: deployments recorded before it signalled their release's events without waiting for the one before. */
const RELEASE_EVENTS_IN_ORDER = 'release-events-in-order';

/**
 * Passes an event on: to the release (Keptn events of a lifecycle deployment), then to every
 * subscribed channel. An executor's `.started` is matched to its task through the release's event
 * list, and a job executor answers within milliseconds: so the channels hear of a task only once
 * the release has it.
 */
export function send(deployment: DeploymentState, event: CloudEvent): void {
  const { input } = deployment;
  const outbox = { routes: input.notifications, timeline: deployment.view.timeline, deliveries: deployment.deliveries };
  if (input.lifecycle && event.type.startsWith(KEPTN_EVENT_PREFIX)) {
    const release = getExternalWorkflowHandle(input.lifecycle.releaseId);
    const tell = () => release.signal(releaseEventSignal, { deploymentId: input.id, event }).catch(() => undefined);
    // Each event only once the release has the one before: two signals sent at once may arrive in either order.
    const told = patched(RELEASE_EVENTS_IN_ORDER) ? (deployment.releaseTold = deployment.releaseTold.then(tell)) : tell();
    if (patched(RELEASE_HEARS_FIRST)) {
      track(deployment, told.then(() => dispatch(outbox, event)));
      return;
    }
    track(deployment, told);
  }
  dispatch(outbox, event);
}

/** Where a workflow's events go and what it keeps of them: its subscriptions, its timeline (for failures), its deliveries under way. */
export interface Outbox {
  routes: readonly NotificationRoute[] | undefined;
  timeline: TimelineEntry[];
  deliveries: Set<Promise<unknown>>;
}

/**
 * Delivers an event to every channel subscribed to it, each in the background; a delivery that fails
 * in the end is recorded. `foreignId`: the event's id was chosen outside Interlock (the id of a
 * posted trigger), so the delivery makes its own Idempotency-Key.
 */
export function dispatch(outbox: Outbox, event: CloudEvent, { foreignId = false } = {}): void {
  for (const channel of channelsFor(outbox.routes, event.type)) {
    track(outbox, deliver(channel, event, foreignId).then(
      () => undefined,
      (error: unknown) => {
        record(outbox.timeline, {
          at: new Date().toISOString(),
          user: 'system',
          action: 'notify',
          result: 'failed',
          reason: `${channel}: ${event.type} could not be delivered (${failureMessage(error)})`,
        });
      },
    ));
  }
}

function track(outbox: Pick<Outbox, 'deliveries'>, promise: Promise<unknown>): void {
  const tracked = promise.finally(() => outbox.deliveries.delete(tracked));
  outbox.deliveries.add(tracked);
}

/** Delivers one event through one channel, waiting for it (retried as every notification is). */
export const deliver = (channel: string, event: CloudEvent | AuditEvent, foreignId = false) => deliverNotification({ channel, event, ...(foreignId ? { foreignId } : {}) });

/** Why a delivery failed, in a line. */
export function failureMessage(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/**
 * The Keptn events of a lifecycle deployment's tasks (docs/keptn.md): each task is `.triggered` (with
 * its shipyard properties under `data.<task>` and the result before it, as Keptn's
 * shipyard-controller sends them), `.started` and `.finished`. Interlock sends all three for the
 * tasks it runs itself; an external task's `.started` and `.finished` come from whoever does it.
 */
export function taskTriggered(deployment: DeploymentState, step: ProcessStep, before: { result: TaskResult; status: string } | undefined): string {
  const lifecycle = deployment.input.lifecycle!;
  const id = uuid4();
  const properties = lifecycle.taskProperties[step.name];
  // A first task gets the result of the sequence that triggered this one, as Keptn passes it on.
  before ??= lifecycle.triggeredBy ? { result: lifecycle.triggeredBy.result, status: 'succeeded' } : undefined;
  emit(
    deployment,
    `sh.keptn.event.${step.name}.triggered`,
    {
      ...keptnScope(deployment),
      ...(properties ? { [step.name]: properties } : {}),
      ...(before ? { result: before.result, status: before.status } : {}),
      ...(lifecycle.configurationChange ? { configurationChange: lifecycle.configurationChange } : {}),
    },
    { id },
  );
  // Interlock does this task itself (the approval says its own strategy when it starts).
  if (step.type !== 'external' && step.type !== 'approval') {
    emit(deployment, `sh.keptn.event.${step.name}.started`, { ...keptnScope(deployment), status: 'succeeded', message: '' }, { triggeredid: id });
  }
  return id;
}

export function taskFinished(deployment: DeploymentState, step: ProcessStep, view: StepView, triggeredId: string): void {
  if (step.type === 'external') return;
  const result = view.result ?? 'fail';
  emit(
    deployment,
    `sh.keptn.event.${step.name}.finished`,
    {
      ...keptnScope(deployment),
      result,
      status: view.status === 'Aborted' || view.status === 'Cancelled' ? 'aborted' : result === 'fail' && step.type !== 'evaluation' && step.type !== 'approval' ? 'errored' : 'succeeded',
      message: view.log.trim().split('\n').at(-1)?.slice(0, 500) ?? '',
      ...(view.evaluation ? { evaluation: { result: view.evaluation.result, score: view.evaluation.score } } : {}),
    },
    { triggeredid: triggeredId },
  );
}

/** Keptn's scope of an event: project, stage, service and labels. */
export function keptnScope(deployment: DeploymentState) {
  const lifecycle = deployment.input.lifecycle;
  return lifecycle
    ? { project: deployment.input.project.id, stage: lifecycle.stage, service: lifecycle.service, ...(lifecycle.labels ? { labels: lifecycle.labels } : {}) }
    : { project: deployment.input.project.id, stage: deployment.input.environment, service: deployment.input.project.id };
}
