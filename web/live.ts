import { isFinished } from '../workflows/messages.js';
import type { DeploymentWithLinks } from '../service/deployments.js';
import { snapshotOf } from '../service/watch.js';

/**
 * What the script needs to keep a deployment's page live: its event stream, the page to re-read
 * when an event comes, and the version rendered (the events' `id`), so the first event, which only
 * repeats what the page shows, costs nothing.
 */
export function deploymentLive(view: DeploymentWithLinks): Record<string, string> {
  return {
    events: `${view.links.self}/events`,
    refresh: view.links.self.replace(/^\/api/, ''),
    version: snapshotOf(view).version,
    finished: String(isFinished(view.status)),
  };
}
