import { EXIT, type ExitCode, usageError } from './client.js';
import { deploymentPath as path } from '../service/paths.js';
import { type Grant, grantInWords } from '../core/principals.js';
import { type Command, type Context, releaseNotesOptions, str, withReleaseNotes } from './command.js';
import { follow } from './follow.js';
import { type DeploymentStatus, type DeploymentSummary, renderSummaries, renderView, type View } from './format.js';
import { idCommand, runCommands } from './run-commands.js';

const STATUSES: DeploymentStatus[] = ['Running', 'Waiting', 'Succeeded', 'Failed', 'Aborted', 'Cancelled', 'Superseded', 'Expired'];

/** Follows to the end; with --json the final view is the one document on stdout. */
async function waitFor(ctx: Context, id: string, timeoutMs: number | undefined, initial?: View): Promise<ExitCode> {
  const followed = await follow(ctx.client, id, { timeoutMs, log: ctx.log, ...(initial ? { initial } : {}) });
  if (ctx.json) ctx.out(JSON.stringify(followed.view, null, 2));
  if (followed.message) process.stderr.write(`interlock: ${followed.message}\n`);
  return followed.exitCode;
}

export const { start: deploy, wait } = runCommands<View>({
  noun: 'deployment',
  start: {
    name: 'deploy',
    summary: 'trigger a deployment; with --wait, follow it to the end',
    description:
      'Prints the deployment id and its links. With --wait, prints each change (steps, a manual step\n' +
      'waiting for a person, with who may act and the exact command), and exits by the result.',
    options: {
      project: { type: 'string', value: 'P', help: 'the project id (required)' },
      environment: { type: 'string', value: 'E', help: 'the environment, one of the project\'s (required)' },
      release: { type: 'string', value: 'R', help: 'the release version, e.g. 1.4.2 (required)' },
    },
    after: {
      'idempotency-key': { type: 'string', value: 'K', help: 'a repeat with the same key (a retried CI job) starts nothing and follows the first' },
      'not-after': { type: 'string', value: 'T', help: 'start-by (e.g. 2026-12-07T18:00:00Z): not past its gates by then, it ends Expired' },
      ...releaseNotesOptions,
    },
    required: ['project', 'environment', 'release'],
  },
  wait: { name: 'wait', summary: 'follow a deployment until it finishes; exit 0 only if it Succeeded' },
  path: '/api/deployments',
  body: (values, variables) => {
    const notAfter = str(values['not-after']);
    return {
      project: values.project,
      environment: values.environment,
      release: values.release,
      ...(variables ? { variables } : {}),
      ...withReleaseNotes(values),
      ...(notAfter === undefined ? {} : { notAfter }),
    };
  },
  headers: (values) => {
    const key = str(values['idempotency-key']);
    return key ? { 'Idempotency-Key': key } : undefined;
  },
  started: ({ status, body: view }, values) =>
    status === 201
      ? `Started ${view.id}: ${view.projectName} ${view.release} to ${view.environment}`
      : `Already started with Idempotency-Key "${str(values['idempotency-key'])}": ${view.id} (${view.status}); nothing new was started.`,
  follow: waitFor,
});

export const status = idCommand('status', 'a deployment: its status, steps, who is to act, links', async (ctx, id) => {
  const { body } = await ctx.client.get<View>(path(id));
  ctx.out(ctx.json ? JSON.stringify(body, null, 2) : renderView(body, (p) => ctx.client.url(p)));
  return EXIT.ok;
});

export const list: Command = {
  name: 'list',
  args: [],
  summary: 'deployments, newest first',
  options: {
    status: { type: 'string', value: 'S', help: `only with this status: ${STATUSES.join(', ')}` },
    project: { type: 'string', value: 'P', help: 'only of this project' },
    environment: { type: 'string', value: 'E', help: 'only to this environment' },
    release: { type: 'string', value: 'R', help: 'only of this release' },
    limit: { type: 'string', value: 'N', help: 'at most N (1-100, default 20)' },
    'page-token': { type: 'string', value: 'T', help: 'the next page, as an earlier list printed it' },
  },
  async run(ctx, values) {
    const query = new URLSearchParams();
    const status = str(values.status);
    if (status !== undefined) {
      const known = STATUSES.find((s) => s.toLowerCase() === status.toLowerCase());
      if (!known) throw usageError(`--status "${status}" is none of ${STATUSES.join(', ')}.`);
      query.set('status', known);
    }
    const limit = str(values.limit) ?? '20';
    if (!/^\d+$/.test(limit) || Number(limit) < 1 || Number(limit) > 100) throw usageError(`--limit "${limit}" is not a number from 1 to 100.`);
    query.set('pageSize', limit);
    for (const name of ['project', 'environment', 'release'] as const) if (str(values[name])) query.set(name, str(values[name])!);
    if (str(values['page-token'])) query.set('pageToken', str(values['page-token'])!);
    const { body } = await ctx.client.get<{ deployments: DeploymentSummary[]; nextPageToken: string | null }>(`/api/deployments?${query}`);
    if (ctx.json) ctx.out(JSON.stringify(body, null, 2));
    else {
      ctx.out(renderSummaries(body.deployments));
      if (body.nextPageToken) ctx.out(`More: interlock list --page-token ${body.nextPageToken}${query.has('status') ? ` --status ${query.get('status')}` : ''}`);
    }
    return EXIT.ok;
  },
};

export const cancel = idCommand('cancel', 'cancel a deployment that has not finished (a running script is stopped)', async (ctx, id) => {
  const { status, body } = await ctx.client.post<View>(`${path(id)}/cancel`, {});
  if (ctx.json) ctx.out(JSON.stringify(body, null, 2));
  else if (status === 200) ctx.out(`${id} is ${body.status}.`);
  else ctx.out(`Cancellation requested; ${id} is still stopping (${body.status}). Follow it with: interlock wait ${id}`);
  return EXIT.ok;
});

export const whoami: Command = {
  name: 'whoami',
  args: [],
  summary: 'who your token belongs to, with teams, roles and where they apply',
  options: {},
  async run(ctx) {
    const { body } = await ctx.client.get<{ displayName: string; username: string; roles: string[]; grants?: Grant[]; readOnly?: boolean; teams: { name: string }[] }>('/api/me');
    // Each grant where it applies (`deployer on hello-service in qa`); an older API says only the roles.
    const roles = body.grants ? body.grants.map(grantInWords).join(', ') || 'none' : body.roles.join(', ');
    ctx.out(ctx.json
      ? JSON.stringify(body, null, 2)
      : `${body.displayName} (${body.username}); roles: ${roles}${body.readOnly ? ' (read-only token)' : ''}; teams: ${body.teams.map((t) => t.name).join(', ') || 'none'}`);
    return EXIT.ok;
  },
};
