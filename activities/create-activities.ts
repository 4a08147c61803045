import type { Client } from '@temporalio/client';
import type { Activities } from '../workflows/activity-contract.js';
import { checkOnce } from './external-check.js';
import { checkHttp } from './http.js';
import { createNotificationActivities, type NotifierDeps } from './deliver-notification.js';
import { runScript } from './script.js';
import { fetchSli } from './sli.js';
import { createTemporalActivities } from './temporal-activities.js';


/** What the activities need from the worker: a Temporal client, and the config's channels for notifications. */
export interface ActivityDeps extends NotifierDeps {
  client: Client;
}

/** Every activity a worker registers: the workflows' contract (`Activities`), implemented. */
export function createActivities(deps: ActivityDeps): Activities {
  return { runScript, checkHttp, checkOnce, fetchSli, ...createTemporalActivities(deps.client), ...createNotificationActivities(deps) } satisfies Activities;
}
