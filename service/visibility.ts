import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import proto, { type temporal as protoTypes } from '@temporalio/proto';
import { type DeploymentStatus, searchAttributes } from '../workflows/messages.js';
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
  const deployments = (response.executions ?? []).map((execution) => summarize(execution, links));
  // Within a page, newest first; visibility orders running ones before finished ones.
  deployments.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const token = response.nextPageToken?.length ? signer.seal('page', Buffer.from(response.nextPageToken).toString('base64url')) : null;
  return { deployments, nextPageToken: token };
}

/** The ids of waiting deployments whose interruptions these teams (or, with `all`, anyone) may act on. */
export async function listWaitingDeployments(
  client: Client,
  scope: string[],
  waitingFor: string[] | 'all',
  limit: number,
): Promise<string[]> {
  const clauses = [...scope, `${searchAttributes.status.name} = 'Waiting'`, `ExecutionStatus = 'Running'`];
  if (waitingFor !== 'all') {
    if (waitingFor.length === 0) return [];
    clauses.push(`${searchAttributes.waitingFor.name} IN (${waitingFor.map((team) => `'${team}'`).join(', ')})`);
  }
  const response = await client.workflowService.listWorkflowExecutions({
    namespace: client.options.namespace,
    query: clauses.join(' AND '),
    pageSize: limit,
  });
  return (response.executions ?? []).flatMap((execution) => execution.execution?.workflowId ?? []);
}

function summarize(execution: protoTypes.api.workflow.v1.IWorkflowExecutionInfo, links: (id: string) => Links): DeploymentSummary {
  const fields = execution.searchAttributes?.indexedFields ?? {};
  const read = <T>(name: string): T | undefined => {
    const payload = fields[name];
    return payload ? defaultPayloadConverter.fromPayload<T>(payload as Payload) : undefined;
  };
  const memo = execution.memo?.fields ?? {};
  const id = execution.execution?.workflowId ?? '';
  let status = read<DeploymentStatus>(searchAttributes.status.name) ?? 'Running';
  const closed = execution.status !== ExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
  if (closed && (status === 'Running' || status === 'Waiting')) {
    status = execution.status === ExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED ? 'Cancelled' : 'Failed';
  }
  const triggeredBy = memo.triggeredBy ? defaultPayloadConverter.fromPayload<string>(memo.triggeredBy as Payload) : null;
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

function timestamp(value: protoTypes.api.workflow.v1.IWorkflowExecutionInfo['startTime']): string | null {
  if (!value?.seconds) return null;
  return new Date(Number(value.seconds) * 1000 + Math.floor((value.nanos ?? 0) / 1e6)).toISOString();
}

/**
 * Temporal chokes on a page token it did not make (the call hangs in retries), so ours are sealed:
 * one that was not handed out by an Interlock API is a 400 before Temporal sees it.
 */
function openPageToken(signer: Signer, token: string): Buffer {
  const raw = signer.unseal('page', token);
  if (raw === undefined) {
    throw invalid([{ name: 'query.pageToken', reason: 'not a page token this API gave out (they last while the API runs); start from the first page' }]);
  }
  return Buffer.from(raw, 'base64url');
}

