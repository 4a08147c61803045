import { Context } from '@temporalio/activity';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { decodeMapFromPayloads } from '@temporalio/common/lib/internal-non-workflow/index.js';
import type { Payload } from '@temporalio/common';
import { overridesWorkflowId } from '../core/ids.js';
import type { OverrideRecord } from '../core/break-glass.js';
import {
  EVALUATION_MEMO,
  GATE_WORKFLOW_TYPE,
  gateEnterSignal,
  type GateInput,
  OVERRIDES_WORKFLOW_TYPE,
  type OverridesInput,
  recordOverrideSignal,
  searchAttributes,
  WORKFLOW_TYPE,
} from '../workflows/messages.js';
import type { PreviousEvaluation } from '../core/slo-scoring.js';
import type { ContextRequest, DeploymentFacts, EnterGateInput, PreviousEvaluationsInput } from '../workflows/activity-contract.js';
import type { TriggerContext } from '../core/decision-context.js';
import { decisionContextOf } from './decision-context-lookup.js';

/**
 * Activities that speak to Temporal itself: what a workflow cannot do from its own code
 * (signal-with-start another workflow, read visibility).
 */
export function createTemporalActivities(client: Client) {
  return {
    /** Asks the gate of a project and environment to let a deployment start, starting the gate if it is not running (docs/manual-steps.md). */
    async enterGate({ gateId, deploymentId, triggeredAt, project, environment, taskQueue }: EnterGateInput): Promise<void> {
      await client.workflow.signalWithStart(GATE_WORKFLOW_TYPE, {
        workflowId: gateId,
        taskQueue,
        args: [{ id: gateId, project, environment, taskQueue } satisfies GateInput],
        signal: gateEnterSignal,
        // When it was triggered: the gate queues in that order, whichever request reaches it first.
        signalArgs: [{ deploymentId, ...(triggeredAt ? { triggeredAt } : {}) }],
        staticSummary: `Keeps deployments of ${project} to ${environment} behind one that waits at a blocking step`,
      });
    },

    /**
     * Puts a break-glass override on this Interlock's list of overrides to review (docs/change-control.md),
     * starting the list if it is not running. Retried until it is there; a repeat changes nothing.
     */
    async recordOverride(record: OverrideRecord): Promise<void> {
      const taskQueue = Context.current().info.taskQueue;
      const workflowId = overridesWorkflowId(taskQueue);
      await client.workflow.signalWithStart(OVERRIDES_WORKFLOW_TYPE, {
        workflowId,
        taskQueue,
        args: [{ taskQueue } satisfies OverridesInput],
        signal: recordOverrideSignal,
        signalArgs: [record],
        staticSummary: 'Break-glass overrides of policy gates, kept for review',
      });
    },

    /**
     * A deployment of this Interlock's task queue, as Temporal knows it (its search attributes, not
     * what anyone claims): how a deployment checks who says it supersedes it (docs/change-control.md).
     */
    async deploymentFacts({ id }: { id: string }): Promise<DeploymentFacts | null> {
      try {
        const description = await client.workflow.getHandle(id).describe();
        const attributes = description.typedSearchAttributes;
        const project = attributes.get(searchAttributes.project);
        const environment = attributes.get(searchAttributes.environment);
        if (description.type !== WORKFLOW_TYPE || description.taskQueue !== Context.current().info.taskQueue || !project || !environment) return null;
        return { project, environment, startedAt: description.startTime.toISOString() };
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return null;
        throw error;
      }
    },

    /** The context a deployment's interruptions show, worked out when it starts (docs/change-control.md#the-context-to-decide). */
    async decisionContext(request: ContextRequest): Promise<TriggerContext> {
      return decisionContextOf(client, Context.current().info.taskQueue, request);
    },

    /** Which of these deployments have ended (or never were): a gate lets them go. */
    async closedDeployments({ ids }: { ids: string[] }): Promise<string[]> {
      const closed = await Promise.all(ids.map(async (id) => {
        try {
          const description = await client.workflow.getHandle(id).describe();
          return description.status.name === 'RUNNING' ? [] : [id];
        } catch (error) {
          if (error instanceof WorkflowNotFoundError) return [id];
          throw error;
        }
      }));
      return closed.flat();
    },

    /**
     * The evaluations of earlier deployments of this project's stage, newest first, from their memos
     * (visibility alone: no workflow is read), for the SLO's relative criteria (docs/keptn.md). As in Keptn,
     * an evaluation counts once it is done, whether or not its sequence has finished since.
     */
    async previousEvaluations({ project, stage, excludeId, limit }: PreviousEvaluationsInput): Promise<PreviousEvaluation[]> {
      // This Interlock's deployments (its task queue: several may share a namespace) of the stage;
      // the newest hundreds are enough to find the last few evaluations among them.
      const query = [
        `WorkflowType = '${WORKFLOW_TYPE}'`,
        `TaskQueue = '${Context.current().info.taskQueue.replaceAll("'", '')}'`,
        `${searchAttributes.project.name} = '${project}'`,
        `${searchAttributes.environment.name} = '${stage}'`,
      ].join(' AND ');
      const found: { started: number; evaluation: PreviousEvaluation }[] = [];
      let nextPageToken: Uint8Array | undefined;
      for (let page = 0; page < 5 && found.length < limit; page++) {
        const response = await client.workflowService.listWorkflowExecutions({ namespace: client.options.namespace, query, pageSize: 100, nextPageToken });
        for (const execution of response.executions ?? []) {
          if (execution.execution?.workflowId === excludeId) continue;
          const memo = await decodeMapFromPayloads(client.options.loadedDataConverter, execution.memo?.fields as Record<string, Payload> | undefined);
          const evaluation = memo?.[EVALUATION_MEMO] as PreviousEvaluation | undefined;
          if (evaluation) found.push({ started: Number(execution.startTime?.seconds ?? 0) * 1000 + Math.floor((execution.startTime?.nanos ?? 0) / 1e6), evaluation });
        }
        if (!response.nextPageToken?.length) break;
        nextPageToken = response.nextPageToken;
      }
      return found.sort((a, b) => b.started - a.started).slice(0, limit).map(({ evaluation }) => evaluation);
    },
  };
}
