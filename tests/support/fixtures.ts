/**
 * Fixtures for workflow tests and for `scripts/record-histories.ts`: no vitest here, so the script
 * can use them too.
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { readFileSync } from 'node:fs';
import { EXAMPLE_CONFIG_PATH, parseConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { sequenceBases, triggerVariables } from '../../service/inputs.js';
import { releaseWorkflowId } from '../../core/ids.js';
import type { Step } from '../../config/schema.js';
import { defaultValues } from '../../config/project-variables.js';
import { searchAttributeTypes } from '../../temporal/search-attributes.js';
import type { Actor, DeploymentInput, DeploymentView, ReleaseInput } from '../../workflows/messages.js';
import { until } from './poll.js';

/** A time-skipping Temporal test server (the real binary at `path`) with our search attributes. */
export async function createTimeSkippingEnv(path: string): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
  // The test server cannot list search attributes, only add them.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: searchAttributeTypes(),
  });
  return env;
}

/** A deployment's end as a user sees it: the view from its result or, when it failed or aborted, from its failure. */
export async function finalView(handle: WorkflowHandle): Promise<DeploymentView> {
  try {
    return (await handle.result()) as DeploymentView;
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error;
    // The time-skipping server keeps no details of a cancellation (the dev server does): ask the closed workflow.
    return ((error.cause as { details?: unknown[] }).details?.[0] as DeploymentView | undefined) ?? (await handle.query<DeploymentView>('state'));
  }
}

/**
 * A project as the config file writes it, an item of `projects:`: in `environments`, with
 * `variables` (a YAML flow mapping) when given, and `steps` (YAML list items) as its process.
 */
export const project = (id: string, name: string, steps: string, { environments = '[qa, production]', variables }: { environments?: string; variables?: string } = {}) => `
- id: ${id}
  name: ${name}
  environments: ${environments}${variables ? `\n  variables: ${variables}` : ''}
  process:
${steps.trim().replace(/^/gm, '    ')}
`;

/** hello-service, the example's project, with `steps` as its process. */
export const helloService = (steps: string, options: { environments?: string; variables?: string } = {}) => project('hello-service', 'Hello service', steps, options);

/** The manual step of docs/configuration.md's example process. */
export const TRADERS_STEP = 'Ensure traders are aware of the deployment';

/**
 * docs/configuration.md's example process (without its http-check, which would need a live site),
 * as the config file writes it: Deploy, the traders' manual step (with `manual`'s lines added to
 * it), the steps of `after`, then Record sign-off.
 */
export function traderProcess({
  deploy = 'echo "deploying #{Project} #{Release} to #{Environment}"',
  manual = '',
  after = '',
  signOff = `echo "#{Action[${TRADERS_STEP}].Output.Manual.Notes}"`,
}: { deploy?: string; manual?: string; after?: string; signOff?: string } = {}): string {
  const lines = (text: string, indent: string) => (text.trim() ? `${text.trim().replace(/^/gm, indent)}\n` : '');
  return `
- { name: Deploy, type: script, run: '${deploy}' }
- name: ${TRADERS_STEP}
  type: manual
  environments: [production]
  instructions: |
    Tell the trading desk that #{Release} goes live.
  responsibleTeams: [release-managers]
${lines(manual, '  ')}${lines(after, '')}- name: Record sign-off
  type: script
  run: '${signOff}'
`;
}

/** A deployment input whose process is written as the config file would write it. */
export function deploymentInput(processYaml: string, overrides: Partial<DeploymentInput> = {}): DeploymentInput {
  const config = parseConfig(`
teams: [{ id: release-managers, name: Release managers }, { id: dba, name: DBAs }]
projects:
${helloService(processYaml, { variables: '{ Greeting: hello }' }).trim().replace(/^/gm, '  ')}
notifications:
  channels:
    - { id: ops-hook, webhook: { url: 'https://hooks.example.com/ops' } }
    - { id: desk, webhook: { url: 'https://hooks.example.com/desk', format: slack } }
    - { id: broken-hook, webhook: { url: 'https://hooks.example.com/broken' } }
  subscriptions: []
`);
  const project = config.projects[0]!;
  return {
    id: `hello-service:${overrides.environment ?? 'production'}:1.4.2:${randomUUID().slice(0, 8)}`,
    project: { id: project.id, name: project.name },
    environment: 'production',
    release: '1.4.2',
    process: project.process as Step[],
    variables: defaultValues(project.variables),
    triggeredBy: { id: 'ci', username: 'ci', displayName: 'CI' },
    createdAt: new Date().toISOString(),
    ...overrides,
  };
}

export const people = {
  jjones: { id: 'users-237', username: 'jjones', displayName: 'Jamie Jones', email: 'jamie.jones@example.com', teams: ['release-managers'], roles: ['deployer'] },
  mlee: { id: 'users-238', username: 'mlee', displayName: 'Morgan Lee', email: 'morgan.lee@example.com', teams: ['release-managers'], roles: ['deployer'] },
  outsider: { id: 'users-300', username: 'otto', displayName: 'Otto Outsider', teams: ['dba'], roles: ['deployer'] },
  admin: { id: 'users-1', username: 'root', displayName: 'Ada Admin', teams: [], roles: ['admin'] },
  viewer: { id: 'users-400', username: 'vic', displayName: 'Vic Viewer', teams: [], roles: ['viewer'] },
} satisfies Record<string, Actor>;

/** The example config's people with one lifecycle project written as the config file would write it. */
export function lifecycleConfig(projectYaml: string, extra = '') {
  const example = parseConfig(readFileSync(EXAMPLE_CONFIG_PATH, 'utf8'), EXAMPLE_CONFIG_PATH);
  const parsed = parseConfig(`
teams: [{ id: release-managers, name: Release managers }, { id: sre, name: Site reliability }]
users: ${JSON.stringify(example.users)}
projects:
  - id: helloservice
    name: Hello service
${projectYaml.replace(/^/gm, '    ')}
${extra}
`);
  return parsed;
}

/**
 * The example config's people in teams for approval rules (docs/manual-steps.md#approval-rules):
 * mlee in security and release-managers, vic a deployer in security, jjones in release-managers,
 * ci in none; with `projectsYaml` (items of `projects:`).
 */
export function securityTeamsConfig(projectsYaml: string): Config {
  const teams: Partial<Record<string, { teams: string[]; roles?: string[] }>> = {
    jjones: { teams: ['release-managers'] },
    mlee: { teams: ['security', 'release-managers'] },
    vic: { teams: ['security'], roles: ['deployer'] },
  };
  const users = parseConfig(readFileSync(EXAMPLE_CONFIG_PATH, 'utf8'), EXAMPLE_CONFIG_PATH).users.map((user) => ({ ...user, ...teams[user.username] }));
  return parseConfig(`
teams: [{ id: security, name: Security }, { id: release-managers, name: Release managers }, { id: sre, name: Site reliability }]
users: ${JSON.stringify(users)}
projects:
${projectsYaml.trim().replace(/^/gm, '  ')}
`);
}

/**
 * A project (an item of `projects:`) whose "Go-live" needs "2 from security and 1 from
 * release-managers" and asks three approver inputs, then a Report step that echoes them
 * (docs/manual-steps.md#approval-rules, #approver-inputs).
 */
export const GO_LIVE_PROJECT = `
- id: guarded
  name: Guarded service
  environments: [production]
  process:
    - name: Go-live
      type: manual
      rules: [{ teams: [security], count: 2 }, { teams: [release-managers], count: 1 }]
      inputs:
        - { name: risk, type: choice, options: [low, high], required: true }
        - { name: ticket, type: text, pattern: 'CHG-[0-9]+', description: The change ticket }
        - { name: backupTaken, type: boolean }
    - { name: Report, type: script, run: 'echo "risk=#{Action[Go-live].Output.Manual.Input.risk} ticket=#{Action[Go-live].Output.Manual.Input.ticket} backup=#{Action[Go-live].Output.Manual.Input.backupTaken}"' }
`;

/** A release of the config's first project as the service would start it (docs/keptn.md). */
export function releaseInput(
  config: Config,
  overrides: { release?: string; stage?: string; sequence?: string; triggeredBy?: string; keptnContext?: string; variables?: Record<string, string> } = {},
): ReleaseInput {
  const project = config.projects[0]!;
  const user = config.users.find((u) => u.username === (overrides.triggeredBy ?? 'ci'))!;
  const release = overrides.release ?? '0.1.1';
  const resolved = triggerVariables(project, overrides.variables);
  const keptnContext = overrides.keptnContext ?? randomUUID();
  const firstStage = project.shipyard!.spec.stages[0]!;
  return {
    id: releaseWorkflowId(project.id, release, randomUUID().slice(0, 8)),
    keptnContext,
    project: { id: project.id, name: project.name },
    release,
    service: project.id,
    shipyard: project.shipyard!,
    sequences: sequenceBases(config, project, release, resolved, user, { 'Interlock.Url': 'http://interlock.test' }),
    start: { stage: overrides.stage ?? firstStage.name, sequence: overrides.sequence ?? firstStage.sequences[0]!.name },
    triggeredBy: { id: user.id, username: user.username, displayName: user.displayName },
    createdAt: new Date().toISOString(),
    triggeredId: randomUUID(),
  };
}

/** Queries the deployment's `state` until `ready` holds, as a dashboard polling it would; fails naming what did not come. */
export function untilView(handle: WorkflowHandle, ready: (view: DeploymentView) => boolean, what = 'the expected state', timeoutMs = 20_000): Promise<DeploymentView> {
  return until(() => handle.query<DeploymentView>('state'), ready, `${handle.workflowId}: ${what}`, { timeoutMs, everyMs: 50 });
}

/** A project's shipyard of one stage, production, whose delivery sequence runs `tasks` (YAML list items), as the config file writes it. */
export const productionShipyard = (tasks: string) => `shipyard:
  apiVersion: spec.keptn.sh/0.2.2
  kind: Shipyard
  spec:
    stages:
      - name: production
        sequences:
          - name: delivery
            tasks:
${tasks.trim().replace(/^/gm, '              ')}`;

/** The seed's shipyard (docs/keptn.md), examples/shipyard.yaml as written, indented to sit under a project's `shipyard:`. */
export const seedShipyard = (indent = '  ') =>
  readFileSync(new URL('../../examples/shipyard.yaml', import.meta.url), 'utf8').trimEnd().replace(/^/gm, indent);

/**
 * A project whose Deploy fails the first time it runs for its marker file ("disk full") and asks a
 * person (guided failure), as the config file writes it; `steps` (YAML list items) run after Deploy.
 */
export const flakyService = (steps = '') => `- id: flaky
  name: Flaky service
  environments: [production]
  guidedFailure: true
  variables: { Marker: { prompted: true } }
  process:
    - { name: Deploy, type: script, run: 'test -e "#{Marker}" || { touch "#{Marker}"; echo "disk full"; exit 1; }; echo deployed' }${steps ? `\n${steps.trim().replace(/^/gm, '    ')}` : ''}
`;
