import type { Config } from '../../config/schema.js';
import type { DeploymentWithLinks } from '../../service/deployments.js';
import type { Session } from '../session.js';

/** Where a refused action's message goes: next to the control that caused it. */
export interface ActionError {
  where: 'take' | 'decide' | 'cancel';
  message: string;
}

/** What the deployment page and its parts (banner, decisions, timeline) are drawn from. */
export interface DeploymentProps {
  session: Session;
  config: Config;
  view: DeploymentWithLinks;
  error?: ActionError | undefined;
  notes?: string | undefined;
  notice?: string | undefined;
}
