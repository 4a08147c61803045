import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  ChildWorkflowFailure,
  condition,
  isCancellation,
  patched,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  uuid4,
} from '@temporalio/workflow';
import type { deployment } from '../deployment/deployment-workflow.js';
import { type CloudEvent, INTERLOCK_EVENT_PREFIX } from '../../core/cloud-events.js';
import { sequencesTriggeredBy } from '../../core/promotion.js';
import {
  cancelRequestSignal,
  type DeploymentInput,
  type DeploymentView,
  releaseEventSignal,
  releaseEventsQuery,
  type ReleaseInput,
  releaseStateQuery,
  type ReleaseView,
  searchAttributes,
  sequenceProgressSignal,
  type SequenceView,
  type TaskResult,
} from '../messages.js';
import type { ReleaseStatus } from '../../core/names.js';
import { channelsFor, dispatch, type Outbox } from '../outbox.js';
import { initialReleaseView } from './release-view.js';
import { CancelRequestSchema } from '../signal-payloads.js';
import { record } from '../../core/views.js';
import type { KeptnContextClaim } from '../messages.js';

/** At most this many events are kept per release (oldest dropped first); a release has a few dozen. */
const EVENT_LIMIT = 1000;

/**
 * One release of a lifecycle project (docs/keptn.md): a parent workflow whose children are the stage
 * deployments. It starts at a stage's sequence; when a sequence finishes with `pass` or `warning`
 * every sequence whose `triggeredOn` names it (and whose selector matches) starts, as Keptn's
 * shipyard-controller promotes; a `fail` promotes nothing. It keeps the release's Keptn events,
 * and ends when no sequence runs: `Succeeded`, or `Failed`/`Aborted` as its worst sequence ended.
 * Cancelling it cancels the running children.
 */
export async function release(input: ReleaseInput): Promise<ReleaseView> {
  const view: ReleaseView = input.resume?.view ?? initialReleaseView(input);
  const events: CloudEvent[] = input.resume?.events ?? [];
  const eventDeployments: Record<string, string> = input.resume?.eventDeployments ?? {};
  const outbox: Outbox = { routes: input.notifications, timeline: view.timeline, deliveries: new Set() };
  const running = new Set<string>();
  const used = new Set<string>();

  const keep = (event: CloudEvent, deploymentId?: string) => {
    events.push(event);
    if (events.length > EVENT_LIMIT) events.splice(0, events.length - EVENT_LIMIT);
    if (deploymentId && event.type.endsWith('.triggered')) eventDeployments[event.id] = deploymentId;
  };
  const sequenceOf = (deploymentId: string) => view.stages.flatMap((stage) => stage.sequences).find((sequence) => sequence.deploymentId === deploymentId);
  const setStatus = (status: ReleaseStatus) => {
    if (view.status === status) return;
    view.status = status;
    upsertSearchAttributes([{ key: searchAttributes.status, value: status }]);
  };
  const showProgress = () => {
    const live = view.stages.flatMap((stage) => stage.sequences.map((sequence) => ({ stage: stage.name, sequence })))
      .filter(({ sequence }) => sequence.deploymentId !== null && sequence.finishedAt === null);
    if (live.length === 0) return;
    setStatus(live.some(({ sequence }) => sequence.status === 'Waiting') ? 'Waiting' : 'Running');
    setCurrentDetails(live.map(({ stage, sequence }) => `${stage}.${sequence.name}: ${sequence.status === 'Waiting' ? 'waiting for approval' : sequence.status}`).join('; '));
  };

  setHandler(releaseStateQuery, () => view);
  setHandler(releaseEventsQuery, () => ({ events: [...events].reverse(), deployments: eventDeployments }));
  setHandler(releaseEventSignal, ({ deploymentId, event }) => keep(event, deploymentId));
  setHandler(sequenceProgressSignal, ({ deploymentId, status }) => {
    const sequence = sequenceOf(deploymentId);
    if (!sequence || sequence.finishedAt !== null) return;
    sequence.status = status;
    showProgress();
  });
  setHandler(cancelRequestSignal, (raw: unknown) => {
    const parsed = CancelRequestSchema.safeParse(raw);
    if (parsed.success) record(view.timeline, { at: now(), user: parsed.data.user.username, action: 'cancel', result: 'accepted' });
  });

  /** Emits one of the release's own Keptn events: kept in its list, delivered to subscribers. `id`: one the trigger chose. */
  const emit = (type: string, data: Record<string, unknown>, id?: string): CloudEvent => {
    const event: CloudEvent = {
      specversion: '1.0',
      id: id ?? uuid4(),
      source: `interlock:${input.id}`,
      type,
      time: now(),
      datacontenttype: 'application/json',
      shkeptncontext: input.keptnContext,
      data: { project: input.project.id, service: input.service, release: input.release, ...(input.labels ? { labels: input.labels } : {}), ...data },
    };
    keep(event);
    dispatch(outbox, event, { foreignId: id !== undefined });
    return event;
  };

  const start = async (stage: string, sequenceName: string, triggeredBy?: { stage: string; sequence: string; result: TaskResult }) => {
    const sequence = view.stages.find((s) => s.name === stage)?.sequences.find((s) => s.name === sequenceName);
    const template = input.sequences[`${stage}.${sequenceName}`];
    if (!sequence || !template) return;
    const suffix = input.id.split(':').at(-1)!;
    let id = `${input.project.id}:${stage}:${input.release}:${suffix}-${sequenceName}`;
    for (let n = 2; used.has(id); n++) id = `${input.project.id}:${stage}:${input.release}:${suffix}-${sequenceName}-${n}`;
    used.add(id);
    const triggered = emit(
      `sh.keptn.event.${stage}.${sequenceName}.triggered`,
      { stage, ...(input.configurationChange ? { configurationChange: input.configurationChange } : {}), ...(triggeredBy ? { result: triggeredBy.result } : {}) },
      // The first sequence's event keeps the id of the event that triggered the release.
      triggeredBy ? undefined : input.triggeredId,
    );
    const { taskProperties, ...rest } = template;
    const child: DeploymentInput = {
      ...rest,
      id,
      environment: stage,
      createdAt: now(),
      lifecycle: {
        releaseId: input.id,
        keptnContext: input.keptnContext,
        stage,
        sequence: sequenceName,
        service: input.service,
        ...(input.labels ? { labels: input.labels } : {}),
        ...(triggeredBy ? { triggeredBy } : {}),
        triggeredId: triggered.id,
        taskProperties,
        ...(input.configurationChange ? { configurationChange: input.configurationChange } : {}),
      },
      ...(input.releaseNotes ? { releaseNotes: input.releaseNotes } : {}),
    };
    Object.assign(sequence, { status: 'Running', deploymentId: id, startedAt: now() } satisfies Partial<SequenceView>);
    running.add(id);
    showProgress();
    let handle;
    try {
      handle = await startChild<typeof deployment>('deployment', {
        workflowId: id,
        args: [child],
        memo: { triggeredBy: input.triggeredBy.username },
        typedSearchAttributes: [
          { key: searchAttributes.project, value: input.project.id },
          { key: searchAttributes.environment, value: stage },
          { key: searchAttributes.release, value: input.release },
          { key: searchAttributes.status, value: 'Running' },
          { key: searchAttributes.keptnContext, value: input.keptnContext },
          { key: searchAttributes.stage, value: stage },
          { key: searchAttributes.sequence, value: sequenceName },
        ],
        staticSummary: `${stage}.${sequenceName} of ${input.project.name} ${input.release} (release ${input.id})`,
        staticDetails: child.process.map((step, i) => `${i + 1}. ${step.name} (${step.type})`).join('\n'),
      });
    } catch (error) {
      record(view.timeline, { at: now(), user: 'system', action: 'notify', result: 'failed', reason: `${stage}.${sequenceName} could not start: ${error instanceof Error ? error.message : String(error)}` });
      return finished(stage, sequence, undefined);
    }
    void handle.result().then(
      (final) => finished(stage, sequence, final),
      (error: unknown) => finished(stage, sequence, viewOf(error)),
    );
  };

  const finished = (stage: string, sequence: SequenceView, final: DeploymentView | undefined) => {
    running.delete(sequence.deploymentId!);
    const status = final?.status ?? 'Failed';
    const result: TaskResult | null = status === 'Cancelled' ? null : (final?.result ?? (status === 'Succeeded' ? 'pass' : 'fail'));
    Object.assign(sequence, { status, result, finishedAt: final?.finishedAt ?? now() } satisfies Partial<SequenceView>);
    emit(`sh.keptn.event.${stage}.${sequence.name}.finished`, {
      stage,
      result: result ?? 'fail',
      status: status === 'Succeeded' ? 'succeeded' : status === 'Failed' ? 'errored' : 'aborted',
      message: final ? `${stage}.${sequence.name} ${status.toLowerCase()}` : `${stage}.${sequence.name} ended without a view`,
    });
    if (result === 'pass' || result === 'warning') {
      const lastTask = final?.steps.findLast((step) => step.result !== undefined && step.result !== null)?.name;
      for (const next of sequencesTriggeredBy(input.shipyard, { stage, sequence: sequence.name, result, lastTask })) {
        void start(next.stage, next.sequence, { stage, sequence: sequence.name, result });
      }
    }
    showProgress();
  };

  setCurrentDetails('Starting');
  try {
    await start(input.start.stage, input.start.sequence);
    await condition(() => running.size === 0);
  } catch (error) {
    if (!isCancellation(error)) throw error;
    await CancellationScope.nonCancellable(async () => {
      // The running children are cancelled with this scope; wait for them to end.
      await condition(() => running.size === 0);
      if (!view.timeline.some((entry) => entry.action === 'cancel')) record(view.timeline, { at: now(), user: 'system', action: 'cancel', result: 'accepted' });
      end('Cancelled');
      while (outbox.deliveries.size > 0) await Promise.all([...outbox.deliveries]);
    });
    throw new CancelledFailure('Release cancelled', [view]);
  }
  const sequences = view.stages.flatMap((stage) => stage.sequences);
  end(sequences.some((s) => s.status === 'Failed') ? 'Failed' : sequences.some((s) => s.status === 'Aborted') ? 'Aborted' : 'Succeeded');
  while (outbox.deliveries.size > 0) await Promise.all([...outbox.deliveries]);
  if (view.status === 'Succeeded') return view;
  throw ApplicationFailure.create({ type: `Release${view.status}`, message: `Release ${view.status.toLowerCase()}`, nonRetryable: true, details: [view] });

  /** `release.finished` to its subscribers (releases recorded before this patch sent none). */
  function announceEnd(status: ReleaseStatus) {
    const type = `${INTERLOCK_EVENT_PREFIX}release.finished`;
    if (channelsFor(input.notifications, type).length === 0 || !patched(RELEASE_FINISHED_EVENT)) return;
    const base = Object.values(input.sequences)[0]?.variables['Interlock.Url'];
    const last = view.stages.flatMap((stage) => stage.sequences).filter((sequence) => sequence.finishedAt !== null).at(-1);
    dispatch(outbox, {
      specversion: '1.0',
      id: uuid4(),
      source: base ? `${base}/releases/${encodeURIComponent(input.id)}` : `interlock:${input.id}`,
      type,
      time: now(),
      datacontenttype: 'application/json',
      shkeptncontext: input.keptnContext,
      data: {
        project: input.project.id,
        release: input.release,
        status,
        ...(last?.result ? { result: last.result } : {}),
        ...(base ? { links: { release: `${base}/releases/${encodeURIComponent(input.id)}` } } : {}),
      },
    });
  }

  function end(status: ReleaseStatus) {
    for (const stage of view.stages) {
      for (const sequence of stage.sequences) if (sequence.deploymentId === null) sequence.status = 'Skipped';
    }
    view.finishedAt = now();
    setStatus(status);
    announceEnd(status);
    setCurrentDetails(`${status}: ${view.stages.map((stage) => `${stage.name} ${stage.sequences.map((s) => s.result ?? s.status.toLowerCase()).join('/')}`).join(', ')}`);
  }
}

/** A child's final view from its failure (failed, aborted, cancelled): it travels in the failure's details. */
function viewOf(error: unknown): DeploymentView | undefined {
  const cause = error instanceof ChildWorkflowFailure ? error.cause : error;
  const details = cause instanceof ApplicationFailure || cause instanceof CancelledFailure ? cause.details : undefined;
  return details?.[0] as DeploymentView | undefined;
}

/** The patch: releases recorded before it sent no `release.finished`. */
const RELEASE_FINISHED_EVENT = 'release-finished-event';

const now = () => new Date().toISOString();

/**
 * Holds a Keptn context for one release (one context, one release): its workflow ID is the
 * context's, so a second claim is refused by Temporal itself, however many triggers race; its memo
 * names the release. It has nothing to do but exist, and ends at once.
 */
export async function keptnContextClaim(claim: KeptnContextClaim): Promise<KeptnContextClaim> {
  return claim;
}
