import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  CancelledFailure,
  type Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  type UpdateDefinition,
  type WorkflowHandle,
  WorkflowNotFoundError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Project } from '../config/schema.js';
import { deploymentWorkflowId } from '../workflows/ids.js';
import {
  type DeploymentInput,
  type DeploymentView,
  type Interruption,
  type Person,
  searchAttributes,
  stateQuery,
  WORKFLOW_TYPE,
} from '../workflows/messages.js';
import { initialView } from '../workflows/view.js';
import type { AppDeps } from './context.js';
import { conflict, notFound, problemFromTemporal, unavailable } from './problems.js';
import { type ListFilters, listDeployments, listWaitingDeployments } from './visibility.js';

export type { DeploymentSummary, ListFilters } from './visibility.js';

export interface DeploymentWithLinks extends DeploymentView {
  links: { self: string; temporal: string | null };
}

/** Deployments as Temporal holds them: started, read (query or final result) and listed (visibility). */
export class Deployments {
  private readonly client: Client;
  private readonly timeoutMs: number;
  private readonly reads = new Map<string, { current?: Promise<DeploymentWithLinks>; next?: Promise<DeploymentWithLinks> }>();

  constructor(private readonly deps: AppDeps) {
    this.client = deps.temporal.client;
    this.timeoutMs = deps.actionTimeoutMs ?? 10_000;
  }

  /**
   * Starts one deployment. With an idempotency key the workflow ID is derived from it, so Temporal
   * itself makes a repeat (or a racing twin) find the first one instead of starting another.
   */
  async start(
    project: Project,
    request: { environment: string; release: string; variables: Record<string, string> },
    triggeredBy: Person,
    idempotencyKey?: string,
  ): Promise<{ view: DeploymentWithLinks; created: boolean }> {
    const requestHash = sha256(JSON.stringify([project.id, request.environment, request.release, sortKeys(request.variables)]));
    const keyHash = idempotencyKey ? sha256(`${triggeredBy.id}\n${idempotencyKey}`).slice(0, 32) : undefined;
    const suffix = keyHash ? keyHash.slice(0, 12) : randomBytes(5).toString('hex');
    const requestId = randomUUID();
    const input: DeploymentInput = {
      id: deploymentWorkflowId(project.id, request.environment, request.release, suffix),
      project: { id: project.id, name: project.name },
      environment: request.environment,
      release: request.release,
      process: project.process,
      variables: { ...this.deps.systemVariables, ...project.variables, ...request.variables },
      triggeredBy,
      createdAt: new Date().toISOString(),
    };
    if (keyHash) await this.refuseKeyReuse(keyHash, idempotencyKey!, input.id);
    let handle: WorkflowHandle;
    try {
      handle = await this.client.workflow.start(WORKFLOW_TYPE, {
        args: [input],
        workflowId: input.id,
        taskQueue: this.deps.temporal.taskQueue,
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
    if (memo.requestHash !== requestHash) {
      throw conflict(
        `Idempotency-Key "${idempotencyKey}" was already used for a different request (${input.id}); use a new key for a new request.`,
        'IDEMPOTENCY_KEY_REUSED',
      );
    }
    if (memo.requestId === requestId) return { view: this.withLinks(initialView(input)), created: true };
    return { view: await this.get(input.id), created: false };
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
    if (earlier && earlier !== id) {
      throw conflict(
        `Idempotency-Key "${key}" was already used for a different deployment (${earlier}); use a new key for a new request.`,
        'IDEMPOTENCY_KEY_REUSED',
      );
    }
  }

  /** The handle of a deployment that can still be acted on: 404 if there is none, 409 if it has finished. */
  async running(id: string): Promise<WorkflowHandle> {
    const handle = this.client.workflow.getHandle(id);
    const description = await this.describe(handle);
    if (description.status.name !== 'RUNNING') {
      const status = description.typedSearchAttributes.get(searchAttributes.status) ?? description.status.name;
      throw conflict(`The deployment has finished (${status}); there is nothing left to decide.`, 'NOT_WAITING');
    }
    return handle;
  }

  private async describe(handle: WorkflowHandle) {
    const description = await handle.describe().catch((error: unknown) => {
      if (error instanceof WorkflowNotFoundError) throw notFound(`No deployment "${handle.workflowId}".`);
      throw error;
    });
    if (description.type !== WORKFLOW_TYPE) throw notFound(`No deployment "${handle.workflowId}".`);
    return description;
  }

  /**
   * Sends an interruption action as a Temporal update: the workflow decides, and its named refusal
   * becomes the HTTP status. 404 for no such deployment, 409 when it has finished, 503 without a worker.
   */
  async act<Req>(update: UpdateDefinition<Interruption, [Req]>, id: string, request: Req): Promise<Interruption> {
    const handle = await this.running(id);
    return this.withDeadline(() => handle.executeUpdate(update, { args: [request] }));
  }

  /** The view: the running workflow's `state` query, or a finished one's result (no worker needed). */
  /**
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

  /** Newest first, filtered by search attributes in Temporal visibility; no workflow is opened. */
  list(filters: ListFilters) {
    return listDeployments(this.client, this.scope(), filters, (id) => this.links(id));
  }

  /** Waiting deployments whose interruptions some team (or any deployer) may act on, from visibility. */
  listWaiting(waitingFor: string[] | 'all', limit = 100) {
    return listWaitingDeployments(this.client, this.scope(), waitingFor, limit, (id) => this.links(id));
  }

  /** This Interlock's deployments: several may share a namespace, each with its own task queue. */
  private scope(): string[] {
    return [`WorkflowType = '${WORKFLOW_TYPE}'`, `TaskQueue = '${this.deps.temporal.taskQueue.replaceAll("'", "")}'`];
  }

  /** Runs a Temporal call that needs a worker; if none answers in time: 503, and nothing applied. */
  async withDeadline<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await this.client.connection.withDeadline(Date.now() + this.timeoutMs, call);
    } catch (error) {
      const problem = problemFromTemporal(error);
      if (problem?.status === 503) throw unavailable(problem.detail);
      throw error;
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

  handle(id: string): WorkflowHandle {
    return this.client.workflow.getHandle(id);
  }

  withLinks(view: DeploymentView): DeploymentWithLinks {
    return { ...view, links: this.links(view.id) };
  }

  private links(id: string) {
    const { uiUrl } = this.deps.temporal;
    const namespace = this.client.options.namespace;
    return {
      self: `/api/deployments/${encodeURIComponent(id).replaceAll('%3A', ':')}`,
      temporal: uiUrl ? `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(id)}` : null,
    };
  }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function sortKeys(record: Record<string, string>): [string, string][] {
  return Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
}
