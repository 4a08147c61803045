import type { Client } from '@temporalio/client';
import { checkHttp } from './http.js';
import { createNotificationActivities, type NotifierDeps } from './notify.js';
import { runScript } from './script.js';
import { fetchSli } from './sli.js';
import { createTemporalActivities } from './temporal.js';

export { checkHttp } from './http.js';
export { runScript } from './script.js';
export { fetchSli } from './sli.js';
export type { CheckHttpInput } from './http.js';
export type { RunScriptInput, StepOutput } from './script.js';

/** What the activities need from the worker: a Temporal client, and the config's channels for notifications. */
export interface ActivityDeps extends NotifierDeps {
  client: Client;
}

/** Every activity a worker registers; workflows proxy them as `Activities`, by type only. */
export function createActivities(deps: ActivityDeps) {
  return { runScript, checkHttp, fetchSli, ...createTemporalActivities(deps.client), ...createNotificationActivities(deps) };
}

export type Activities = ReturnType<typeof createActivities>;
