import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import proto, { type temporal as protoTypes } from '@temporalio/proto';
import { decodeMapFromPayloads } from '@temporalio/common/lib/internal-non-workflow/index.js';
import { isFinished } from '../core/names.js';
import { isoOfTimestamp } from '../core/durations.js';
import { type DeploymentStatus, type Interruption, OPEN_INTERRUPTION_MEMO, searchAttributes } from '../workflows/messages.js';
import { invalid } from './errors.js';
import type { Links } from './paths.js';
import type { Signer } from './signing.js';

const { temporal } = proto;


/** A row of `GET /api/deployments`, from Temporal visibility alone. */
export interface DeploymentSummary {
  id: string;
  project: string;
  environment: string;
  release: string;
  status: DeploymentStatus;
  createdAt: string;
  finishedAt: string | null;
  triggeredBy: string | null;
  waitingFor: string[];
  assignee: string | null;
  links: Links;
}

export interface ListFilters {
  project?: string | undefined;
  environment?: string | undefined;
  status?: DeploymentStatus | undefined;
  release?: string | undefined;
  pageSize: number;
  pageToken?: string | undefined;
}

const ExecutionStatus = temporal.api.enums.v1.WorkflowExecutionStatus;

/** What visibility alone says of any run, a deployment or a release: its search attributes, its memo, its times. */
export interface VisibleRun<S extends DeploymentStatus> {
  id: string;
  project: string;
  release: string;
  /** The status it shows; a workflow that closed without a finished one (terminated, or failed outside its own code) is Cancelled or Failed. */
  status: S | 'Running' | 'Cancelled' | 'Failed';
  createdAt: string;
  finishedAt: string | null;
  triggeredBy: string | null;
  /** Any other search attribute, by name. */
  read<T>(name: string): T | undefined;
}

/**
 * A page of this Interlock's runs of one kind (`scope`), newest first within it, from visibility
 * alone (no workflow is opened): those whose search attributes equal the values `equal` gives (an
 * absent value filters nothing). `summary` makes each run the row its list shows.
 */
export async function listRuns<S extends DeploymentStatus, T extends { createdAt: string }>(
  client: Client,
  signer: Signer,
  scope: string[],
  equal: Record<string, string | undefined>,
  page: { pageSize: number; pageToken?: string | undefined },
  summary: (run: VisibleRun<S>) => T,
): Promise<{ rows: T[]; nextPageToken: string | null }> {
  // Values are validated against strict patterns by the route, so quoting them is safe.
  const clauses = [...scope, ...Object.entries(equal).flatMap(([name, value]) => (value ? [`${name} = '${value}'`] : []))];
  const response = await client.workflowService.listWorkflowExecutions({
    namespace: client.options.namespace,
    query: clauses.join(' AND '),
    pageSize: page.pageSize,
    nextPageToken: page.pageToken ? openPageToken(signer, page.pageToken) : undefined,
  });
  const rows = await Promise.all((response.executions ?? []).map(async (execution) => summary(await visibleRun<S>(client, execution))));
  // Within a page, newest first; visibility orders running ones before finished ones.
  rows.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return { rows, nextPageToken: sealPageToken(signer, response.nextPageToken) };
}

async function visibleRun<S extends DeploymentStatus>(client: Client, execution: protoTypes.api.workflow.v1.IWorkflowExecutionInfo): Promise<VisibleRun<S>> {
  const fields = execution.searchAttributes?.indexedFields ?? {};
  const read = <T>(name: string): T | undefined => {
    const payload = fields[name];
    return payload ? defaultPayloadConverter.fromPayload<T>(payload as Payload) : undefined;
  };
  // The memo goes through the client's data converter, payload codec included.
  const memo = (await decodeMapFromPayloads(client.options.loadedDataConverter, execution.memo?.fields as Record<string, Payload> | undefined)) ?? {};
  const closed = execution.status !== ExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
  let status: VisibleRun<S>['status'] = read<S>(searchAttributes.status.name) ?? 'Running';
  // (Superseded and Expired are statuses of deployments, never of releases: S has them when it may.)
  if (closed && !isFinished(status)) status = execution.status === ExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED ? 'Cancelled' : 'Failed';
  return {
    id: execution.execution?.workflowId ?? '',
    project: read<string>(searchAttributes.project.name) ?? '',
    release: read<string>(searchAttributes.release.name) ?? '',
    status,
    createdAt: isoOfTimestamp(execution.startTime) ?? '',
    finishedAt: closed ? isoOfTimestamp(execution.closeTime) : null,
    triggeredBy: typeof memo.triggeredBy === 'string' ? memo.triggeredBy : null,
    read,
  };
}

export async function listDeployments(
  client: Client,
  signer: Signer,
  scope: string[],
  filters: ListFilters,
  links: (id: string) => Links,
): Promise<{ deployments: DeploymentSummary[]; nextPageToken: string | null }> {
  const equal = {
    [searchAttributes.project.name]: filters.project,
    [searchAttributes.environment.name]: filters.environment,
    [searchAttributes.release.name]: filters.release,
    [searchAttributes.status.name]: filters.status,
  };
  const { rows, nextPageToken } = await listRuns(client, signer, scope, equal, filters, (run: VisibleRun<DeploymentStatus>): DeploymentSummary => ({
    id: run.id,
    project: run.project,
    environment: run.read<string>(searchAttributes.environment.name) ?? '',
    release: run.release,
    status: run.status,
    createdAt: run.createdAt,
    finishedAt: run.finishedAt,
    triggeredBy: run.triggeredBy,
    waitingFor: run.read<string[]>(searchAttributes.waitingFor.name) ?? [],
    assignee: run.read<string>(searchAttributes.assignee.name) ?? null,
    links: links(run.id),
  }));
  return { deployments: rows, nextPageToken };
}

/** A waiting deployment as visibility holds it, with its open interruption when its memo carries one. */
export interface WaitingRow {
  id: string;
  project: string;
  environment: string;
  release: string;
  /** Absent for deployments that began waiting before interruptions were kept in the memo. */
  interruption?: Interruption;
}

/** Whose waiting deployments: any of these teams', held by this user, or matching any clause of `also` (built by the service from grants). */
export type WaitingFor = { teams: string[]; username: string; also?: string[] } | 'all';

/** The visibility query for deployments waiting for `who` (any of their teams, or held by them, or `also`). */
export function waitingQuery(scope: string[], who: WaitingFor): string {
  const clauses = [...scope, `${searchAttributes.status.name} = 'Waiting'`, `ExecutionStatus = 'Running'`];
  if (who !== 'all') {
    // Values are config ids and usernames (strict patterns), so quoting them is safe.
    const teams = who.teams.length > 0 ? [`${searchAttributes.waitingFor.name} IN (${who.teams.map((team) => `'${team}'`).join(', ')})`] : [];
    clauses.push(`(${[...teams, `${searchAttributes.assignee.name} = '${who.username}'`, ...(who.also ?? [])].join(' OR ')})`);
  }
  return clauses.join(' AND ');
}

/**
 * Waiting deployments whose interruption these teams may take, or this user holds (or, with `all`,
 * every one), a page at a time, from visibility alone: the open interruption is in each memo.
 */
export async function listWaiting(
  client: Client,
  signer: Signer,
  scope: string[],
  who: WaitingFor,
  page: { pageSize: number; pageToken?: string | undefined },
): Promise<{ rows: WaitingRow[]; nextPageToken: string | null }> {
  const response = await client.workflowService.listWorkflowExecutions({
    namespace: client.options.namespace,
    query: waitingQuery(scope, who),
    pageSize: page.pageSize,
    nextPageToken: page.pageToken ? openPageToken(signer, page.pageToken) : undefined,
  });
  const rows = await Promise.all((response.executions ?? []).map(async (execution): Promise<WaitingRow> => {
    const fields = execution.searchAttributes?.indexedFields ?? {};
    const read = (name: string) => (fields[name] ? defaultPayloadConverter.fromPayload<string>(fields[name] as Payload) : '');
    const memo = await decodeMapFromPayloads(client.options.loadedDataConverter, execution.memo?.fields as Record<string, Payload> | undefined);
    const interruption = memo?.[OPEN_INTERRUPTION_MEMO] as Interruption | undefined;
    return {
      id: execution.execution?.workflowId ?? '',
      project: read(searchAttributes.project.name),
      environment: read(searchAttributes.environment.name),
      release: read(searchAttributes.release.name),
      ...(interruption ? { interruption } : {}),
    };
  }));
  return { rows, nextPageToken: sealPageToken(signer, response.nextPageToken) };
}


export const sealPageToken = (signer: Signer, token: Uint8Array | null | undefined) =>
  token?.length ? signer.seal('page', Buffer.from(token).toString('base64url')) : null;

/**
 * Temporal chokes on a page token it did not make (the call hangs in retries), so ours are sealed:
 * one that was not handed out by an Interlock API is a 400 before Temporal sees it.
 */
export function openPageToken(signer: Signer, token: string): Buffer {
  const raw = signer.unseal('page', token);
  if (raw === undefined) {
    throw invalid([{ name: 'query.pageToken', reason: 'not a page token this API gave out (they last while the API runs); start from the first page' }]);
  }
  return Buffer.from(raw, 'base64url');
}

