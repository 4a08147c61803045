import { randomBytes, randomUUID } from 'node:crypto';
import { type Client, WorkflowExecutionAlreadyStartedError, type WorkflowHandle } from '@temporalio/client';
import type { Config } from '../config/schema.js';
import { deploymentWorkflowId, placeOfDeploymentId } from '../core/ids.js';
import { deploymentBase, triggerVariables } from './inputs.js';
import { decide, type DecisionType, type InputValues, isActionableBy, isOpen, mayAct, type RefusalType, type Responsibility, runAtProblem } from '../core/interruptions.js';
import { type ApproverInput, inputProblems } from '../core/approver-inputs.js';
import {
  type CloudEvent,
  DECISION_MESSAGES,
  supersedeSignal,
  type DeploymentInput,
  type DeploymentView,
  type Actor,
  type Interruption,
  searchAttributes,
  stateQuery,
  takeResponsibilityUpdate,
  type TaskEventAnswer,
  taskEventUpdate,
  WORKFLOW_TYPE,
} from '../workflows/messages.js';
import type { InterruptionActionName } from '../core/names.js';
import { executorsInWords, mayAnswerTask } from '../core/executors.js';
import { maskView } from '../core/masking.js';
import { initialView } from '../workflows/deployment/deployment-view.js';
import { actionsOf, actorOf, can, NOTHING, personOf, type Place, placesClause, type Principal, requirePermission, seesEverything, visibilityClause } from './permissions.js';
import { invalid, notFound, ServiceError } from './errors.js';
import { deploymentLinks, type Links } from './paths.js';
import { Limits } from './rate-limit.js';
import { sha256Hex, type Signer } from './signing.js';
import { type ListFilters, listDeployments, listWaiting } from './visibility.js';
import { type Snapshot, Watcher } from './watch.js';
import { BoundedMap, WorkflowAccess } from './workflow-access.js';

export type { DeploymentSummary, ListFilters } from './visibility.js';

/** What the service needs from outside: a Temporal client, this Interlock's task queue, and the config. */
export interface ServiceDeps {
  client: Client;
  taskQueue: string;
  config: Config;
  signer: Signer;
  /** Base URL of Temporal Web for links in views; none when unknown. */
  uiUrl?: string | undefined;
  /** How long an action or query waits for a worker before it is refused as unavailable (ms). Default 10 s. */
  actionTimeoutMs?: number | undefined;
  /** Variables every deployment gets, e.g. `Interlock.Url`. */
  systemVariables?: Record<string, string> | undefined;
  /** What one person may start, do and hold at once; the defaults of `DEFAULT_LIMITS` when absent. */
  limits?: Limits | undefined;
}

export interface DeploymentWithLinks extends DeploymentView {
  links: Links;
}

export interface TriggerRequest {
  project: string;
  environment: string;
  release: string;
  variables?: Record<string, string> | undefined;
  /** Start-by (docs/change-control.md): not past its gates by then, it ends `Expired`. */
  notAfter?: string | undefined;
  /** Markdown, shown as text with every interruption (docs/change-control.md#the-context-to-decide). */
  releaseNotes?: string | undefined;
}

/** What a person asks of an interruption: the same actions from the API, the dashboard and the CLI. */
export type InterruptionActionRequest =
  | { type: 'takeResponsibility'; takeOver?: boolean | undefined }
  | { type: DecisionType; notes?: string | undefined; inputs?: InputValues | undefined; runAt?: string | undefined };

/** Where a request carried its inputs, to name each bad one: `body.inputs` for the API, `body.data.inputs` for Keptn's event. */
export interface ActOptions {
  inputsField?: string;
  /**
   * With takeResponsibility, the decision the caller makes right after (Keptn's `approval.finished`
   * takes, then decides): its inputs are checked first, so a bad one changes nothing at all.
   */
  then?: Extract<InterruptionActionRequest, { notes?: unknown }>;
}

/** The refusals about who is asking: with approval rules, the service gives them before any update (they change with every approval). */
const WHO_REFUSALS: readonly RefusalType[] = ['NOT_IN_TEAM', 'SELF_APPROVAL', 'ALREADY_APPROVED', 'NOT_YOUR_TURN', 'RULE_ALREADY_MET', 'ALREADY_DECIDED'];


/** An open interruption with its deployment and what the reader may do with it. */
export interface OpenInterruption extends Interruption {
  deployment: { id: string; project: string; projectName: string; environment: string; release: string };
  actions: InterruptionActionName[];
}

/**
 * The deployment service: every rule the JSON API, the dashboard and the CLI share — who may
 * trigger, act or cancel, what actions a person has, what is waiting for whom — spoken to Temporal.
 * It throws `ServiceError`s; each front end renders them once.
 */
export class Deployments {
  private readonly client: Client;
  private readonly timeoutMs: number;
  /** Temporal, for this Interlock's deployments only. */
  readonly temporal: WorkflowAccess;
  private readonly reads = new Map<string, { current?: Promise<DeploymentWithLinks>; next?: Promise<DeploymentWithLinks> }>();
  /**
   * What never changes about an interruption (its teams, who is excluded, its inputs), and its rules
   * as last read: who may act is decided before any update.
   */
  private readonly teams = new BoundedMap<string, Responsibility & { inputs?: ApproverInput[] }>(50_000);
  /** The same for an external task, by deployment and `.triggered` event id: its name and executors. */
  private readonly externalTasks = new BoundedMap<string, { name: string; executors: string[] }>(50_000);
  readonly limits: Limits;
  readonly watcher: Watcher;

  constructor(private readonly deps: ServiceDeps) {
    this.client = deps.client;
    this.timeoutMs = deps.actionTimeoutMs ?? 10_000;
    this.temporal = new WorkflowAccess(deps.client, deps.taskQueue, WORKFLOW_TYPE, 'deployment', this.timeoutMs);
    this.limits = deps.limits ?? new Limits();
    // The watcher reads for everyone who may see the deployment; each reader was checked before it subscribed.
    this.watcher = new Watcher({ get: (id) => this.view(id), longPollForEnd: (id, signal) => this.longPollForEnd(id, signal) });
  }

  get config(): Config {
    return this.deps.config;
  }

  /**
   * Starts one deployment for a deployer. With an idempotency key the workflow ID is derived from
   * it, so Temporal itself makes a repeat (or a racing twin) find the first one instead of starting another.
   * Each attempt counts against the person's trigger rate (RATE_LIMITED beyond it, before anything else).
   */
  async trigger(user: Principal, request: TriggerRequest, idempotencyKey?: string): Promise<{ view: DeploymentWithLinks; created: boolean }> {
    this.limits.trigger(user.id);
    const unknown = `No project "${request.project}". GET /api/projects lists them.`;
    const project = this.deps.config.projects.find((p) => p.id === request.project);
    // A project the caller may not see is as unknown as one that does not exist.
    if (!project || !can(user, 'see', { project: project.id })) throw notFound(unknown);
    if (!project.process) {
      throw invalid([{ name: 'body.project', reason: `${project.id} is a lifecycle project: its stages run as a release (POST /api/releases, or a Keptn sh.keptn.event.<stage>.<sequence>.triggered event)` }]);
    }
    if (!project.environments.includes(request.environment)) {
      throw invalid([{ name: 'body.environment', reason: `"${request.environment}" is not an environment of ${project.id} (${project.environments.join(', ')})` }]);
    }
    requirePermission(user, 'trigger', { project: project.id, environment: request.environment }, `${project.id} to ${request.environment}`, { hidden: unknown, seenAt: { project: project.id } });
    const resolved = triggerVariables(project, request.variables);
    if (request.notAfter !== undefined && !(Date.parse(request.notAfter) > Date.now())) {
      throw invalid([{ name: 'body.notAfter', reason: `notAfter must be in the future; ${request.notAfter} has passed` }]);
    }
    const variables = request.variables ?? {};
    const triggeredBy = personOf(user);
    const requestHash = sha256Hex(JSON.stringify([project.id, request.environment, request.release, sortKeys(variables), ...(request.releaseNotes ? [request.releaseNotes] : [])]));
    const keyHash = idempotencyKey ? sha256Hex(`${triggeredBy.id}\n${idempotencyKey}`).slice(0, 32) : undefined;
    const suffix = keyHash ? keyHash.slice(0, 12) : randomBytes(5).toString('hex');
    const requestId = randomUUID();
    const input: DeploymentInput = {
      id: deploymentWorkflowId(project.id, request.environment, request.release, suffix),
      ...deploymentBase(this.deps.config, project, request.environment, request.release, project.process, resolved, user, this.deps.systemVariables),
      createdAt: new Date().toISOString(),
      ...(request.notAfter === undefined ? {} : { notAfter: new Date(request.notAfter).toISOString() }),
      ...(request.releaseNotes?.trim() ? { releaseNotes: request.releaseNotes } : {}),
    };
    return this.call(async () => {
      if (keyHash) await this.refuseKeyReuse(keyHash, idempotencyKey!, input.id);
      let handle: WorkflowHandle;
      try {
        handle = await this.client.workflow.start(WORKFLOW_TYPE, {
          args: [input],
          workflowId: input.id,
          taskQueue: this.deps.taskQueue,
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          memo: { requestHash, requestId, triggeredBy: triggeredBy.username },
          typedSearchAttributes: [
            { key: searchAttributes.project, value: project.id },
            { key: searchAttributes.environment, value: request.environment },
            { key: searchAttributes.release, value: request.release },
            { key: searchAttributes.status, value: 'Running' },
            ...(keyHash ? [{ key: searchAttributes.idempotencyKey, value: keyHash }] : []),
          ],
          staticSummary: `Deploy ${project.name} ${request.release} to ${request.environment} (triggered by ${triggeredBy.username})`,
          staticDetails: input.process
            .map((step, i) => `${i + 1}. ${step.name} (${step.type}${step.environments ? `; only in ${step.environments.join(', ')}` : ''})`)
            .join('\n'),
        });
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        handle = this.client.workflow.getHandle(input.id);
      }
      this.temporal.started(input.id);
      // The new one has started whatever becomes of this: an older one not told goes on waiting.
      await this.supersedeOlder(input).catch(() => undefined);
      const started = this.withLinks(maskView(initialView(input), input.sensitive));
      if (!idempotencyKey) return { view: started, created: true };

      const memo = (await handle.describe()).memo ?? {};
      if (memo.requestHash !== requestHash) throw keyReused(idempotencyKey, `a different request (${input.id})`);
      if (memo.requestId === requestId) return { view: started, created: true };
      return { view: await this.view(input.id), created: false };
    });
  }

  /**
   * Supersede (docs/change-control.md): with a `supersede: true` policy, tells the older deployments
   * of the project and environment that are still running that this one is newer. Each decides for
   * itself, once Temporal confirms it: only one waiting for a decision or its window ends `Superseded`.
   * A signal that cannot be sent is left: the older one goes on waiting, as if no policy had said so.
   */
  private async supersedeOlder(input: DeploymentInput): Promise<void> {
    if (!input.process.some((step) => step.type === 'policy' && step.policy.supersede)) return;
    const { executions } = await this.client.workflowService.listWorkflowExecutions({
      namespace: this.client.options.namespace,
      query: [
        ...this.scope(),
        `ExecutionStatus = 'Running'`,
        `${searchAttributes.project.name} = '${input.project.id}'`,
        `${searchAttributes.environment.name} = '${input.environment}'`,
      ].join(' AND '),
      pageSize: 100,
    });
    const older = (executions ?? []).map((execution) => execution.execution?.workflowId).filter((id): id is string => !!id && id !== input.id);
    await Promise.allSettled(older.map((id) => this.client.workflow.getHandle(id).signal(supersedeSignal, { deploymentId: input.id })));
  }

  /**
   * The same key with another body would get another workflow ID (the ID names the release), so an
   * earlier use is looked up by its search attribute. Visibility lags by a moment: two different
   * bodies racing with one key within it may both start; a repeat of one body never does.
   */
  private async refuseKeyReuse(keyHash: string, key: string, id: string): Promise<void> {
    const { executions } = await this.client.workflowService.listWorkflowExecutions({
      namespace: this.client.options.namespace,
      query: [...this.scope(), `${searchAttributes.idempotencyKey.name} = '${keyHash}'`].join(' AND '),
      pageSize: 1,
    });
    const earlier = executions?.[0]?.execution?.workflowId;
    if (earlier && earlier !== id) throw keyReused(key, `a different deployment (${earlier})`);
  }

  /**
   * Acts on an interruption as `user`: a Temporal update, so the workflow decides and every caller
   * gets a definite answer. Whoever may not act at all (not in a responsible team, a viewer) is
   * refused here, before any update, so no number of refusals can grow or jam the deployment's
   * history (docs/manual-steps.md). NOT_FOUND for no such deployment, NOT_WAITING once it has finished
   * (however the request races its end), UNAVAILABLE without a worker.
   */
  async act(user: Principal, id: string, interruptionId: string, action: InterruptionActionRequest, options: ActOptions = {}): Promise<Interruption> {
    this.limits.action(user.id);
    const place = this.visiblePlace(user, id);
    requirePermission(user, 'act', place, 'this deployment', { hidden: missing(id) });
    const actor = actorOf(user, place);
    const known = await this.authorize(actor, id, interruptionId, action);
    const decision = action.type === 'takeResponsibility' ? options.then : action;
    if (decision) checkInputs(known.inputs, decision, options.inputsField ?? 'body.inputs');
    const runAt = action.type === 'takeResponsibility' ? undefined : scheduledTime(action);
    const base = { user: actor, interruptionId, expiresAt: new Date(Date.now() + this.timeoutMs).toISOString() };
    const handle = this.client.workflow.getHandle(id);
    try {
      return await this.withDeadline(() => {
        switch (action.type) {
          case 'takeResponsibility':
            return handle.executeUpdate(takeResponsibilityUpdate, { args: [{ ...base, ...(action.takeOver ? { takeOver: true } : {}) }] });
          default:
            return handle.executeUpdate(DECISION_MESSAGES[action.type].update, {
              args: [{ ...base, ...(action.notes === undefined ? {} : { notes: action.notes }), ...(action.inputs === undefined ? {} : { inputs: action.inputs }), ...(runAt ? { runAt } : {}) }],
            });
        }
      });
    } catch (error) {
      throw await this.temporal.explainMissing(id, error);
    }
  }

  /**
   * Refuses, without touching the workflow, whoever may not act on the interruption (core's `mayAct`:
   * may not take it, and does not hold it). The teams come from an earlier read (they never change);
   * whether the caller holds it is checked on a fresh read, and only for a caller the teams already refuse.
   * With approval rules, who may approve changes with each approval (core/approval-rules.ts): the
   * fresh view decides for everyone, admins too (already approved, not their rule's turn, their rules met).
   * Returns what it knows of the interruption (its inputs, for the caller to check).
   */
  private async authorize(actor: Actor, id: string, interruptionId: string, action: InterruptionActionRequest) {
    let known = this.teams.get(`${id}\n${interruptionId}`);
    if (!known) {
      const found = (await this.view(id)).interruptions.find((i) => i.id === interruptionId);
      if (!found) throw new ServiceError('INTERRUPTION_NOT_FOUND', `This deployment has no interruption "${interruptionId}".`);
      known = found;
    }
    const asked = action.type === 'takeResponsibility' ? action : { type: action.type };
    if (known.rules) {
      const current = (await this.view(id)).interruptions.find((i) => i.id === interruptionId);
      const decision = current && decide(current, actor, asked, new Date().toISOString());
      if (decision && !decision.accepted && WHO_REFUSALS.includes(decision.refusal)) throw new ServiceError(decision.refusal, decision.detail);
      return known;
    }
    if (actor.roles.includes('admin')) return known;
    // An escalation adds teams at a known time: past it, they are let through to the workflow, which decides.
    if (mayAct(known, actor, new Date().toISOString())) return known;
    const current = (await this.view(id)).interruptions.find((i) => i.id === interruptionId);
    if (!current || mayAct(current, actor, new Date().toISOString())) return known;
    // Not theirs to take, nor to decide: the fresh view answers for the workflow (NOT_IN_TEAM, or
    // ALREADY_DECIDED once it is over), so a refusal never reaches it.
    const decision = decide(current, actor, asked, new Date().toISOString());
    if (!decision.accepted) throw new ServiceError(decision.refusal, decision.detail);
    return known;
  }

  /**
   * Refuses, without touching the workflow, an event that answers none of the deployment's external
   * tasks (TASK_NOT_FOUND) or that comes from none of its executors (NOT_EXECUTOR). The task and its
   * executors come from the deployment's view, read once: they never change while it runs.
   */
  private async authorizeTaskEvent(actor: Actor, id: string, event: CloudEvent): Promise<void> {
    const triggeredId = event.triggeredid ?? '';
    const key = `${id}\n${triggeredId}`;
    let task = this.externalTasks.get(key);
    if (!task) {
      const step = (await this.view(id)).steps.find((candidate) => candidate.triggeredId === triggeredId);
      if (step?.type === 'external') this.externalTasks.set(key, (task = { name: step.name, executors: step.executors ?? [] }));
    }
    if (!task || !event.type.startsWith(`sh.keptn.event.${task.name}.`)) {
      throw new ServiceError('TASK_NOT_FOUND', `No external task of ${id} waits for an answer to ${triggeredId} with ${event.type}; a task Interlock runs itself takes no events.`);
    }
    if (!mayAnswerTask(task.executors, actor)) {
      throw new ServiceError('NOT_EXECUTOR', `${actor.displayName} (${actor.username}) may not answer ${task.name}: its executors are ${executorsInWords(task.executors)}. Nothing was changed.`);
    }
  }

  /**
   * A Keptn `.started` or `.finished` event for one of the deployment's external tasks (docs/keptn.md),
   * as its executor posted it: an update, so the workflow decides (TASK_NOT_FOUND, TASK_FINISHED,
   * NOT_EXECUTOR against the executors it started with) and the caller gets a definite answer.
   * Whoever is none of the task's executors is refused here first, before any update.
   */
  async postTaskEvent(user: Principal, id: string, event: CloudEvent): Promise<TaskEventAnswer> {
    const place = this.visiblePlace(user, id);
    requirePermission(user, 'postEvent', place, 'this deployment', { hidden: missing(id) });
    const actor = actorOf(user, place);
    await this.authorizeTaskEvent(actor, id, event);
    const handle = this.client.workflow.getHandle(id);
    try {
      return await this.withDeadline(() =>
        handle.executeUpdate(taskEventUpdate, { args: [{ user: actor, event, expiresAt: new Date(Date.now() + this.timeoutMs).toISOString() }] }),
      );
    } catch (error) {
      throw await this.temporal.explainMissing(id, error);
    }
  }

  /**
   * Cancels a deployment that has not finished, naming who asked, and waits a moment for it to stop
   * (`WorkflowAccess.cancel`, as for a release). It counts as an action against the person's action rate.
   */
  async cancel(user: Principal, id: string): Promise<{ view: DeploymentWithLinks; finished: boolean }> {
    this.limits.action(user.id);
    requirePermission(user, 'cancel', this.visiblePlace(user, id), 'this deployment', { hidden: missing(id) });
    return this.temporal.cancel(id, personOf(user), this.watcher);
  }

  /**
   * Where a deployment is, read from its id (no call to Temporal), refused as unknown (NOT_FOUND, in
   * the very words of a deployment that does not exist) unless the principal may see it there.
   */
  visiblePlace(user: Principal, id: string): Place {
    const place = placeOfDeploymentId(id);
    if (!place) {
      // No deployment has such an id: those who see everything hear it from Temporal, as before.
      if (seesEverything(user)) return {};
      throw notFound(missing(id));
    }
    if (!can(user, 'see', place)) throw notFound(missing(id));
    return place;
  }

  /**
   * The deployment's view, for a principal who may see it: NOT_FOUND otherwise, in the same words as
   * for one that does not exist, so its existence is not disclosed (docs/security.md).
   */
  async get(user: Principal, id: string): Promise<DeploymentWithLinks> {
    this.visiblePlace(user, id);
    const view = await this.view(id);
    if (!can(user, 'see', { project: view.project, environment: view.environment })) throw notFound(missing(id));
    return view;
  }

  /**
   * The view: the running workflow's `state` query, or a finished one's result (no worker needed).
   * Concurrent readers of one deployment share reads: at most one query runs per deployment, plus
   * one queued behind it for those who came after it started, so a burst of 100 readers costs two
   * queries, and nobody gets a view older than their own request.
   */
  view(id: string): Promise<DeploymentWithLinks> {
    let slot = this.reads.get(id);
    if (!slot) this.reads.set(id, (slot = {}));
    if (slot.next) return slot.next;
    if (!slot.current) return this.startRead(id, slot);
    const after = slot.current.catch(() => undefined);
    const next = after.then(() => {
      slot.next = undefined;
      return this.startRead(id, slot);
    });
    slot.next = next;
    return next;
  }

  private startRead(id: string, slot: { current?: Promise<DeploymentWithLinks>; next?: Promise<DeploymentWithLinks> }) {
    const read: Promise<DeploymentWithLinks> = this.read(id).finally(() => {
      if (slot.current === read) slot.current = undefined;
      if (!slot.current && !slot.next && this.reads.get(id) === slot) this.reads.delete(id);
    });
    slot.current = read;
    return read;
  }

  /** One round trip for a deployment seen before (see `WorkflowAccess.readView`). */
  private async read(id: string): Promise<DeploymentWithLinks> {
    return this.remember(await this.temporal.readView(id, stateQuery));
  }

  /** Keeps what never changes about a deployment's interruptions, then adds the links. */
  private remember(view: DeploymentView): DeploymentWithLinks {
    for (const { id, kind, responsibleTeams, excludedUserIds, escalateTo, escalateAt, escalated, rules, ordered, distinctPeople, inputs, overrideTeams } of view.interruptions) {
      this.teams.set(`${view.id}\n${id}`, {
        kind,
        responsibleTeams,
        ...(overrideTeams ? { overrideTeams } : {}),
        ...(excludedUserIds ? { excludedUserIds } : {}),
        ...(escalateTo && escalateAt ? { escalateTo, escalateAt } : {}),
        ...(escalated ? { escalated } : {}),
        ...(rules ? { rules, ...(ordered ? { ordered } : {}), ...(distinctPeople ? { distinctPeople } : {}) } : {}),
        ...(inputs ? { inputs } : {}),
      });
    }
    return this.withLinks(view);
  }

  /** Calls `onView` with the current view at once and on every change; returns the unsubscribe. */
  subscribe(id: string, listener: { onView(snapshot: Snapshot): void; onError(error: unknown): void }): () => void {
    return this.watcher.subscribe(id, listener);
  }

  /** Resolves with the view once finished, or with the latest view (at worst `seen`) when `timeoutMs` passes. */
  waitForEnd(id: string, timeoutMs: number, seen?: Snapshot, signal?: AbortSignal): Promise<Snapshot> {
    return this.watcher.waitForEnd(id, timeoutMs, seen, signal);
  }

  /**
   * Newest first, filtered by search attributes in Temporal visibility; no workflow is opened. Only
   * what `user` may see: the scope is in the query, so every page is full and nothing else is counted.
   */
  list(user: Principal, filters: ListFilters) {
    return this.call(() => listDeployments(this.client, this.deps.signer, this.scope(user), filters, (id) => this.links(id)));
  }

  /**
   * Interruptions not yet decided, with what `user` may do with each, a page at a time and never
   * cut; `actionable` keeps only those they may take or submit. Served from visibility: the
   * teams an interruption waits for and who holds it are search attributes, the interruption itself
   * is in the memo (deployments that began waiting before that are read one by one).
   */
  async openInterruptions(
    user: Principal,
    { actionable, pageSize = 100, pageToken }: { actionable: boolean; pageSize?: number; pageToken?: string | undefined },
  ): Promise<{ interruptions: OpenInterruption[]; nextPageToken: string | null }> {
    // A read-only token acts on nothing; a principal with no grant sees nothing: neither asks Temporal.
    if ((actionable && user.readOnly) || user.grants.length === 0) return { interruptions: [], nextPageToken: null };
    const who = actionable ? this.mayActClause(user) : 'all';
    const page = await this.call(() => listWaiting(this.client, this.deps.signer, this.scope(user), who, { pageSize, pageToken }));
    const found = await Promise.all(page.rows.map(async (row) => {
      if (row.interruption) return [{ row, interruption: row.interruption }];
      const view = await this.view(row.id).catch(() => undefined);
      return (view?.interruptions ?? []).filter(isOpen).map((interruption) => ({ row, interruption }));
    }));
    const projectName = (id: string) => this.deps.config.projects.find((project) => project.id === id)?.name ?? id;
    const interruptions = found
      .flat()
      .filter(({ row, interruption }) => isOpen(interruption) && (!actionable || (can(user, 'act', row) && isActionableBy(interruption, actorOf(user, row)))))
      .map(({ row, interruption }) => ({
        ...interruption,
        deployment: { id: row.id, project: row.project, projectName: projectName(row.project), environment: row.environment, release: row.release },
        actions: actionsOf(interruption, user, row),
      }));
    return { interruptions, nextPageToken: page.nextPageToken };
  }

  /** This Interlock's deployments that `user` may see (all of them without one: for its own look-ups). */
  private scope(user?: Principal): string[] {
    const visible = user ? visibilityClause(user) : null;
    return [...this.temporal.scope(), ...(visible ? [visible] : [])];
  }

  /**
   * Which waiting deployments `user` may act on, as visibility knows them (within what they see):
   * those waiting for one of their teams, or held by them; those that name no team where they are
   * a deployer; any where they are an admin.
   */
  private mayActClause(user: Principal): { teams: string[]; username: string; also: string[] } | 'all' {
    const admin = placesClause(user, 'admin');
    if (admin === null) return 'all';
    const deployer = placesClause(user, 'deployer');
    const deployers = `${searchAttributes.waitingFor.name} = 'deployers'`;
    return {
      teams: user.teams,
      username: user.username,
      also: [...(deployer === NOTHING ? [] : [deployer === null ? deployers : `(${deployers} AND ${deployer})`]), ...(admin === NOTHING ? [] : [admin])],
    };
  }

  private withDeadline<T>(call: () => Promise<T>): Promise<T> {
    return this.temporal.withDeadline(call);
  }

  private call<T>(call: () => Promise<T>): Promise<T> {
    return this.temporal.call(call);
  }


  /** Settles when the deployment's workflow closes (Temporal's long poll), with its final view when its result holds it. */
  async longPollForEnd(id: string, signal: AbortSignal): Promise<DeploymentWithLinks | undefined> {
    const view = await this.temporal.longPollForEnd<DeploymentView>(id, signal);
    return view ? this.remember(view) : undefined;
  }

  get actionTimeoutMs(): number {
    return this.timeoutMs;
  }

  withLinks(view: DeploymentView): DeploymentWithLinks {
    return { ...view, links: this.links(view.id) };
  }

  private links(id: string): Links {
    return deploymentLinks(id, this.deps.uiUrl, this.client.options.namespace);
  }
}

/**
 * A decision's inputs against what the step asks (core/approver-inputs.ts), before any update: 400
 * naming each bad one under `field` (`body.inputs.risk`). Inputs go with proceed only.
 */
function checkInputs(declared: ApproverInput[] | undefined, action: Extract<InterruptionActionRequest, { notes?: unknown }>, field: string): void {
  if (action.type !== 'proceed') {
    if (action.inputs && Object.keys(action.inputs).length > 0) throw invalid([{ name: field, reason: `inputs go with proceed (approve) only, not ${action.type}` }]);
    return;
  }
  if (!declared && action.inputs === undefined) return;
  const problems = inputProblems(declared ?? [], action.inputs);
  if (problems.length > 0) throw invalid(problems.map(({ name, reason }) => ({ name: name ? `${field}.${name}` : field, reason })));
}

/** How an unknown deployment is answered, and so one the caller may not see. */
const missing = (id: string) => `No deployment "${id}".`;

const keyReused = (key: string, what: string) =>
  new ServiceError('IDEMPOTENCY_KEY_REUSED', `Idempotency-Key "${key}" was already used for ${what}; use a new key for a new request.`);

/** A proceed's `runAt` by the one rule (core's `runAtProblem`), in the future, as the workflow reads it (UTC); 400 naming `body.runAt` otherwise. */
function scheduledTime(action: Extract<InterruptionActionRequest, { notes?: unknown }>): string | undefined {
  const problem = runAtProblem(action.type, action.runAt, new Date().toISOString(), { future: true });
  if (problem) throw invalid([{ name: 'body.runAt', reason: problem }]);
  return action.runAt === undefined ? undefined : new Date(action.runAt).toISOString();
}

function sortKeys(record: Record<string, string>): [string, string][] {
  return Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
}
