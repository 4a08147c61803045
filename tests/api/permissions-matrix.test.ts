/**
 * Role × scope × route: every route of the OpenAPI document, asked by five principals about things
 * in and out of their grants (docs/security.md). Outside what one may see: 404, the words of
 * something that does not exist. Inside it, without the role: 403 naming what is missing. Else the
 * route's own answer. A route the document gains without a row here fails the first test.
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createLinkSigner } from '../../auth/one-click-links.js';
import { parseConfig } from '../../config/load.js';
import { codecKey } from '../../temporal/payload-codec.js';
import { json, ok, problem, type Problem } from '../support/api.js';
import { openPage, postForm, type Session, signInForForms } from '../support/dashboard.js';
import { eventually } from '../support/poll.js';
import { uniqueRelease, useStack, waitFor, waitForRelease } from '../support/stack.js';

/** The principals of the matrix: their tokens, and what the config grants them. */
const PEOPLE = {
  /** `roles: [admin]`: everything. */
  admin: 'admin-demo-token',
  /** `roles: [viewer]`: sees everything, does nothing. */
  vic: 'vic-demo-token',
  /** A deployer of alpha (and alpha-flow) in qa only. */
  quinn: 'quinn-matrix-token',
  /** A deployer of alpha (and alpha-flow), every environment. */
  avery: 'avery-matrix-token',
  /** A viewer of beta (and beta-flow) through her team, which the beta step names: she may decide there. */
  bea: 'bea-matrix-token',
} as const;
type Person = keyof typeof PEOPLE;
/** An operator (Temporal Web and the codec), outside the matrix: only the codec endpoint is about that role. */
const OPERATOR = 'olga-matrix-token';
/** An admin's read-only token: it looks everywhere and acts nowhere. */
const READ_ONLY = 'rory-matrix-token';
const everyone = Object.keys(PEOPLE) as Person[];
const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');

const lifecycle = (id: string, name: string) => `
  - id: ${id}
    name: ${name}
    shipyard:
      apiVersion: spec.keptn.sh/0.2.2
      kind: Shipyard
      spec:
        stages:
          - name: qa
            sequences: [{ name: delivery, tasks: [{ name: approval, properties: { pass: manual, warning: manual } }] }]
          - name: production
            sequences: [{ name: delivery, tasks: [{ name: approval, properties: { pass: manual, warning: manual } }] }]`;

const config = parseConfig(`
teams:
  - { id: beta-approvers, name: Beta approvers, grants: [{ role: viewer, projects: [beta, beta-flow] }] }
users:
  - { id: users-1, username: admin, displayName: Ada Admin, roles: [admin], tokenSha256: ${sha256(PEOPLE.admin)} }
  - { id: users-300, username: vic, displayName: Vic Viewer, roles: [viewer], tokenSha256: ${sha256(PEOPLE.vic)} }
  - id: users-501
    username: quinn
    displayName: Quinn QA
    grants: [{ role: deployer, projects: [alpha, alpha-flow], environments: [qa] }]
    tokenSha256: ${sha256(PEOPLE.quinn)}
  - { id: users-502, username: avery, displayName: Avery Alpha, grants: [{ role: deployer, projects: [alpha, alpha-flow] }], tokenSha256: ${sha256(PEOPLE.avery)} }
  - { id: users-503, username: bea, displayName: Bea Beta, teams: [beta-approvers], tokenSha256: ${sha256(PEOPLE.bea)} }
  - { id: users-504, username: olga, displayName: Olga Operator, roles: [operator], tokenSha256: ${sha256(OPERATOR)} }
  - { id: users-505, username: rory, displayName: Rory Readonly, roles: [admin], readOnly: true, tokenSha256: ${sha256(READ_ONLY)} }
projects:
  - id: alpha
    name: Alpha
    environments: [qa, production]
    process:
      - { name: Hold, type: manual, instructions: 'A deployer of this project and environment decides.' }
  - id: beta
    name: Beta
    environments: [qa, production]
    process:
      - { name: Hold, type: manual, instructions: 'Beta approvers decide.', responsibleTeams: [beta-approvers] }
${lifecycle('alpha-flow', 'Alpha flow')}
${lifecycle('beta-flow', 'Beta flow')}
`);

const stack = useStack(config);
const as = (who: Person) => ({ Authorization: `Bearer ${PEOPLE[who]}` });
const send = (who: Person, method: string, path: string, body?: unknown) => stack.send(method, path, { as: null, headers: as(who), ...(body === undefined ? {} : { body }) });

// What each person may see and do, written out here rather than asked of the code under test.
const ALPHA = ['alpha', 'alpha-flow'];
const BETA = ['beta', 'beta-flow'];
/** Whether `who` sees the project in some environment (a trigger there is then 403, not 404; a release of it is visible). */
const seesProject = (who: Person, project: string) =>
  who === 'admin' || who === 'vic' || ((who === 'quinn' || who === 'avery') && ALPHA.includes(project)) || (who === 'bea' && BETA.includes(project));
/** Whether `who` sees the project in the environment. */
const sees = (who: Person, project: string, environment: string) => seesProject(who, project) && (who !== 'quinn' || environment === 'qa');
/** Whether `who` holds the deployer role on the project, in the environment when one is named. */
const deploys = (who: Person, project: string, environment?: string) =>
  who === 'admin' || (who === 'avery' && ALPHA.includes(project)) || (who === 'quinn' && ALPHA.includes(project) && (environment ?? 'qa') === 'qa');
/** Whether `who` may take the Hold step there: alpha's names no team (a deployer there), beta's names beta-approvers. */
const takes = (who: Person, project: string, environment: string) =>
  sees(who, project, environment) && (who === 'admin' || (project === 'alpha' ? deploys(who, project, environment) : who === 'bea'));

/** The answer the rule gives: 404 unseen, 403 seen but not permitted, else `success`. */
const rule = (visible: boolean, permitted: boolean, success: number) => (!visible ? 404 : !permitted ? 403 : success);

/** A deployment at a place, waiting at Hold; a release of a lifecycle project, waiting at qa's approval. */
interface Waiting {
  id: string;
  iid: string;
}
const DEPLOYMENT_PLACES = [
  ['alpha', 'qa'],
  ['alpha', 'production'],
  ['beta', 'qa'],
] as const;
type DeploymentPlace = (typeof DEPLOYMENT_PLACES)[number];
const RELEASE_PROJECTS = ['alpha-flow', 'beta-flow'] as const;
type ReleaseProject = (typeof RELEASE_PROJECTS)[number];
const RELEASE_STARTS = [
  ['alpha-flow', 'qa'],
  ['alpha-flow', 'production'],
  ['beta-flow', 'qa'],
] as const;

const key = ([project, environment]: DeploymentPlace) => `${project}/${environment}`;
const matrixRelease = uniqueRelease();
/** Reads as the admin (the stack's default reader is not in this config). */
const admin = { api: () => stack.api('admin') };

/** A deployment an admin starts at the place, once it waits at Hold. */
async function waitingDeployment([project, environment]: DeploymentPlace, release = matrixRelease): Promise<Waiting> {
  const started = await ok(stack.trigger({ project, environment, release }, { as: 'admin' }), 201);
  const view = await waitFor(admin, started.id, (v) => v.status === 'Waiting');
  return { id: view.id, iid: view.interruptions[0]!.id };
}

/** A release an admin starts at qa, once it waits at the approval. */
async function waitingRelease(project: ReleaseProject, release = matrixRelease): Promise<{ id: string; keptnContext: string }> {
  const started = await ok(stack.api('admin').api.releases.$post({ json: { project, release, stage: 'qa' } }), 201);
  const view = await waitForRelease(admin, started.id, (v) => v.status === 'Waiting');
  return { id: view.id, keptnContext: view.keptnContext };
}

const deployments = new Map<string, Waiting>();
const releases = new Map<ReleaseProject, { id: string; keptnContext: string }>();
beforeAll(async () => {
  for (const place of DEPLOYMENT_PLACES) deployments.set(key(place), await waitingDeployment(place));
  for (const project of RELEASE_PROJECTS) releases.set(project, await waitingRelease(project));
}, 120_000);

const shared = (place: DeploymentPlace) => deployments.get(key(place))!;
const sharedRelease = (project: ReleaseProject) => releases.get(project)!;

/** Asserts a refusal's shape: 404 says only "No …" (nothing of what is there), 403 names what is missing. */
async function refused(response: Response, status: number, codes: string[] = ['NOT_PERMITTED']): Promise<Problem> {
  const body = await problem(response, status);
  if (status === 404) expect(body.code).toBe('NOT_FOUND');
  else expect(codes).toContain(body.code);
  return body;
}

/** The first event of a stream, then the stream closed. */
async function firstEvent(response: Response): Promise<string> {
  const reader = response.body!.getReader();
  let text = '';
  while (!text.includes('\n\n')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  await reader.cancel();
  return text;
}

/** A route's cells: each person at each of its places (a route about no one thing has one place, "everywhere"). */
interface Cell {
  label: string;
  run: () => Promise<void>;
}
const row = <P,>(places: readonly P[], name: (place: P) => string, cell: (who: Person, place: P) => Promise<void>): Cell[] =>
  everyone.flatMap((who) => places.map((place) => ({ label: `${who} on ${name(place)}`, run: () => cell(who, place) })));
const ONCE = [undefined] as const;
const nowhere = () => 'everywhere';

/** A deployment route about one deployment: 404 unseen, else the route's own answer (`seen`). */
const deploymentRead = (seen: (who: Person, at: Waiting, place: DeploymentPlace) => Promise<void>, path: (at: Waiting) => string) =>
  row(DEPLOYMENT_PLACES, key, async (who, place) => {
    const at = shared(place);
    if (!sees(who, place[0], place[1])) await refused(await send(who, 'GET', path(at)), 404);
    else await seen(who, at, place);
  });

/** A decision on Hold while nobody holds it: past the permission checks, the step's own answer (409: take it first; not an option). */
const decision = (action: string, conflict: string) =>
  row(DEPLOYMENT_PLACES, key, async (who, place) => {
    const at = shared(place);
    const response = await send(who, 'POST', `/api/deployments/${at.id}/interruptions/${at.iid}/${action}`, {});
    const status = rule(sees(who, place[0], place[1]), takes(who, place[0], place[1]), 409);
    if (status === 409) expect((await problem(response, 409)).code).toBe(conflict);
    else await refused(response, status, ['NOT_IN_TEAM']);
  });

const releaseRead = (seen: (who: Person, at: { id: string; keptnContext: string }) => Promise<void>, path: (at: { id: string; keptnContext: string }) => string) =>
  row(RELEASE_PROJECTS, (project) => project, async (who, project) => {
    const at = sharedRelease(project);
    if (!seesProject(who, project)) await refused(await send(who, 'GET', path(at)), 404);
    else await seen(who, at);
  });

const releaseKey = ([project, stage]: readonly [string, string]) => `${project} from ${stage}`;
const param = (id: string) => encodeURIComponent(id);

/**
 * Every route of the OpenAPI document, in the order the cells run: reads first, then what is
 * refused or changes nothing, then what starts, takes or cancels (each on a run of its own).
 */
const ROUTES: Record<string, Cell[]> = {
  'get /api/me': row(ONCE, nowhere, async (who) => {
    const me = await json(send(who, 'GET', '/api/me'), z.object({ username: z.string(), grants: z.array(z.object({ role: z.string() }).loose()) }).loose());
    expect(me.username).toBe(who);
    expect(me.grants.length).toBeGreaterThan(0);
  }),
  'get /api/admin/config': row(ONCE, nowhere, async (who) => {
    const response = await send(who, 'GET', '/api/admin/config');
    if (who === 'admin') expect(response.status).toBe(200);
    else expect((await refused(response, 403)).missing).toEqual({ role: 'admin' });
  }),
  'get /api/projects': row(ONCE, nowhere, async (who) => {
    const { projects } = await ok(stack.api(null, as(who)).api.projects.$get());
    const all = ['alpha', 'beta', 'alpha-flow', 'beta-flow'];
    expect(projects.map((p) => p.id).sort()).toEqual(all.filter((project) => seesProject(who, project)).sort());
    // Each project lists the environments where the person holds a role, and only those.
    for (const project of projects) {
      expect(project.access.map((a) => a.environment), project.id).toEqual(['qa', 'production'].filter((environment) => sees(who, project.id, environment)));
    }
  }),
  'get /api/deployments': row(ONCE, nowhere, async (who) => {
    // Visibility catches up a moment after a start: read until every shared deployment the person sees is there.
    const expected = DEPLOYMENT_PLACES.filter((place) => sees(who, place[0], place[1])).map((place) => shared(place).id).sort();
    const listed = await eventually(async () => {
      const { deployments: page } = await ok(stack.api(null, as(who)).api.deployments.$get({ query: { release: matrixRelease } }));
      const ids = page.map((d) => d.id).sort();
      return expected.every((id) => ids.includes(id)) ? page : undefined;
    }, `${who}'s deployments`);
    expect(listed.every((d) => sees(who, d.project, d.environment)), JSON.stringify(listed.map((d) => d.id))).toBe(true);
  }),
  'get /api/deployments/{id}': deploymentRead(async (who, at) => {
    expect((await ok(stack.api(null, as(who)).api.deployments[':id'].$get({ param: { id: at.id } }))).id).toBe(at.id);
  }, (at) => `/api/deployments/${param(at.id)}`),
  'get /api/deployments/{id}/wait': deploymentRead(async (who, at) => {
    const still = await ok(stack.api(null, as(who)).api.deployments[':id'].wait.$get({ param: { id: at.id }, query: { timeout: '0' } }), 202);
    expect(still.status).toBe('Waiting');
  }, (at) => `/api/deployments/${param(at.id)}/wait?timeout=0`),
  'get /api/deployments/{id}/events': deploymentRead(async (who, at) => {
    const response = await send(who, 'GET', `/api/deployments/${param(at.id)}/events`);
    expect(response.status).toBe(200);
    expect(await firstEvent(response)).toContain(`"id":"${at.id}"`);
  }, (at) => `/api/deployments/${param(at.id)}/events`),
  'get /api/interruptions': row(ONCE, nowhere, async (who) => {
    const mine = (list: { deployment: { id: string } }[]) => list.map((i) => i.deployment.id).filter((id) => [...deployments.values()].some((d) => d.id === id)).sort();
    const visible = DEPLOYMENT_PLACES.filter((place) => sees(who, place[0], place[1])).map((place) => shared(place).id).sort();
    const actionable = DEPLOYMENT_PLACES.filter((place) => takes(who, place[0], place[1])).map((place) => shared(place).id).sort();
    const read = async (query: { actionable?: 'true' }) => (await ok(stack.api(null, as(who)).api.interruptions.$get({ query }))).interruptions;
    const all = await eventually(async () => {
      const list = await read({});
      return mine(list).join() === visible.join() ? list : undefined;
    }, `${who}'s open interruptions: ${visible.join(', ')}`);
    expect(all.every((i) => sees(who, i.deployment.project, i.deployment.environment))).toBe(true);
    await eventually(async () => (mine(await read({ actionable: 'true' })).join() === actionable.join() ? true : undefined), `${who}'s actionable: ${actionable.join(', ')}`);
  }),
  'get /api/releases': row(ONCE, nowhere, async (who) => {
    const expected = RELEASE_PROJECTS.filter((project) => seesProject(who, project)).map((project) => sharedRelease(project).id).sort();
    const listed = await eventually(async () => {
      const { releases: page } = await ok(stack.api(null, as(who)).api.releases.$get({ query: {} }));
      return expected.every((id) => page.some((r) => r.id === id)) ? page : undefined;
    }, `${who}'s releases`);
    expect(listed.every((r) => seesProject(who, r.project)), JSON.stringify(listed.map((r) => r.id))).toBe(true);
  }),
  'get /api/releases/{id}': releaseRead(async (who, at) => {
    expect((await ok(stack.api(null, as(who)).api.releases[':id'].$get({ param: { id: at.id } }))).id).toBe(at.id);
  }, (at) => `/api/releases/${param(at.id)}`),
  'get /api/releases/{id}/wait': releaseRead(async (who, at) => {
    await ok(stack.api(null, as(who)).api.releases[':id'].wait.$get({ param: { id: at.keptnContext }, query: { timeout: '0' } }), 202);
  }, (at) => `/api/releases/${param(at.keptnContext)}/wait?timeout=0`),
  // By its Keptn context, as `interlock wait-release <context>` follows it.
  'get /api/releases/{id}/events': releaseRead(async (who, at) => {
    const response = await send(who, 'GET', `/api/releases/${param(at.keptnContext)}/events`);
    expect(response.status).toBe(200);
    expect(await firstEvent(response)).toContain(`"id":"${at.id}"`);
  }, (at) => `/api/releases/${param(at.keptnContext)}/events`),
  'get /api/v1/event': releaseRead(async (who, at) => {
    const { events } = await ok(stack.api(null, as(who)).api.v1.event.$get({ query: { keptnContext: at.keptnContext } }));
    expect(events.map((e) => e.type)).toContain('sh.keptn.event.qa.delivery.triggered');
  }, (at) => `/api/v1/event?keptnContext=${param(at.keptnContext)}`),

  // The break-glass review list is the admins' (docs/change-control.md).
  'get /api/overrides': row(ONCE, nowhere, async (who) => {
    const response = await send(who, 'GET', '/api/overrides');
    if (who === 'admin') expect(response.status).toBe(200);
    else expect((await refused(response, 403)).missing).toEqual({ role: 'admin' });
  }),
  'post /api/overrides/{overrideId}/review': row(ONCE, nowhere, async (who) => {
    const response = await send(who, 'POST', '/api/overrides/no-such-override/review', {});
    if (who === 'admin') expect((await problem(response, 404)).code).toBe('OVERRIDE_NOT_FOUND');
    else expect((await refused(response, 403)).missing).toEqual({ role: 'admin' });
  }),
  // Break-glass on Hold, which is no policy gate: unseen 404; seen, the step's own answer (nothing to override).
  'post /api/deployments/{id}/interruptions/{iid}/override': row(DEPLOYMENT_PLACES, key, async (who, place) => {
    const at = shared(place);
    const response = await send(who, 'POST', `/api/deployments/${at.id}/interruptions/${at.iid}/override`, { reason: 'The window is wrong for this hotfix.' });
    if (!sees(who, place[0], place[1])) await refused(response, 404);
    else expect((await problem(response, 409)).code).toBe('NOT_OVERRIDABLE');
  }),

  // Refused, or past the checks and then refused by the step itself: nothing changes.
  'post /api/deployments/{id}/interruptions/{iid}/proceed': decision('proceed', 'NOT_TAKEN'),
  'post /api/deployments/{id}/interruptions/{iid}/abort': decision('abort', 'NOT_TAKEN'),
  'post /api/deployments/{id}/interruptions/{iid}/retry': decision('retry', 'NOT_AN_OPTION'),
  'post /api/deployments/{id}/interruptions/{iid}/ignore': decision('ignore', 'NOT_AN_OPTION'),
  'post /api/deployments/{id}/interruptions/{iid}/fail': decision('fail', 'NOT_AN_OPTION'),

  // What starts or changes something: each success on a run of its own.
  'post /api/deployments': row(DEPLOYMENT_PLACES, key, async (who, [project, environment]) => {
    const response = await send(who, 'POST', '/api/deployments', { project, environment, release: uniqueRelease() });
    const status = rule(seesProject(who, project), deploys(who, project, environment), 201);
    if (status !== 201) {
      const body = await refused(response, status);
      if (status === 403) expect(body.missing).toEqual({ role: 'deployer', project, environment });
    } else expect(response.status).toBe(201);
  }),
  'post /api/deployments/{id}/interruptions/{iid}/take-responsibility': row(DEPLOYMENT_PLACES, key, async (who, place) => {
    const status = rule(sees(who, place[0], place[1]), takes(who, place[0], place[1]), 200);
    const at = status === 200 ? await waitingDeployment(place, uniqueRelease()) : shared(place);
    const response = await send(who, 'POST', `/api/deployments/${param(at.id)}/interruptions/${at.iid}/take-responsibility`, {});
    if (status !== 200) await refused(response, status, ['NOT_IN_TEAM']);
    else expect(await json(response, z.object({ state: z.string(), assignee: z.object({ username: z.string() }).loose().nullable() }).loose())).toMatchObject({ state: 'Assigned', assignee: { username: who } });
  }),
  'post /api/deployments/{id}/cancel': row(DEPLOYMENT_PLACES, key, async (who, place) => {
    const status = rule(sees(who, place[0], place[1]), deploys(who, place[0], place[1]), 200);
    const at = status === 200 ? await waitingDeployment(place, uniqueRelease()) : shared(place);
    const response = await send(who, 'POST', `/api/deployments/${param(at.id)}/cancel`);
    if (status !== 200) {
      const body = await refused(response, status);
      if (status === 403) expect(body.missing).toEqual({ role: 'deployer', project: place[0], environment: place[1] });
    } else expect([200, 202]).toContain(response.status);
  }),
  'post /api/releases': row(RELEASE_STARTS, releaseKey, async (who, [project, stage]) => {
    const response = await send(who, 'POST', '/api/releases', { project, release: uniqueRelease(), stage });
    const status = rule(seesProject(who, project), deploys(who, project, stage), 201);
    if (status !== 201) {
      const body = await refused(response, status);
      if (status === 403) expect(body.missing).toEqual({ role: 'deployer', project, environment: stage });
    } else expect(response.status).toBe(201);
  }),
  'post /api/v1/event': row(RELEASE_STARTS, releaseKey, async (who, [project, stage]) => {
    const response = await send(who, 'POST', '/api/v1/event', {
      type: `sh.keptn.event.${stage}.delivery.triggered`,
      data: { project, stage, labels: { release: uniqueRelease() } },
    });
    const status = rule(seesProject(who, project), deploys(who, project, stage), 202);
    if (status !== 202) await refused(response, status);
    else expect(response.status).toBe(202);
  }),
  'post /api/releases/{id}/cancel': row(RELEASE_PROJECTS, (project) => project, async (who, project) => {
    const status = rule(seesProject(who, project), deploys(who, project), 200);
    const at = status === 200 ? await waitingRelease(project, uniqueRelease()) : sharedRelease(project);
    const response = await send(who, 'POST', `/api/releases/${param(at.id)}/cancel`);
    if (status !== 200) await refused(response, status);
    else expect([200, 202]).toContain(response.status);
  }),
};

/** The OpenAPI document's routes, as `method path`. */
const OpenApiPaths = z.object({ paths: z.record(z.string(), z.record(z.string(), z.unknown())) });

describe('the permission matrix (docs/security.md)', () => {
  it('has a row for every route of the OpenAPI document, and none for a route it lacks', async () => {
    const { paths } = await json(stack.send('GET', '/openapi.json', { as: null }), OpenApiPaths);
    const documented = Object.entries(paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method} ${path}`));
    expect(Object.keys(ROUTES).sort()).toEqual(documented.sort());
  });

  for (const [route, cells] of Object.entries(ROUTES)) {
    describe(route, () => {
      it.each(cells)('$label', ({ run }) => run(), 90_000);
    });
  }
});

describe('the dashboard, for people with scoped grants', () => {
  const sessions = new Map<Person, Promise<Session>>();
  /** `who`'s browser, signed in once. */
  const session = (who: Person) => {
    if (!sessions.has(who)) sessions.set(who, signInForForms(stack.app, { token: PEOPLE[who] }));
    return sessions.get(who)!;
  };
  const open = async (who: Person, path: string) => {
    const response = await openPage(stack.app, path, (await session(who)).cookie);
    return { status: response.status, html: await response.text() };
  };
  const post = async (who: Person, path: string, fields: Record<string, string> = {}) => {
    const response = await postForm(stack.app, await session(who), path, fields);
    return { status: response.status, html: await response.text() };
  };
  const page = (place: DeploymentPlace) => `/deployments/${shared(place).id}`;

  it('lists only the projects one has a role on, and offers only them (and their environments) as filters', async () => {
    const bea = await open('bea', '/projects');
    expect(bea.status).toBe(200);
    expect(bea.html).toContain('id="beta-heading"');
    expect(bea.html).toContain('id="beta-flow-heading"');
    // Each with the environments she sees there, each a link to its deployments.
    expect(bea.html).toContain('href="/?project=beta&amp;environment=production"');
    expect(bea.html).not.toMatch(/alpha/i);

    const quinn = await open('quinn', '/projects');
    expect(quinn.html).toContain('id="alpha-heading"');
    expect(quinn.html).not.toMatch(/beta/i);
    expect(quinn.html).toContain('href="/?project=alpha&amp;environment=qa"');
    expect(quinn.html).not.toContain('environment=production');

    const list = await open('bea', '/?status=Waiting');
    expect(list.status).toBe(200);
    expect(list.html).toContain('<option value="beta"');
    expect(list.html).not.toMatch(/alpha/i);
    expect(list.html).toContain(`/deployments/${shared(['beta', 'qa']).id}`);
    // Quinn sees alpha in qa only: production is neither listed nor offered.
    const qa = await open('quinn', '/?status=Waiting');
    expect(qa.html).toContain(`/deployments/${shared(['alpha', 'qa']).id}`);
    expect(qa.html).not.toContain(shared(['alpha', 'production']).id);
    expect(qa.html).not.toContain('<option value="production"');

    const releasesPage = await open('bea', '/releases');
    expect(releasesPage.html).toContain(sharedRelease('beta-flow').id);
    expect(releasesPage.html).not.toMatch(/alpha/i);
  });

  it("shows a deployment or release page inside one's scope, and 404 (saying nothing of it) outside", async () => {
    expect((await open('bea', page(['beta', 'qa']))).status).toBe(200);
    expect((await open('quinn', page(['alpha', 'qa']))).status).toBe(200);
    for (const [who, place] of [['bea', ['alpha', 'qa']], ['quinn', ['alpha', 'production']], ['avery', ['beta', 'qa']]] as const) {
      const hidden = await open(who, page(place));
      expect(hidden.status, `${who} on ${key(place)}`).toBe(404);
      expect(hidden.html).toContain(`No deployment &quot;${shared(place).id}&quot;.`);
      // The same page as for a deployment that never existed.
      const never = await open(who, `/deployments/${place[0]}:${place[1]}:0.0.0:nothing`);
      expect(never.status).toBe(404);
    }
    expect((await open('bea', `/releases/${sharedRelease('alpha-flow').id}`)).status).toBe(404);
    expect((await open('quinn', `/releases/${sharedRelease('alpha-flow').id}`)).status).toBe(200);
  });

  it('refuses forms outside one\'s scope with 404, and without the role with 403 naming it', async () => {
    const alphaQa = shared(['alpha', 'qa']);
    expect((await post('bea', '/projects/alpha/deployments', { environment: 'qa', release: uniqueRelease() })).status).toBe(404);
    const production = await post('quinn', '/projects/alpha/deployments', { environment: 'production', release: uniqueRelease() });
    expect(production.status).toBe(403);
    expect(production.html).toContain('deployer role on alpha in production');
    expect((await post('bea', `/deployments/${alphaQa.id}/interruptions/${alphaQa.iid}/take-responsibility`)).status).toBe(404);
    expect((await post('bea', `/deployments/${alphaQa.id}/cancel`)).status).toBe(404);
    expect((await open('bea', `/deployments/${alphaQa.id}/cancel`)).status).toBe(404);
    expect((await open('vic', `/deployments/${alphaQa.id}/cancel`)).status).toBe(403);
    expect((await open('quinn', `/deployments/${shared(['alpha', 'production']).id}/cancel`)).status).toBe(404);
    expect((await post('bea', `/releases/${sharedRelease('alpha-flow').id}/cancel`)).status).toBe(404);
    expect((await post('bea', '/projects/alpha-flow/releases', { release: uniqueRelease() })).status).toBe(404);
  });

  it('opens a one-click link only on what its person may see', async () => {
    const links = createLinkSigner([codecKey(stack.codecKey)]);
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const link = (place: DeploymentPlace) => `/i/${encodeURIComponent(links.sign({ deploymentId: shared(place).id, interruptionId: shared(place).iid, userId: 'users-503', expiresAt }))}`;
    expect((await open('bea', link(['beta', 'qa']))).status).toBe(200);
    // A link to what she may not see (made before a grant was taken away, say) opens nothing.
    const hidden = await open('bea', link(['alpha', 'qa']));
    expect(hidden.status).toBe(404);
    expect(hidden.html).not.toContain('Hold');
  });
});

describe('Keptn decisions and the event stream, inside and outside a scope', () => {
  /** A release at qa's approval, and the approval's deployment and interruption. */
  const approvalOf = async (project: ReleaseProject) => {
    const { id, keptnContext } = await waitingRelease(project, uniqueRelease());
    const view = await ok(stack.api('admin').api.releases[':id'].$get({ param: { id } }));
    const deploymentId = view.stages.find((stage) => stage.name === 'qa')!.sequences[0]!.deploymentId!;
    const deployment = await ok(stack.api('admin').api.deployments[':id'].$get({ param: { id: deploymentId } }));
    return { keptnContext, triggeredid: deployment.interruptions[0]!.id };
  };
  const approve = (who: Person, at: { keptnContext: string; triggeredid: string }) =>
    send(who, 'POST', '/api/v1/event', { type: 'sh.keptn.event.approval.finished', shkeptncontext: at.keptnContext, triggeredid: at.triggeredid, data: { result: 'pass' } });

  it('approval.finished is 404 outside what one sees, 403 for a viewer there, and accepted from a deployer of that stage', async () => {
    const at = await approvalOf('alpha-flow');
    await refused(await approve('bea', at), 404);
    await refused(await approve('vic', at), 403, ['NOT_IN_TEAM']);
    expect((await approve('quinn', at)).status).toBe(202);
  });

  it("a stream shows only the run it was opened on, and is refused (404) before it starts for one outside one's scope", async () => {
    const alpha = shared(['alpha', 'qa']);
    const refusedStream = await send('bea', 'GET', `/api/deployments/${alpha.id}/events`);
    expect(refusedStream.headers.get('content-type')).toBe('application/problem+json');
    await refused(refusedStream, 404);
    const stream = await firstEvent(await send('bea', 'GET', `/api/deployments/${shared(['beta', 'qa']).id}/events`));
    expect(stream).not.toMatch(/alpha/);
  });
});

describe('the codec endpoint (Temporal Web decodes through it)', () => {
  const encoded = async () => {
    const body = { payloads: [{ metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('"secret"').toString('base64') }] };
    return json(send('admin', 'POST', '/codec/encode', body), z.object({ payloads: z.array(z.unknown()) }));
  };

  it.each(everyone)('%s: decodes only as an admin or operator, else 403 NOT_PERMITTED naming the operator role', async (who) => {
    const response = await send(who, 'POST', '/codec/decode', await encoded());
    if (who === 'admin') expect(response.status).toBe(200);
    else expect((await refused(response, 403)).missing).toEqual({ role: 'operator' });
  });

  it('decodes for an operator', async () => {
    const response = await stack.send('POST', '/codec/decode', { as: null, headers: { Authorization: `Bearer ${OPERATOR}` }, body: await encoded() });
    const { payloads } = await json(response, z.object({ payloads: z.array(z.object({ data: z.string() }).loose()) }));
    expect(Buffer.from(payloads[0]!.data, 'base64').toString()).toBe('"secret"');
  });
});

describe('a read-only token', () => {
  const rory = (method: string, path: string, body?: unknown) =>
    stack.send(method, path, { as: null, headers: { Authorization: `Bearer ${READ_ONLY}` }, ...(body === undefined ? {} : { body }) });

  it('sees everything its grants reach, and every action is 403 NOT_PERMITTED saying the token is read-only', async () => {
    const at = shared(['alpha', 'production']);
    expect((await rory('GET', `/api/deployments/${at.id}`)).status).toBe(200);
    const attempts = [
      rory('POST', '/api/deployments', { project: 'alpha', environment: 'qa', release: uniqueRelease() }),
      rory('POST', `/api/deployments/${at.id}/cancel`),
      rory('POST', `/api/deployments/${at.id}/interruptions/${at.iid}/take-responsibility`, {}),
      rory('POST', '/api/releases', { project: 'alpha-flow', release: uniqueRelease() }),
      rory('POST', `/api/releases/${sharedRelease('beta-flow').id}/cancel`),
      rory('POST', '/codec/decode', { payloads: [] }),
    ];
    for (const response of await Promise.all(attempts)) expect((await refused(response, 403)).detail).toContain('read-only');
    // Nothing waits for it to act on.
    expect((await json(rory('GET', '/api/interruptions?actionable=true'), z.object({ interruptions: z.array(z.unknown()) }).loose())).interruptions).toEqual([]);
  });
});
