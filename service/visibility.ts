import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import proto, { type temporal as protoTypes } from '@temporalio/proto';
import { decodeMapFromPayloads } from '@temporalio/common/lib/internal-non-workflow/index.js';
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

export async function listDeployments(
  client: Client,
  signer: Signer,
  scope: string[],
  filters: ListFilters,
  links: (id: string) => Links,
): Promise<{ deployments: DeploymentSummary[]; nextPageToken: string | null }> {
  const clauses = [...scope];
  // Values are validated against strict patterns by the route, so quoting them is safe.
  if (filters.project) clauses.push(`${searchAttributes.project.name} = '${filters.project}'`);
  if (filters.environment) clauses.push(`${searchAttributes.environment.name} = '${filters.environment}'`);
  if (filters.release) clauses.push(`${searchAttributes.release.name} = '${filters.release}'`);
  if (filters.status) clauses.push(`${searchAttributes.status.name} = '${filters.status}'`);
  const response = await client.workflowService.listWorkflowExecutions({
    namespace: client.options.namespace,
    query: clauses.join(' AND '),
    pageSize: filters.pageSize,
    nextPageToken: filters.pageToken ? openPageToken(signer, filters.pageToken) : undefined,
  });
  const deployments = await Promise.all((response.executions ?? []).map((execution) => summarize(client, execution, links)));
  // Within a page, newest first; visibility orders running ones before finished ones.
  deployments.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return { deployments, nextPageToken: sealPageToken(signer, response.nextPageToken) };
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

/** The visibility query for deployments waiting for `who` (any of their teams, or held by them). */
export function waitingQuery(scope: string[], who: { teams: string[]; username: string } | 'all'): string {
  const clauses = [...scope, `${searchAttributes.status.name} = 'Waiting'`, `ExecutionStatus = 'Running'`];
  if (who !== 'all') {
    // Values are config ids and usernames (strict patterns), so quoting them is safe.
    const teams = who.teams.length > 0 ? [`${searchAttributes.waitingFor.name} IN (${who.teams.map((team) => `'${team}'`).join(', ')})`] : [];
    clauses.push(`(${[...teams, `${searchAttributes.assignee.name} = '${who.username}'`].join(' OR ')})`);
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
  who: { teams: string[]; username: string } | 'all',
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

async function summarize(
  client: Client,
  execution: protoTypes.api.workflow.v1.IWorkflowExecutionInfo,
  links: (id: string) => Links,
): Promise<DeploymentSummary> {
  const fields = execution.searchAttributes?.indexedFields ?? {};
  const read = <T>(name: string): T | undefined => {
    const payload = fields[name];
    return payload ? defaultPayloadConverter.fromPayload<T>(payload as Payload) : undefined;
  };
  // The memo goes through the client's data converter, payload codec included.
  const memo = (await decodeMapFromPayloads(client.options.loadedDataConverter, execution.memo?.fields as Record<string, Payload> | undefined)) ?? {};
  const id = execution.execution?.workflowId ?? '';
  let status = read<DeploymentStatus>(searchAttributes.status.name) ?? 'Running';
  const closed = execution.status !== ExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
  if (closed && (status === 'Running' || status === 'Waiting')) {
    status = execution.status === ExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED ? 'Cancelled' : 'Failed';
  }
  const triggeredBy = typeof memo.triggeredBy === 'string' ? memo.triggeredBy : null;
  return {
    id,
    project: read<string>(searchAttributes.project.name) ?? '',
    environment: read<string>(searchAttributes.environment.name) ?? '',
    release: read<string>(searchAttributes.release.name) ?? '',
    status,
    createdAt: timestamp(execution.startTime) ?? '',
    finishedAt: closed ? timestamp(execution.closeTime) : null,
    triggeredBy,
    waitingFor: read<string[]>(searchAttributes.waitingFor.name) ?? [],
    assignee: read<string>(searchAttributes.assignee.name) ?? null,
    links: links(id),
  };
}

export function timestamp(value: protoTypes.api.workflow.v1.IWorkflowExecutionInfo['startTime']): string | null {
  if (!value?.seconds) return null;
  return new Date(Number(value.seconds) * 1000 + Math.floor((value.nanos ?? 0) / 1e6)).toISOString();
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

