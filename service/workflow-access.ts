import { CancelledFailure, Client, QueryRejectedError, type QueryDefinition, WorkflowFailedError, type WorkflowHandle, WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { type DeploymentStatus, isFinished } from '../core/names.js';
import { cancelRequestSignal, type Person, searchAttributes } from '../workflows/messages.js';
import { notFound, ServiceError, toServiceError } from './errors.js';
import type { Watched, Watcher } from './watch.js';

/**
 * How the service speaks to Temporal about one kind of workflow (deployments, releases): only this
 * Interlock's (its workflow type and task queue), every call with Temporal's errors turned into the
 * service's, calls that need a worker bounded by a deadline, and views read in one round trip.
 */
export class WorkflowAccess {
  /** The same connection, but a query of a closed workflow is refused at once instead of replayed on a worker. */
  readonly openOnly: Client;
  /** Workflows seen to be ours: read and acted on without a describe first. */
  private readonly known = new BoundedMap<string, true>(50_000);

  constructor(
    readonly client: Client,
    readonly taskQueue: string,
    readonly workflowType: string,
    /** How errors name it: `No deployment "…"`. */
    private readonly noun: string,
    readonly timeoutMs: number,
  ) {
    const { connection, options } = client;
    this.openOnly = new Client({
      connection,
      namespace: options.namespace,
      dataConverter: options.dataConverter,
      interceptors: options.interceptors,
      workflow: { queryRejectCondition: 'NOT_OPEN' },
    });
  }

  /** The visibility clauses of this Interlock's workflows of this kind: several may share a namespace, each with its own task queue. */
  scope(): string[] {
    return [`WorkflowType = '${this.workflowType}'`, `TaskQueue = '${this.taskQueue.replaceAll("'", '')}'`];
  }

  /** Runs a Temporal call, turning Temporal's errors into the service's. */
  async call<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw notFound(`No such ${this.noun}.`);
      throw toServiceError(error) ?? error;
    }
  }

  /** Runs a Temporal call that needs a worker; if none answers in time: UNAVAILABLE, and nothing applied. */
  withDeadline<T>(call: () => Promise<T>): Promise<T> {
    return this.call(() => this.client.connection.withDeadline(Date.now() + this.timeoutMs, call));
  }

  /** Describes a workflow, refusing (404) one of another type or task queue. */
  async describe(handle: WorkflowHandle) {
    const description = await this.call(() => handle.describe()).catch((error: unknown) => {
      if (error instanceof ServiceError && error.code === 'NOT_FOUND') throw notFound(`No ${this.noun} "${handle.workflowId}".`);
      throw error;
    });
    if (description.type !== this.workflowType || description.taskQueue !== this.taskQueue) {
      throw notFound(`No ${this.noun} "${handle.workflowId}".`);
    }
    this.known.set(handle.workflowId, true);
    return description;
  }

  /**
   * One round trip for a workflow seen before: its query while it runs. A closed one refuses the
   * query at once and is read from its result, or its failure's details (no worker needed); one
   * ended by an operator (terminated, timed out) only its history knows, so a worker replays it.
   */
  async readView<V>(id: string, query: QueryDefinition<V>): Promise<V> {
    if (!this.known.get(id)) await this.describe(this.client.workflow.getHandle(id));
    const handle = this.openOnly.workflow.getHandle(id);
    try {
      return await this.withDeadline(() => handle.query(query));
    } catch (error) {
      if (!(error instanceof QueryRejectedError)) throw error;
    }
    try {
      return (await this.call(() => handle.result())) as V;
    } catch (error) {
      const final = finalViewOf<V>(error);
      if (final) return final;
      if (error instanceof ServiceError) throw error;
      return this.withDeadline(() => this.client.workflow.getHandle(id).query(query));
    }
  }

  /**
   * Settles when the workflow closes (Temporal's long poll), or when `signal` aborts: with its final
   * view when the result (or the failure's details) holds one.
   */
  async longPollForEnd<V>(id: string, signal: AbortSignal): Promise<V | undefined> {
    const handle = this.client.workflow.getHandle(id);
    try {
      return (await this.client.connection.withAbortSignal(signal, () => handle.result())) as V;
    } catch (error) {
      return finalViewOf<V>(error);
    }
  }

  /**
   * An update or signal that found no workflow: either there is none (404), or it has just finished
   * (409, as docs/manual-steps.md says, however the request raced its end), or it is none of ours (404).
   */
  async explainMissing(id: string, error: unknown, nothingLeftTo = 'decide'): Promise<unknown> {
    if (!(error instanceof ServiceError && error.code === 'NOT_FOUND')) return error;
    const description = await this.describe(this.client.workflow.getHandle(id));
    if (description.status.name === 'RUNNING') return error;
    const status = description.typedSearchAttributes.get(searchAttributes.status) ?? description.status.name;
    return new ServiceError('NOT_WAITING', `The ${this.noun} has finished (${status}); there is nothing left to ${nothingLeftTo}.`);
  }

  /**
   * Cancels a run (a deployment or a release) that has not finished, naming who asked (Temporal's own
   * cancel request carries no user), and waits a moment for it to stop: `finished` says whether it
   * has. NOT_WAITING once it has finished; one that has ended and is still delivering its last
   * notifications is over all the same.
   */
  async cancel<V extends Watched>(id: string, by: Person, watcher: Watcher<V>): Promise<{ view: V; finished: boolean }> {
    const handle = this.client.workflow.getHandle(id);
    const description = await this.describe(handle);
    const shown = description.typedSearchAttributes.get(searchAttributes.status);
    if (description.status.name !== 'RUNNING' || (shown && isFinished(shown as DeploymentStatus))) {
      throw new ServiceError('NOT_WAITING', `The ${this.noun} has finished (${shown ?? description.status.name}); there is nothing left to cancel.`);
    }
    try {
      await this.withDeadline(async () => {
        await handle.signal(cancelRequestSignal, { user: by });
        await handle.cancel();
      });
    } catch (error) {
      throw await this.explainMissing(id, error, 'cancel');
    }
    const latest = await watcher.waitForEnd(id, this.timeoutMs).catch(() => undefined);
    if (latest?.finished) return { view: latest.view, finished: true };
    return { view: latest?.view ?? (await watcher.read(id)), finished: false };
  }

  /** A workflow this service has just started: known to be ours, so it is read without a describe first. */
  started(id: string): void {
    this.known.set(id, true);
  }
}

/** The view a workflow that failed or was cancelled left in its failure's details, if any. */
function finalViewOf<V>(error: unknown): V | undefined {
  const cause = error instanceof WorkflowFailedError ? error.cause : undefined;
  const details = cause instanceof ApplicationFailure || cause instanceof CancelledFailure ? cause.details : undefined;
  return details?.[0] as V | undefined;
}

/** A Map that forgets its oldest entries beyond `limit`: caches that stay small whatever the load. */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly limit: number) {
    super();
  }

  override set(key: K, value: V): this {
    if (!this.has(key) && this.size >= this.limit) this.delete(this.keys().next().value as K);
    return super.set(key, value);
  }
}
