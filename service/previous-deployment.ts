import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow/index.js';
import { changedVariables, previousOf, type TriggerContext, type VariableSet } from '../core/decision-context.js';
import { type DeploymentInput, type DeploymentView, searchAttributes } from '../workflows/messages.js';
import { ServiceError } from './errors.js';
import { timestamp } from './visibility.js';

/** How many of the newest successful runs visibility is asked for, to pick the one that finished last. */
const CANDIDATES = 20;

/**
 * The context a new deployment is triggered with (docs/change-control.md#the-context-to-decide):
 * its release notes, the newest successful deployment of the same project and environment (who
 * triggered it, who approved it and when), and the variables that differ from that one's (sensitive
 * ones masked). Visibility finds the previous deployment, its history's first event its variables
 * (its input, in clear only here, never shown), and its view who approved it.
 */
export async function triggerContext(
  client: Client,
  scope: string[],
  deployment: { project: string; environment: string; current: VariableSet; releaseNotes: string | undefined },
  readView: (id: string) => Promise<DeploymentView>,
): Promise<TriggerContext> {
  const releaseNotes = deployment.releaseNotes?.trim() ? deployment.releaseNotes : null;
  const previous = await previousDeployment(client, scope, deployment.project, deployment.environment, readView);
  if (!previous) return { releaseNotes, previous: null, changedVariables: [] };
  return {
    releaseNotes,
    previous: previousOf(previous.view),
    changedVariables: changedVariables({ variables: previous.input.variables, sensitive: previous.input.sensitive }, deployment.current),
  };
}

/**
 * The deployment of this project and environment that succeeded last, with its input and view;
 * none when there is none, or when its history is gone (retention). One that has succeeded but still
 * delivers its last notifications (its workflow not yet closed) counts as the newest.
 */
async function previousDeployment(
  client: Client,
  scope: string[],
  project: string,
  environment: string,
  readView: (id: string) => Promise<DeploymentView>,
): Promise<{ input: DeploymentInput; view: DeploymentView } | undefined> {
  // Values are config ids (strict patterns), so quoting them is safe.
  const query = [
    ...scope,
    `${searchAttributes.project.name} = '${project}'`,
    `${searchAttributes.environment.name} = '${environment}'`,
    `${searchAttributes.status.name} = 'Succeeded'`,
  ].join(' AND ');
  const { executions } = await client.workflowService.listWorkflowExecutions({ namespace: client.options.namespace, query, pageSize: CANDIDATES });
  const newest = (executions ?? [])
    .map((execution) => ({ execution: execution.execution, closedAt: timestamp(execution.closeTime) ?? '~' }))
    .sort((a, b) => (a.closedAt < b.closedAt ? 1 : a.closedAt > b.closedAt ? -1 : 0))[0]?.execution;
  if (!newest?.workflowId || !newest.runId) return undefined;
  const started = await firstEvent(client, { workflowId: newest.workflowId, runId: newest.runId });
  const inputPayloads = started?.workflowExecutionStartedEventAttributes?.input?.payloads as Payload[] | undefined;
  if (!inputPayloads?.length) return undefined;
  const [input, view] = await Promise.all([
    decodeFromPayloadsAtIndex<DeploymentInput>(client.options.loadedDataConverter, 0, inputPayloads),
    readView(newest.workflowId).catch((error: unknown) => {
      if (error instanceof ServiceError && error.code === 'NOT_FOUND') return undefined;
      throw error;
    }),
  ]);
  return view ? { input, view } : undefined;
}

/** The first event of a run's history: its start, with its input. */
async function firstEvent(client: Client, execution: { workflowId: string; runId: string }) {
  try {
    const { history } = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution,
      maximumPageSize: 1,
    });
    return history?.events?.[0];
  } catch (error) {
    // Gone since visibility listed it (retention): as if there were none.
    if (error instanceof Error && 'code' in error && error.code === 5 /* NOT_FOUND */) return undefined;
    throw error;
  }
}
