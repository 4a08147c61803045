import type { Config } from '../../config/schema.js';
import type { DeploymentWithLinks } from '../../service/deployments.js';
import type { Session } from '../../auth/sessions.js';

/** Where a refused action's message goes: next to the control that caused it. */
export interface ActionError {
  where: 'take' | 'decide' | 'cancel' | 'override';
  message: string;
  /** A proceed's invalid inputs: each input's name and why, shown next to its field. */
  fields?: Record<string, string> | undefined;
}

/** What the deployment page and its parts (banner, decisions, timeline) are drawn from. */
export interface DeploymentProps {
  session: Session;
  config: Config;
  view: DeploymentWithLinks;
  error?: ActionError | undefined;
  notes?: string | undefined;
  /** What was typed as an override's reason, kept when the override is refused. */
  reason?: string | undefined;
  /** What was typed into the decision form's inputs, to show again after a refusal. */
  inputs?: Record<string, string> | undefined;
  notice?: string | undefined;
  /** Where the controls' forms come back to when done (a release's page, a one-click link's page); the deployment's page when absent. */
  back?: string | undefined;
}
