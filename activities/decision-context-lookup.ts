import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow/index.js';
import { isoOfTimestamp } from '../core/durations.js';
import { changedVariables, previousOf, type TriggerContext } from '../core/decision-context.js';
import type { ContextRequest } from '../workflows/activity-contract.js';
import { type DeploymentInput, type DeploymentView, searchAttributes, WORKFLOW_TYPE } from '../workflows/messages.js';

/** How many of the newest successful runs visibility is asked for, to pick the one that finished last. */
const CANDIDATES = 20;

/**
 * The context a deployment's interruptions show (docs/change-control.md#the-context-to-decide),
 * worked out when it starts: its release notes, the newest successful deployment of the same
 * project and environment (who triggered it, who approved it and when), and the variables that
 * differ from that one's (sensitive ones masked). Visibility finds the previous deployment, its
 * history's first event its variables (its input, in clear only here, never shown), and its view
 * who approved it.
 */
export async function decisionContextOf(client: Client, taskQueue: string, deployment: ContextRequest): Promise<TriggerContext> {
  const releaseNotes = deployment.releaseNotes?.trim() ? deployment.releaseNotes : null;
  // This Interlock's deployments only: several may share a namespace.
  const scope = [`WorkflowType = '${WORKFLOW_TYPE}'`, `TaskQueue = '${taskQueue.replaceAll("'", '')}'`];
  const previous = await previousDeployment(client, scope, deployment.project, deployment.environment);
  if (!previous) return { releaseNotes, previous: null, changedVariables: [] };
  return {
    releaseNotes,
    previous: previousOf(previous.view),
    changedVariables: changedVariables({ variables: previous.input.variables, sensitive: previous.input.sensitive }, deployment.current),
  };
}

/**
 * The view of a deployment as Temporal keeps it: its `state` query while it runs, its result (or
 * its failure's details) once closed; undefined when it is gone.
 */
async function viewOf(client: Client, id: string): Promise<DeploymentView | undefined> {
  const handle = client.workflow.getHandle(id);
  try {
    const { status } = await handle.describe();
    if (status.name === 'RUNNING') return await handle.query<DeploymentView>('state');
    return (await handle.result()) as DeploymentView;
  } catch (error) {
    const details = (error as { cause?: { details?: unknown[] } }).cause?.details;
    if (details?.[0]) return details[0] as DeploymentView;
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
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
): Promise<{ input: DeploymentInput; view: DeploymentView } | undefined> {
  // Values are config ids (strict patterns), so quoting them is safe.
  const query = [
    ...scope,
    `${searchAttributes.project.name} = '${project}'`,
    `${searchAttributes.environment.name} = '${environment}'`,
    `${searchAttributes.status.name} = 'Succeeded'`,
  ].join(' AND ');
  const executions = await client.workflowService.listWorkflowExecutions({ namespace: client.options.namespace, query, pageSize: CANDIDATES }).then(
    (answer) => answer.executions,
    (error: unknown) => {
      // A server without visibility (Temporal's time-skipping test server) knows no earlier deployment.
      if (error instanceof Error && 'code' in error && error.code === 12 /* UNIMPLEMENTED */) return [];
      throw error;
    },
  );
  const newest = (executions ?? [])
    .map((execution) => ({ execution: execution.execution, closedAt: isoOfTimestamp(execution.closeTime) ?? '~' }))
    .sort((a, b) => (a.closedAt < b.closedAt ? 1 : a.closedAt > b.closedAt ? -1 : 0))[0]?.execution;
  if (!newest?.workflowId || !newest.runId) return undefined;
  const started = await firstEvent(client, { workflowId: newest.workflowId, runId: newest.runId });
  const inputPayloads = started?.workflowExecutionStartedEventAttributes?.input?.payloads as Payload[] | undefined;
  if (!inputPayloads?.length) return undefined;
  const [input, view] = await Promise.all([
    decodeFromPayloadsAtIndex<DeploymentInput>(client.options.loadedDataConverter, 0, inputPayloads),
    viewOf(client, newest.workflowId),
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
