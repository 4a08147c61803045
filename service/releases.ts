import { createHash, randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { Project } from '../config/schema.js';
import { keptnContextClaimId, projectOfReleaseId, releaseWorkflowId } from '../core/ids.js';
import { questionsBeforeAnswers } from '../core/cloud-events.js';
import { initialReleaseView } from '../workflows/release/release-view.js';
import {
  CONTEXT_CLAIM_WORKFLOW_TYPE,
  type KeptnContextClaim,
  RELEASE_WORKFLOW_TYPE,
  releaseEventsQuery,
  type ReleaseInput,
  releaseStateQuery,
  type ReleaseView,
  searchAttributes,
} from '../workflows/messages.js';
import type { ReleaseStatus } from '../core/names.js';
import { can, personOf, type Principal, requirePermission, seesEverything, visibilityClause } from './permissions.js';
import type { ServiceDeps } from './deployments.js';
import { invalid, notFound, ServiceError } from './errors.js';
import { notificationRoutes, sequenceBases, triggerVariables } from './inputs.js';
import { type Links, releaseLinks } from './paths.js';
import { FinalEvents, type ReleaseEvents } from './final-events.js';
import { Limits } from './rate-limit.js';
import { listRuns, type VisibleRun } from './visibility.js';
import { isoOfTimestamp } from '../core/durations.js';
import { type Snapshot, Watcher } from './watch.js';
import { BoundedMap, WorkflowAccess } from './workflow-access.js';

/** A Keptn context as Interlock takes it: safe in a workflow ID and inside a visibility query's quotes. */
const KEPTN_CONTEXT = /^[A-Za-z0-9_.-]{1,100}$/;

export interface ReleaseWithLinks extends ReleaseView {
  links: Links;
}

/** A row of `GET /api/releases`, from visibility alone. */
export interface ReleaseSummary {
  id: string;
  keptnContext: string;
  project: string;
  release: string;
  status: ReleaseStatus;
  createdAt: string;
  finishedAt: string | null;
  triggeredBy: string | null;
  links: Links;
}

/** A release asked for through the API or a Keptn `sh.keptn.event.<stage>.<sequence>.triggered` event. */
export interface ReleaseRequest {
  project: string;
  release: string;
  stage?: string | undefined;
  sequence?: string | undefined;
  variables?: Record<string, string> | undefined;
  /** Keptn's: passed to every task's events. */
  labels?: Record<string, string> | undefined;
  service?: string | undefined;
  configurationChange?: Record<string, unknown> | undefined;
  /** Given by a Keptn event's `shkeptncontext` (one context, one release); made up otherwise. */
  keptnContext?: string | undefined;
  /** The id of the triggering event, kept as the sequence's `.triggered` event's id. */
  triggeredId?: string | undefined;
  /** Markdown, shown with every interruption of its deployments (docs/change-control.md#the-context-to-decide). */
  releaseNotes?: string | undefined;
}

/**
 * The releases of lifecycle projects (docs/keptn.md): trigger one at a stage, read it (by id or by Keptn
 * context), list them, watch them, cancel them, and read their Keptn events. Like `Deployments`,
 * it owns the rules and speaks to Temporal; the JSON API, the Keptn event API, the dashboard and
 * the CLI all call it.
 */
export class Releases {
  readonly temporal: WorkflowAccess;
  readonly watcher: Watcher<ReleaseWithLinks>;
  /** Keptn contexts and the release each belongs to, once known: a context's release never changes. */
  private readonly contexts = new BoundedMap<string, string>(50_000);
  /** Finished releases' events, read once each. */
  private readonly finalEvents = new FinalEvents();

  /** What one person may start and do (shared with deployments): a cancel counts as an action. */
  readonly limits: Limits;

  constructor(private readonly deps: ServiceDeps) {
    this.temporal = new WorkflowAccess(deps.client, deps.taskQueue, RELEASE_WORKFLOW_TYPE, 'release', deps.actionTimeoutMs ?? 10_000);
    this.limits = deps.limits ?? new Limits();
    this.watcher = new Watcher<ReleaseWithLinks>({ get: (id) => this.view(id), longPollForEnd: (id, signal) => this.longPollForEnd(id, signal) });
  }

  /**
   * Starts a release at a stage's sequence (the first stage's `delivery`, or its first sequence, unless
   * told), for a deployer of the project at that stage; later stages follow by the shipyard's rules.
   */
  async trigger(user: Principal, request: ReleaseRequest): Promise<{ view: ReleaseWithLinks; created: boolean }> {
    const unknown = `No project "${request.project}". GET /api/projects lists them.`;
    const project = this.deps.config.projects.find((p) => p.id === request.project);
    if (!project || !can(user, 'see', { project: project.id })) throw notFound(unknown);
    if (!project.shipyard) {
      throw invalid([{ name: 'body.project', reason: `${project.id} is not a lifecycle project (it has a process, no shipyard): POST /api/deployments deploys it` }]);
    }
    const start = startOf(project, request.stage, request.sequence);
    requirePermission(user, 'trigger', { project: project.id, environment: start.stage }, `a release of ${project.id} from ${start.stage}`, { hidden: unknown, seenAt: { project: project.id } });
    const resolved = triggerVariables(project, request.variables);
    if (request.keptnContext !== undefined && !KEPTN_CONTEXT.test(request.keptnContext)) {
      throw invalid([{ name: 'body.shkeptncontext', reason: 'a Keptn context (letters, digits, ".", "_", "-"; at most 100)' }]);
    }
    const keptnContext = request.keptnContext ?? randomUUID();
    // The id follows from the context: one release per context, however often it is posted.
    const suffix = createHash('sha256').update(keptnContext).digest('hex').slice(0, 10);
    const triggeredBy = personOf(user);
    const notifications = notificationRoutes(this.deps.config, project.id);
    const input: ReleaseInput = {
      id: releaseWorkflowId(project.id, request.release, suffix),
      keptnContext,
      project: { id: project.id, name: project.name },
      release: request.release,
      service: request.service ?? project.id,
      shipyard: { spec: project.shipyard.spec },
      sequences: sequenceBases(this.deps.config, project, request.release, resolved, user, this.deps.systemVariables),
      start,
      ...(request.labels ? { labels: request.labels } : {}),
      ...(request.configurationChange ? { configurationChange: request.configurationChange } : {}),
      triggeredBy,
      createdAt: new Date().toISOString(),
      triggeredId: request.triggeredId ?? randomUUID(),
      ...(notifications ? { notifications } : {}),
      ...(request.releaseNotes?.trim() ? { releaseNotes: request.releaseNotes } : {}),
    };
    // A context belongs to one release for good: claimed before anything starts, so that it also
    // resolves at once, in any API process. One Interlock made up is new: no release can have it yet.
    await this.claim({ keptnContext, releaseId: input.id, project: project.id, release: request.release }, { fresh: !request.keptnContext, user });
    const created = await this.temporal.call(async () => {
      try {
        await this.deps.client.workflow.start(RELEASE_WORKFLOW_TYPE, {
          args: [input],
          workflowId: input.id,
          taskQueue: this.deps.taskQueue,
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          memo: { triggeredBy: triggeredBy.username },
          typedSearchAttributes: [
            { key: searchAttributes.project, value: project.id },
            { key: searchAttributes.release, value: request.release },
            { key: searchAttributes.status, value: 'Running' },
            { key: searchAttributes.keptnContext, value: keptnContext },
          ],
          staticSummary: `Release ${project.name} ${request.release} from ${start.stage}.${start.sequence} (triggered by ${triggeredBy.username})`,
          staticDetails: project.shipyard!.spec.stages.map((stage) => `${stage.name}: ${stage.sequences.map((s) => s.name).join(', ')}`).join('\n'),
        });
        return true;
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        // The same project, release and context again (or at the same moment): the release there is.
        if (request.keptnContext) return false;
        throw new ServiceError('RELEASE_EXISTS', `A release with keptnContext ${keptnContext} exists already (${input.id}); send a new context for a new release.`);
      }
    });
    this.contexts.set(keptnContext, input.id);
    this.temporal.started(input.id);
    if (!created) return { view: await this.view(input.id), created: false };
    return { view: this.withLinks(initialReleaseView(input)), created: true };
  }

  /**
   * Holds a Keptn context for the release `claim` names, or finds whose it is: CONTEXT_IN_USE when it
   * is another release's (another project or release), nothing when it is this one's (idempotency).
   * Temporal refuses a second claim workflow of one context, so two triggers racing with one context
   * cannot both win. A claim is forgotten with its workflow's retention, before a long release is:
   * the release's own search attribute (long visible by then) is asked first, unless the context is
   * `fresh` (made up just now).
   */
  private async claim(claim: KeptnContextClaim, { fresh, user }: { fresh: boolean; user: Principal }): Promise<void> {
    const earlier = fresh ? undefined : await this.earliestWithContext(claim.keptnContext);
    const owner = earlier ?? (await this.startClaim(claim));
    if (owner && owner.releaseId !== claim.releaseId) {
      // Whose it is, only to someone who may see that release.
      const shown = owner.project !== undefined && owner.project !== '' && can(user, 'see', { project: owner.project });
      const whose = shown ? `release ${owner.releaseId} (${owner.project} ${owner.release})` : 'another release';
      throw new ServiceError(
        'CONTEXT_IN_USE',
        `keptnContext ${claim.keptnContext} belongs to ${whose}; nothing was started. A context names one release for good: send a new one for a new release.`,
      );
    }
  }

  /** Starts the claim; when there is one already, whose it is (an unreadable one, of another Interlock, counts as someone else's). */
  private async startClaim(claim: KeptnContextClaim): Promise<Pick<KeptnContextClaim, 'releaseId'> & Partial<KeptnContextClaim> | undefined> {
    try {
      await this.temporal.call(() =>
        this.deps.client.workflow.start(CONTEXT_CLAIM_WORKFLOW_TYPE, {
          args: [claim],
          workflowId: keptnContextClaimId(claim.keptnContext),
          taskQueue: this.deps.taskQueue,
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          memo: { ...claim },
          staticSummary: `Keptn context ${claim.keptnContext} belongs to release ${claim.releaseId}`,
        }),
      );
      return undefined;
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      return (await this.claimOf(claim.keptnContext)) ?? { releaseId: 'of another Interlock' };
    }
  }

  /** The release a claim names, from its memo (strongly consistent, unlike visibility); undefined when there is no claim of ours. */
  private async claimOf(keptnContext: string): Promise<KeptnContextClaim | undefined> {
    let description;
    try {
      description = await this.temporal.call(() => this.deps.client.workflow.getHandle(keptnContextClaimId(keptnContext)).describe());
    } catch (error) {
      if (error instanceof ServiceError && error.code === 'NOT_FOUND') return undefined;
      throw error;
    }
    const memo = description.memo ?? {};
    if (description.type !== CONTEXT_CLAIM_WORKFLOW_TYPE || description.taskQueue !== this.deps.taskQueue || typeof memo.releaseId !== 'string') return undefined;
    return { keptnContext, releaseId: memo.releaseId, project: String(memo.project ?? ''), release: String(memo.release ?? '') };
  }

  /**
   * The first release started with this context, from visibility: releases whose claim Temporal has
   * forgotten, and those started before contexts were claimed (a context used twice then answers
   * with its first release).
   */
  private async earliestWithContext(keptnContext: string): Promise<KeptnContextClaim | undefined> {
    const { executions } = await this.temporal.call(() =>
      this.deps.client.workflowService.listWorkflowExecutions({
        namespace: this.deps.client.options.namespace,
        query: [...this.temporal.scope(), `${searchAttributes.keptnContext.name} = '${keptnContext}'`].join(' AND '),
        pageSize: 20,
      }),
    );
    const first = [...(executions ?? [])].sort((a, b) => (isoOfTimestamp(a.startTime) ?? '').localeCompare(isoOfTimestamp(b.startTime) ?? ''))[0];
    const id = first?.execution?.workflowId;
    if (!id) return undefined;
    const fields = first.searchAttributes?.indexedFields ?? {};
    const read = (name: string) => (fields[name] ? String(defaultPayloadConverter.fromPayload(fields[name] as Payload)) : '');
    return { keptnContext, releaseId: id, project: read(searchAttributes.project.name), release: read(searchAttributes.release.name) };
  }

  /**
   * A release by its id or its Keptn context, for a principal who may see its project (in any
   * environment); NOT_FOUND otherwise, in the words an unknown one gets.
   */
  async get(user: Principal, idOrContext: string): Promise<ReleaseWithLinks> {
    const view = await this.view(await this.visibleId(user, idOrContext));
    if (!can(user, 'see', { project: view.project })) throw notFound(missing(idOrContext));
    return view;
  }

  /** A release's view by its id or Keptn context, whoever asks (the watcher; its readers were checked when they came). */
  async view(idOrContext: string): Promise<ReleaseWithLinks> {
    return this.withLinks(await this.temporal.readView(await this.resolve(idOrContext), releaseStateQuery));
  }

  /**
   * The workflow id of a release the principal may see, by its id or Keptn context: its project is
   * read from the id, and one the principal may not see is NOT_FOUND in the words of an unknown one.
   */
  async visibleId(user: Principal, idOrContext: string): Promise<string> {
    const id = await this.resolve(idOrContext);
    const project = projectOfReleaseId(id);
    if (project === undefined ? !seesEverything(user) : !can(user, 'see', { project })) throw notFound(missing(idOrContext));
    return id;
  }

  /**
   * The workflow id of a release named by its id (it has colons) or by its Keptn context: the release
   * the context was claimed for (no visibility lag), else the first release visibility knows with it.
   */
  async resolve(idOrContext: string): Promise<string> {
    if (idOrContext.includes(':')) return idOrContext;
    if (!KEPTN_CONTEXT.test(idOrContext)) throw notFound(`No release "${idOrContext}".`);
    const known = this.contexts.get(idOrContext);
    if (known) return known;
    const owner = (await this.claimOf(idOrContext)) ?? (await this.earliestWithContext(idOrContext));
    if (!owner) throw notFound(`No release with id or keptnContext "${idOrContext}".`);
    this.contexts.set(idOrContext, owner.releaseId);
    return owner.releaseId;
  }

  /** Newest first within a page, filtered by project and status, from visibility; no workflow is opened. */
  async list(user: Principal, filters: { project?: string | undefined; status?: ReleaseStatus | undefined; pageSize: number; pageToken?: string | undefined }) {
    const equal = { [searchAttributes.project.name]: filters.project, [searchAttributes.status.name]: filters.status };
    // Only the releases of projects the caller sees, in the query itself: every page is full.
    const visible = visibilityClause(user, { environments: false });
    const scope = [...this.temporal.scope(), ...(visible ? [visible] : [])];
    const { rows, nextPageToken } = await this.temporal.call(() =>
      listRuns(this.deps.client, this.deps.signer, scope, equal, filters, (run: VisibleRun<ReleaseStatus>): ReleaseSummary => ({
        id: run.id,
        keptnContext: run.read<string>(searchAttributes.keptnContext.name) ?? '',
        project: run.project,
        release: run.release,
        status: run.status,
        createdAt: run.createdAt,
        finishedAt: run.finishedAt,
        triggeredBy: run.triggeredBy,
        links: this.links(run.id),
      })),
    );
    return { releases: rows, nextPageToken };
  }

  /**
   * Cancels a release that has not finished, naming who asked; its running sequence is cancelled with
   * it (`WorkflowAccess.cancel`, as for a deployment). It counts as an action against the person's action rate.
   */
  async cancel(user: Principal, idOrContext: string): Promise<{ view: ReleaseWithLinks; finished: boolean }> {
    this.limits.action(user.id);
    const id = await this.visibleId(user, idOrContext);
    requirePermission(user, 'cancel', { project: projectOfReleaseId(id) }, 'this release', { hidden: missing(idOrContext) });
    return this.temporal.cancel(id, personOf(user), this.watcher);
  }

  /** The release's Keptn events, newest first, optionally of one type, a page at a time (an offset, sealed). */
  async events(user: Principal, idOrContext: string, { type, pageSize, pageToken }: { type?: string | undefined; pageSize: number; pageToken?: string | undefined }) {
    const { events } = await this.eventsOf(await this.visibleId(user, idOrContext));
    const matching = type ? events.filter((event) => event.type === type) : events;
    let offset = 0;
    if (pageToken) {
      const opened = this.deps.signer.unseal('events', pageToken);
      if (opened === undefined || !/^\d+$/.test(opened)) {
        throw invalid([{ name: 'query.pageToken', reason: 'not a page token this API gave out; start from the first page' }]);
      }
      offset = Number(opened);
    }
    const page = matching.slice(offset, offset + pageSize);
    const next = offset + pageSize < matching.length ? this.deps.signer.seal('events', String(offset + pageSize)) : null;
    return { events: page, nextPageToken: next };
  }

  /**
   * Every Keptn event of a release, and which deployment each task's `.triggered` event came from.
   * A running release answers its query; a finished one only through a replay of its history on a
   * worker, so that is done once per release (concurrent reads share it) and kept.
   */
  async eventsOf(idOrContext: string): Promise<ReleaseEvents> {
    const id = await this.resolve(idOrContext);
    const kept = this.finalEvents.get(id);
    if (kept) return kept;
    const handle = this.deps.client.workflow.getHandle(id);
    const description = await this.temporal.describe(handle);
    const read = async () => {
      const { events, deployments } = await this.temporal.withDeadline(() => handle.query(releaseEventsQuery));
      return { id, events: questionsBeforeAnswers(events), deployments };
    };
    if (description.status.name === 'RUNNING') return read();
    return this.finalEvents.read(id, read);
  }

  subscribe(id: string, listener: { onView(snapshot: Snapshot<ReleaseWithLinks>): void; onError(error: unknown): void }): () => void {
    return this.watcher.subscribe(id, listener);
  }

  waitForEnd(id: string, timeoutMs: number, seen?: Snapshot<ReleaseWithLinks>): Promise<Snapshot<ReleaseWithLinks>> {
    return this.watcher.waitForEnd(id, timeoutMs, seen);
  }

  async longPollForEnd(id: string, signal: AbortSignal): Promise<ReleaseWithLinks | undefined> {
    const view = await this.temporal.longPollForEnd<ReleaseView>(id, signal);
    return view ? this.withLinks(view) : undefined;
  }

  withLinks(view: ReleaseView): ReleaseWithLinks {
    return { ...view, links: this.links(view.id) };
  }

  private links(id: string): Links {
    return releaseLinks(id, this.deps.uiUrl, this.deps.client.options.namespace);
  }
}

/** How an unknown release is answered (by id, or by Keptn context), and so one the caller may not see. */
const missing = (idOrContext: string) =>
  idOrContext.includes(':') ? `No release "${idOrContext}".` : `No release with id or keptnContext "${idOrContext}".`;

/** Where a release starts: the stage asked for (else the first), its sequence asked for (else `delivery`, else its first). */
function startOf(project: Project, stageName: string | undefined, sequenceName: string | undefined) {
  const stages = project.shipyard!.spec.stages;
  const stage = stageName === undefined ? stages[0]! : stages.find((s) => s.name === stageName);
  if (!stage) throw invalid([{ name: 'body.stage', reason: `"${stageName}" is not a stage of ${project.id} (${stages.map((s) => s.name).join(', ')})` }]);
  const sequence = sequenceName === undefined
    ? (stage.sequences.find((s) => s.name === 'delivery') ?? stage.sequences[0])
    : stage.sequences.find((s) => s.name === sequenceName);
  if (!sequence) {
    const known = stage.sequences.map((s) => s.name).join(', ') || 'none';
    throw invalid([{ name: sequenceName === undefined ? 'body.stage' : 'body.sequence', reason: `stage ${stage.name} has no sequence${sequenceName === undefined ? 's' : ` "${sequenceName}"`} (it has ${known})` }]);
  }
  return { stage: stage.name, sequence: sequence.name };
}
