import { latestEvaluation } from '../../core/decision-context.js';
import type { Interruption } from '../../core/interruptions.js';
import type { DeploymentState } from './deployment-state.js';

/**
 * A new interruption with what is being decided (docs/change-control.md#the-context-to-decide): the
 * context the deployment was triggered with (release notes, previous deployment, changed variables)
 * and its latest evaluation as it opens; `remaining` is filled in by `withRemaining`. Data only: it
 * changes no command, so it needs no patch. Deployments triggered without a context (before it was
 * kept; lifecycle ones) open their interruptions as before.
 */
export function withContext(deployment: DeploymentState, interruption: Interruption): Interruption {
  const { context } = deployment.input;
  if (!context) return interruption;
  const evaluation = latestEvaluation(deployment.view.steps);
  return { ...interruption, context: { ...context, ...(evaluation ? { evaluation } : {}), remaining: { rules: [], mayApprove: [] } } };
}
