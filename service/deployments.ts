import { randomBytes, randomUUID } from 'node:crypto';
import {
  CancelledFailure,
  type Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  type WorkflowHandle,
  WorkflowNotFoundError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Config, User } from '../config/schema.js';
import { deploymentWorkflowId } from '../workflows/ids.js';
import { isActionableBy, isOpen } from '../workflows/interruption.js';
import {
  abortUpdate,
  cancelRequestSignal,
  type DeploymentInput,
  type DeploymentView,
  type Interruption,
  proceedUpdate,
  searchAttributes,
  stateQuery,
  takeResponsibilityUpdate,
  WORKFLOW_TYPE,
} from '../workflows/messages.js';
import type { InterruptionActionName } from '../workflows/names.js';
import { initialView } from '../workflows/view.js';
import { actionsOf, actorOf, hasRole, personOf, requireRole } from './access.js';
import { toServiceError, invalid, notFound, ServiceError } from './errors.js';
import { deploymentLinks, type Links } from './paths.js';
import { sha256Hex, type Signer } from './signing.js';
import { type ListFilters, listDeployments, listWaitingDeployments } from './visibility.js';
import { DeploymentWatcher, type Snapshot } from './watch.js';

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
}

export interface DeploymentWithLinks extends DeploymentView {
  links: Links;
}

export interface TriggerRequest {
  project: string;
  environment: string;
  release: string;
  variables?: Record<string, string> | undefined;
}

/** What a person asks of an interruption: the same three actions from the API, the dashboard and the CLI. */
export type InterruptionActionRequest =
  | { type: 'takeResponsibility'; takeOver?: boolean | undefined }
  | { type: 'proceed' | 'abort'; notes?: string | undefined };

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
  private readonly reads = new Map<string, { current?: Promise<DeploymentWithLinks>; next?: Promise<DeploymentWithLinks> }>();
  readonly watcher: DeploymentWatcher;

  constructor(private readonly deps: ServiceDeps) {
    this.client = deps.client;
    this.timeoutMs = deps.actionTimeoutMs ?? 10_000;
    this.watcher = new DeploymentWatcher(this);
  }

  get config(): Config {
    return this.deps.config;
  }

  /**
   * Starts one deployment for a deployer. With an idempotency key the workflow ID is derived from
   * it, so Temporal itself makes a repeat (or a racing twin) find the first one instead of starting another.
   */
  async trigger(user: User, request: TriggerRequest, idempotencyKey?: string): Promise<{ view: DeploymentWithLinks; created: boolean }> {
    const project = this.deps.config.projects.find((p) => p.id === request.project);
    if (!project) throw notFound(`No project "${request.project}". GET /api/projects lists them.`);
    requireRole(user, 'deployer', `deploy ${project.name}`);
    if (!project.environments.includes(request.environment)) {
      throw invalid([{ name: 'body.environment', reason: `"${request.environment}" is not an environment of ${project.id} (${project.environments.join(', ')})` }]);
    }
    const variables = request.variables ?? {};
    const triggeredBy = personOf(user);
    const requestHash = sha256Hex(JSON.stringify([project.id, request.environment, request.release, sortKeys(variables)]));
    const keyHash = idempotencyKey ? sha256Hex(`${triggeredBy.id}\n${idempotencyKey}`).slice(0, 32) : undefined;
    const suffix = keyHash ? keyHash.slice(0, 12) : randomBytes(5).toString('hex');
    const requestId = randomUUID();
    const input: DeploymentInput = {
      id: deploymentWorkflowId(project.id, request.environment, request.release, suffix),
      project: { id: project.id, name: project.name },
      environment: request.environment,
      release: request.release,
      process: project.process,
      variables: { ...this.deps.systemVariables, ...project.variables, ...variables },
      triggeredBy,
      createdAt: new Date().toISOString(),
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
          staticDetails: project.process
            .map((step, i) => `${i + 1}. ${step.name} (${step.type}${step.environments ? `; only in ${step.environments.join(', ')}` : ''})`)
            .join('\n'),
        });
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        handle = this.client.workflow.getHandle(input.id);
      }
      if (!idempotencyKey) return { view: this.withLinks(initialView(input)), created: true };

      const memo = (await handle.describe()).memo ?? {};
      if (memo.requestHash !== requestHash) throw keyReused(idempotencyKey, `a different request (${input.id})`);
      if (memo.requestId === requestId) return { view: this.withLinks(initialView(input)), created: true };
      return { view: await this.get(input.id), created: false };
    });
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
   * gets a definite answer. NOT_FOUND for no such deployment, NOT_WAITING once it has finished,
   * UNAVAILABLE without a worker; the workflow's own refusals by name.
   */
  async act(user: User, id: string, interruptionId: string, action: InterruptionActionRequest): Promise<Interruption> {
    const base = { user: actorOf(user), interruptionId, expiresAt: new Date(Date.now() + this.timeoutMs).toISOString() };
    const handle = await this.running(id);
    return this.withDeadline(() => {
      switch (action.type) {
        case 'takeResponsibility':
          return handle.executeUpdate(takeResponsibilityUpdate, { args: [{ ...base, ...(action.takeOver ? { takeOver: true } : {}) }] });
        case 'proceed':
        case 'abort':
          return handle.executeUpdate(action.type === 'proceed' ? proceedUpdate : abortUpdate, {
            args: [{ ...base, ...(action.notes === undefined ? {} : { notes: action.notes }) }],
          });
      }
    });
  }

  /**
   * Cancels a deployment that has not finished, naming who asked (Temporal's own cancel request
   * carries no user), and waits a moment for it to stop: `finished` says whether it has.
   */
  async cancel(user: User, id: string): Promise<{ view: DeploymentWithLinks; finished: boolean }> {
    requireRole(user, 'deployer', 'cancel deployments');
    const handle = await this.running(id);
    await this.withDeadline(async () => {
      await handle.signal(cancelRequestSignal, { user: personOf(user) });
      await handle.cancel();
    });
    const latest = await this.watcher.waitForEnd(id, this.timeoutMs).catch(() => undefined);
    if (latest?.finished) return { view: latest.view, finished: true };
    return { view: latest?.view ?? (await this.get(id)), finished: false };
  }

  /** The handle of a deployment that can still be acted on: NOT_FOUND if there is none, NOT_WAITING if it has finished. */
  private async running(id: string): Promise<WorkflowHandle> {
    const handle = this.client.workflow.getHandle(id);
    const description = await this.describe(handle);
    if (description.status.name !== 'RUNNING') {
      const status = description.typedSearchAttributes.get(searchAttributes.status) ?? description.status.name;
      throw new ServiceError('NOT_WAITING', `The deployment has finished (${status}); there is nothing left to decide.`);
    }
    return handle;
  }

  private async describe(handle: WorkflowHandle) {
    const description = await this.call(() => handle.describe()).catch((error: unknown) => {
      if (error instanceof ServiceError && error.code === 'NOT_FOUND') throw notFound(`No deployment "${handle.workflowId}".`);
      throw error;
    });
    if (description.type !== WORKFLOW_TYPE) throw notFound(`No deployment "${handle.workflowId}".`);
    return description;
  }

  /**
   * The view: the running workflow's `state` query, or a finished one's result (no worker needed).
   * Concurrent readers of one deployment share reads: at most one query runs per deployment, plus
   * one queued behind it for those who came after it started, so a burst of 100 readers costs two
   * queries, and nobody gets a view older than their own request.
   */
  get(id: string): Promise<DeploymentWithLinks> {
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

  private async read(id: string): Promise<DeploymentWithLinks> {
    const handle = this.client.workflow.getHandle(id);
    const description = await this.describe(handle);
    if (description.status.name === 'RUNNING' || description.status.name === 'CONTINUED_AS_NEW') {
      return this.withLinks(await this.withDeadline(() => handle.query(stateQuery)));
    }
    try {
      return this.withLinks((await handle.result()) as DeploymentView);
    } catch (error) {
      const details = error instanceof WorkflowFailedError && (error.cause instanceof ApplicationFailure || error.cause instanceof CancelledFailure)
        ? error.cause.details
        : undefined;
      if (details?.[0]) return this.withLinks(details[0] as DeploymentView);
      // Terminated or timed out by an operator: only the history knows; ask a worker to replay it.
      return this.withLinks(await this.withDeadline(() => handle.query(stateQuery)));
    }
  }

  /** Calls `onView` with the current view at once and on every change; returns the unsubscribe. */
  subscribe(id: string, listener: { onView(snapshot: Snapshot): void; onError(error: unknown): void }): () => void {
    return this.watcher.subscribe(id, listener);
  }

  /** Resolves with the view once finished, or with the latest view when `timeoutMs` passes. */
  waitForEnd(id: string, timeoutMs: number): Promise<Snapshot> {
    return this.watcher.waitForEnd(id, timeoutMs);
  }

  /** Newest first, filtered by search attributes in Temporal visibility; no workflow is opened. */
  list(filters: ListFilters) {
    return this.call(() => listDeployments(this.client, this.deps.signer, this.scope(), filters, (id) => this.links(id)));
  }

  /**
   * Interruptions not yet decided, with what `user` may do with each; `actionable` keeps only those
   * they may take or submit. Visibility narrows the candidates by the teams they wait for; each is then read.
   */
  async openInterruptions(user: User, { actionable }: { actionable: boolean }): Promise<OpenInterruption[]> {
    const actor = actorOf(user);
    const scope = !actionable || hasRole(user, 'admin')
      ? 'all'
      : [...user.teams, ...(hasRole(user, 'deployer') ? ['deployers'] : [])];
    const waiting = await this.call(() => listWaitingDeployments(this.client, this.scope(), scope, 100));
    const views = await Promise.all(waiting.map((id) => this.get(id).catch(() => undefined)));
    return views.flatMap((view) =>
      (view?.interruptions ?? [])
        .filter((interruption) => isOpen(interruption) && (!actionable || isActionableBy(interruption, actor)))
        .map((interruption) => ({
          ...interruption,
          deployment: { id: view!.id, project: view!.project, projectName: view!.projectName, environment: view!.environment, release: view!.release },
          actions: actionsOf(interruption, user),
        })),
    );
  }

  /** This Interlock's deployments: several may share a namespace, each with its own task queue. */
  private scope(): string[] {
    return [`WorkflowType = '${WORKFLOW_TYPE}'`, `TaskQueue = '${this.deps.taskQueue.replaceAll("'", '')}'`];
  }

  /** Runs a Temporal call that needs a worker; if none answers in time: UNAVAILABLE, and nothing applied. */
  private withDeadline<T>(call: () => Promise<T>): Promise<T> {
    return this.call(() => this.client.connection.withDeadline(Date.now() + this.timeoutMs, call));
  }

  /** Runs a Temporal call, turning Temporal's errors into the service's. */
  private async call<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw notFound('No such deployment.');
      throw toServiceError(error) ?? error;
    }
  }

  /** Settles when the deployment's workflow closes (Temporal's long poll), or when `signal` aborts. */
  longPollForEnd(id: string, signal: AbortSignal): Promise<void> {
    const handle = this.client.workflow.getHandle(id);
    return this.client.connection.withAbortSignal(signal, () => handle.result()).then(
      () => undefined,
      () => undefined,
    );
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

const keyReused = (key: string, what: string) =>
  new ServiceError('IDEMPOTENCY_KEY_REUSED', `Idempotency-Key "${key}" was already used for ${what}; use a new key for a new request.`);

function sortKeys(record: Record<string, string>): [string, string][] {
  return Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
}
