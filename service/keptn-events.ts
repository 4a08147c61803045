import { randomUUID } from 'node:crypto';
import type { User } from '../config/schema.js';
import { RELEASE_PATTERN } from '../core/ids.js';
import { type InputValues, notesProblem } from '../core/interruptions.js';
import type { CloudEvent } from '../workflows/messages.js';
import type { Deployments } from './deployments.js';
import { invalid, ServiceError } from './errors.js';
import type { Releases } from './releases.js';

/** A CloudEvent as a Keptn client posts it (structured mode): Keptn's fields, and whatever else it carries. */
export interface PostedEvent {
  type: string;
  specversion?: string | undefined;
  id?: string | undefined;
  source?: string | undefined;
  time?: string | undefined;
  shkeptncontext?: string | undefined;
  triggeredid?: string | undefined;
  data?: Record<string, unknown> | undefined;
  [key: string]: unknown;
}

/** The most a posted event may weigh, as JSON. */
export const MAX_EVENT_BYTES = 16 * 1024;

const SEQUENCE_TRIGGERED = /^sh\.keptn\.event\.([a-z][a-z0-9-]*)\.([a-z][a-z0-9-]*)\.triggered$/;
const TASK_EVENT = /^sh\.keptn\.event\.([a-z][a-z0-9-]*)\.(started|finished)$/;

/**
 * Keptn's event API on Interlock (docs/keptn.md): what a script written for Keptn posts to
 * `/api/v1/event` works unchanged. A sequence's `.triggered` event starts a release at that stage;
 * `approval.finished` approves or declines by the token's user under the same rules as
 * take-responsibility + proceed/abort; a task's `.started`/`.finished` completes an external task.
 */
export class KeptnEvents {
  constructor(
    private readonly releases: Releases,
    private readonly deployments: Deployments,
  ) {}

  async receive(user: User, posted: PostedEvent): Promise<{ keptnContext: string }> {
    // Every event is kept in its release's list and history: a small one says all a task needs.
    const size = Buffer.byteLength(JSON.stringify(posted));
    if (size > MAX_EVENT_BYTES) throw invalid([{ name: 'body', reason: `an event may be at most ${MAX_EVENT_BYTES / 1024} KiB; this one is ${Math.ceil(size / 1024)} KiB` }]);
    const event = complete(posted);
    const sequence = SEQUENCE_TRIGGERED.exec(event.type);
    if (sequence) return this.triggerSequence(user, event, sequence[1]!, sequence[2]!);
    if (event.type === 'sh.keptn.event.approval.finished') return this.approvalFinished(user, event);
    if (TASK_EVENT.test(event.type)) return this.taskEvent(user, event);
    throw invalid([{
      name: 'body.type',
      reason: `Interlock takes sh.keptn.event.<stage>.<sequence>.triggered, sh.keptn.event.approval.finished and sh.keptn.event.<task>.started|finished; "${event.type}" is none of them`,
    }]);
  }

  /** `keptn trigger delivery`: a release of `data.project` starting at the stage and sequence the type names. */
  private async triggerSequence(user: User, event: CloudEvent, stage: string, sequence: string): Promise<{ keptnContext: string }> {
    const data = event.data as { project?: unknown; stage?: unknown; service?: unknown; labels?: unknown; configurationChange?: unknown };
    if (typeof data.project !== 'string' || data.project === '') throw invalid([{ name: 'body.data.project', reason: 'the project to release' }]);
    if (data.stage !== undefined && data.stage !== stage) {
      throw invalid([{ name: 'body.data.stage', reason: `"${String(data.stage)}" differs from the stage in the type (${stage})` }]);
    }
    const labels = stringRecord(data.labels, 'body.data.labels');
    const release = releaseOf(event, labels);
    const { view } = await this.releases.trigger(user, {
      project: data.project,
      release,
      stage,
      sequence,
      ...(labels ? { labels } : {}),
      ...(typeof data.service === 'string' && data.service ? { service: data.service } : {}),
      ...(isRecord(data.configurationChange) ? { configurationChange: data.configurationChange } : {}),
      ...(event.shkeptncontext ? { keptnContext: event.shkeptncontext } : {}),
      triggeredId: event.id,
    });
    return { keptnContext: view.keptnContext };
  }

  /** Keptn's way to approve (`result: pass`) or decline (`fail`): take responsibility, then proceed or abort, as the token's user. */
  private async approvalFinished(user: User, event: CloudEvent): Promise<{ keptnContext: string }> {
    const { context, triggeredId } = keys(event);
    const data = event.data as { result?: unknown; message?: unknown; inputs?: unknown };
    if (data.result !== 'pass' && data.result !== 'fail') throw invalid([{ name: 'body.data.result', reason: 'pass (approve) or fail (decline)' }]);
    // `data.message` is the decision's notes, under the one notes rule: a longer one is refused, never cut.
    const notes = typeof data.message === 'string' && data.message ? data.message : undefined;
    const notesRefused = notesProblem(notes);
    if (notesRefused !== undefined) throw invalid([{ name: 'body.data.message', reason: notesRefused }]);
    // `data.inputs` are the approver's inputs (docs/manual-steps.md#approver-inputs), checked before anything is taken.
    if (data.inputs !== undefined && !isRecord(data.inputs)) throw invalid([{ name: 'body.data.inputs', reason: 'an object of input names and values' }]);
    const inputs = data.inputs as InputValues | undefined;
    const decision = { type: data.result === 'pass' ? 'proceed' as const : 'abort' as const, notes, ...(inputs ? { inputs } : {}) };
    const deploymentId = await this.deploymentOf(context, triggeredId);
    const options = { inputsField: 'body.data.inputs' };
    await this.deployments.act(user, deploymentId, triggeredId, { type: 'takeResponsibility' }, { ...options, then: decision });
    await this.deployments.act(user, deploymentId, triggeredId, decision, options);
    return { keptnContext: context };
  }

  /** An executor's `.started` or `.finished` for an external task. */
  private async taskEvent(user: User, event: CloudEvent): Promise<{ keptnContext: string }> {
    const { context, triggeredId } = keys(event);
    const deploymentId = await this.deploymentOf(context, triggeredId);
    await this.deployments.postTaskEvent(user, deploymentId, event);
    return { keptnContext: context };
  }

  /** The deployment whose task sent the `.triggered` event `triggeredId`, from the release's event list. */
  private async deploymentOf(context: string, triggeredId: string): Promise<string> {
    const { deployments } = await this.releases.eventsOf(context);
    // Own keys only: a triggeredid of `constructor` or `__proto__` names no task.
    const id = Object.hasOwn(deployments, triggeredId) ? deployments[triggeredId] : undefined;
    if (typeof id !== 'string') throw new ServiceError('TASK_NOT_FOUND', `Release ${context} has no task triggered by event ${triggeredId}; GET /api/v1/event?keptnContext=${context} lists its events.`);
    return id;
  }
}

/** The posted event with what Keptn fills in itself: an id, a time, a source, the spec version. */
function complete(posted: PostedEvent): CloudEvent {
  return {
    ...posted,
    specversion: '1.0',
    id: posted.id ?? randomUUID(),
    source: posted.source ?? 'interlock-event-api',
    time: posted.time ?? new Date().toISOString(),
    datacontenttype: 'application/json',
    data: posted.data ?? {},
  } as CloudEvent;
}

function keys(event: CloudEvent): { context: string; triggeredId: string } {
  const missing = [
    ...(event.shkeptncontext ? [] : [{ name: 'body.shkeptncontext', reason: 'the release\'s Keptn context' }]),
    ...(event.triggeredid ? [] : [{ name: 'body.triggeredid', reason: 'the id of the .triggered event this answers' }]),
  ];
  if (missing.length > 0) throw invalid(missing);
  return { context: event.shkeptncontext!, triggeredId: event.triggeredid! };
}

/**
 * The release of a release started by an event (docs/keptn.md): `data.labels.release`, else the tag of
 * `data.configurationChange.values.image` (after its last `:`), else the event's id.
 */
function releaseOf(event: CloudEvent, labels: Record<string, string> | undefined): string {
  const image = (event.data as { configurationChange?: { values?: { image?: unknown } } }).configurationChange?.values?.image;
  const [release, from] = labels?.release
    ? [labels.release, 'body.data.labels.release']
    : typeof image === 'string' && image.includes(':')
      ? [image.slice(image.lastIndexOf(':') + 1), 'body.data.configurationChange.values.image']
      : [event.id, 'body.id'];
  if (!RELEASE_PATTERN.test(release)) throw invalid([{ name: from, reason: `"${release.slice(0, 100)}" is not a release Interlock takes (letters, digits, ".", "_", "+", "-"; at most 100)` }]);
  return release;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function stringRecord(value: unknown, name: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value) || !Object.values(value).every((v) => typeof v === 'string')) throw invalid([{ name, reason: 'an object of strings' }]);
  return value as Record<string, string>;
}

