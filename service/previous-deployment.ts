import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import proto from '@temporalio/proto';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow/index.js';
import { changedVariables, previousOf, type TriggerContext, type VariableSet } from '../core/decision-context.js';
import { type DeploymentInput, type DeploymentView, searchAttributes } from '../workflows/messages.js';
import { timestamp } from './visibility.js';

const { temporal } = proto;

/** How many of the newest successful runs visibility is asked for, to pick the one that finished last. */
const CANDIDATES = 20;

/**
 * The context a new deployment is triggered with (docs/change-control.md#the-context-to-decide):
 * its release notes, the newest successful deployment of the same project and environment (who
 * triggered it, who approved it and when), and the variables that differ from that one's (sensitive
 * ones masked). Read from Temporal alone: visibility finds the previous deployment, its history its
 * variables (its first event's input, in clear only here, never shown) and its final view (its result).
 */
export async function triggerContext(
  client: Client,
  scope: string[],
  deployment: { project: string; environment: string; current: VariableSet; releaseNotes: string | undefined },
): Promise<TriggerContext> {
  const releaseNotes = deployment.releaseNotes?.trim() ? deployment.releaseNotes : null;
  const previous = await previousDeployment(client, scope, deployment.project, deployment.environment);
  if (!previous) return { releaseNotes, previous: null, changedVariables: [] };
  return {
    releaseNotes,
    previous: previousOf(previous.view),
    changedVariables: changedVariables({ variables: previous.input.variables, sensitive: previous.input.sensitive }, deployment.current),
  };
}

/**
 * The deployment of this project and environment that succeeded last (by the time it finished), with
 * its input and final view; none when there is none, or when its history is gone (retention).
 */
async function previousDeployment(client: Client, scope: string[], project: string, environment: string): Promise<{ input: DeploymentInput; view: DeploymentView } | undefined> {
  // Values are config ids (strict patterns), so quoting them is safe.
  const query = [
    ...scope,
    `${searchAttributes.project.name} = '${project}'`,
    `${searchAttributes.environment.name} = '${environment}'`,
    `${searchAttributes.status.name} = 'Succeeded'`,
    `ExecutionStatus = 'Completed'`,
  ].join(' AND ');
  const { executions } = await client.workflowService.listWorkflowExecutions({ namespace: client.options.namespace, query, pageSize: CANDIDATES });
  const newest = (executions ?? [])
    .map((execution) => ({ execution: execution.execution, closedAt: timestamp(execution.closeTime) ?? '' }))
    .sort((a, b) => (a.closedAt < b.closedAt ? 1 : a.closedAt > b.closedAt ? -1 : 0))[0]?.execution;
  if (!newest?.workflowId || !newest.runId) return undefined;
  const execution = { workflowId: newest.workflowId, runId: newest.runId };
  const [started, closed] = await Promise.all([
    historyEvent(client, execution, temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT),
    historyEvent(client, execution, temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT),
  ]);
  const inputPayloads = started?.workflowExecutionStartedEventAttributes?.input?.payloads as Payload[] | undefined;
  const resultPayloads = closed?.workflowExecutionCompletedEventAttributes?.result?.payloads as Payload[] | undefined;
  if (!inputPayloads?.length || !resultPayloads?.length) return undefined;
  const converter = client.options.loadedDataConverter;
  const [input, view] = await Promise.all([
    decodeFromPayloadsAtIndex<DeploymentInput>(converter, 0, inputPayloads),
    decodeFromPayloadsAtIndex<DeploymentView>(converter, 0, resultPayloads),
  ]);
  return { input, view };
}

/** The first event of a run's history (its start), or with `CLOSE_EVENT` its last. */
async function historyEvent(client: Client, execution: { workflowId: string; runId: string }, filter: proto.temporal.api.enums.v1.HistoryEventFilterType) {
  try {
    const { history } = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution,
      maximumPageSize: 1,
      historyEventFilterType: filter,
    });
    return history?.events?.[0];
  } catch (error) {
    // Gone since visibility listed it (retention): as if there were none.
    if (error instanceof Error && 'code' in error && error.code === 5 /* NOT_FOUND */) return undefined;
    throw error;
  }
}
