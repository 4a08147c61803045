import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type ConfigError, EXAMPLE_CONFIG_PATH, loadConfig, parseConfig } from '../../config/load.js';
import { sequenceSteps } from '../../config/sequences.js';
import { type CloudEvent, questionsBeforeAnswers } from '../../core/cloud-events.js';
import { executorsInWords, mayAnswerTask } from '../../core/executors.js';
import { sequencesTriggeredBy } from '../../core/promotion.js';

const SEED_PATH = fileURLToPath(new URL('../../examples/shipyard.yaml', import.meta.url));
const SEED = readFileSync(SEED_PATH, 'utf8');

/** A config with one plain project and one lifecycle project whose shipyard is `shipyard` (indented into place). */
function withShipyard(shipyard: string, extra = ''): string {
  return `
teams: [{ id: release-managers, name: Release managers }]
projects:
  - id: plain
    name: Plain
    environments: [production]
    process: [{ name: Deploy, type: script, run: 'true' }]
  - id: helloservice
    name: Hello service
    shipyard:
${shipyard.replace(/^/gm, '      ')}
${extra}
`;
}

function problemsOf(text: string): string[] {
  try {
    parseConfig(text);
  } catch (error) {
    return (error as ConfigError).problems;
  }
  throw new Error('the config was accepted');
}

describe('a lifecycle project\'s shipyard (docs/keptn.md)', () => {
  it('takes the seed\'s shipyard byte for byte, inline or as a file: its stages are the environments', () => {
    const inline = parseConfig(withShipyard(SEED)).projects[1]!;
    expect(inline.environments).toEqual(['qa', 'production']);
    expect(inline.shipyard!.spec.stages[1]!.sequences[0]).toMatchObject({ name: 'delivery', triggeredOn: [{ event: 'qa.delivery.finished' }] });
    const example = loadConfig(EXAMPLE_CONFIG_PATH).projects.find((project) => project.id === 'podtatohead')!;
    expect(example.shipyard).toEqual(inline.shipyard);
  });

  it('names a triggeredOn that names no sequence by its path', () => {
    expect(problemsOf(withShipyard(SEED.replace('qa.delivery.finished', 'qa.deliveri.finished')))).toEqual([
      'projects[1].shipyard.spec.stages[1].sequences[0].triggeredOn[0].event: no sequence "qa.deliveri" (this shipyard has qa.delivery, production.delivery)',
    ]);
  });

  it('names every other problem by its path: the version, a stage name, an empty sequence, approval properties, a duplicate task', () => {
    const broken = SEED
      .replace('spec.keptn.sh/0.2.2', 'spec.keptn.sh/0.1.0')
      .replace('name: "production"', 'name: "Production"')
      .replace('properties: { pass: "manual", warning: "manual" }', 'properties: { pass: "manually", warning: "manual", escalate: true }')
      .replace('            - name: "je-test"\n', '            - name: "je-deployment"\n');
    expect(problemsOf(withShipyard(broken))).toEqual(expect.arrayContaining([
      'projects[1].shipyard.apiVersion: Interlock reads shipyards of spec.keptn.sh/0.2.x',
      expect.stringMatching(/^projects\[1\]\.shipyard\.spec\.stages\[1\]\.name: /),
      expect.stringMatching(/^projects\[1\]\.shipyard\.spec\.stages\[1\]\.sequences\[0\]\.tasks\[0\]\.properties\.pass: /),
      expect.stringMatching(/^projects\[1\]\.shipyard\.spec\.stages\[1\]\.sequences\[0\]\.tasks\[0\]\.properties: .*escalate/),
      'projects[1].shipyard.spec.stages[0].sequences[0].tasks[1].name: "je-deployment" is already a task of this sequence; a sequence runs each task once',
    ]));
  });

  it('refuses a project with both a process and a shipyard, a task named after a built-in, an evaluation without an SLO, an unknown team', () => {
    const text = withShipyard(SEED.replace('            - name: "je-test"', '            - name: "evaluation"'), `    process: [{ name: Deploy, type: script, run: 'true' }]
    tasks:
      approval: { type: script, run: 'true' }
      je-deployment: { type: manual, responsibleTeams: [dba] }`);
    expect(problemsOf(text)).toEqual(expect.arrayContaining([
      'projects[1]: give a process or a shipyard, not both',
      'projects[1].tasks.approval: "approval" is a task Interlock has built in; its options go in the shipyard task\'s properties',
      'projects[1].tasks.je-deployment.responsibleTeams[0]: unknown team "dba"',
      "projects[1].shipyard.spec.stages[0].sequences[0].tasks[1]: an evaluation needs the project's slo: (and sli:)",
    ]));
  });

  it('says once that a shipyardFile cannot be read', () => {
    const text = `
projects:
  - { id: helloservice, name: Hello, shipyardFile: no-such-shipyard.yaml }
`;
    const problems = problemsOf(text);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^projects\[0\]\.shipyardFile: cannot read .*no-such-shipyard\.yaml/);
  });

  it('turns a sequence\'s tasks into steps: the built-ins with their properties, tasks: entries by name, the rest external', () => {
    const config = parseConfig(withShipyard(SEED, `    tasks:
      je-test: { type: script, run: 'echo testing' }`));
    const project = config.projects[1]!;
    const [qa, production] = project.shipyard!.spec.stages;
    const qaSteps = sequenceSteps(project, qa!.sequences[0]!);
    expect(qaSteps.ok && qaSteps.steps.map((step) => [step.name, step.type])).toEqual([['je-deployment', 'external'], ['je-test', 'script']]);
    const productionSteps = sequenceSteps(project, production!.sequences[0]!);
    expect(productionSteps.ok && productionSteps.steps[0]).toMatchObject({ name: 'approval', type: 'approval', pass: 'manual', warning: 'manual', onTimeout: 'abort' });
    expect(productionSteps.ok && productionSteps.steps[1]).toMatchObject({ type: 'external', timeout: 24 * 3_600_000 });
  });
});

describe('who answers an external task', () => {
  const users = `users:
  - { id: u1, username: je-bot, displayName: Job executor, tokenSha256: ${'a'.repeat(64)} }
  - { id: u2, username: ci, displayName: CI, roles: [deployer], tokenSha256: ${'b'.repeat(64)} }
`;

  it('takes executors and a timeout from tasks: (type: external); a task with no entry is answered by admins only', () => {
    const config = parseConfig(`${users}${withShipyard(SEED, `    tasks:
      je-test: { type: external, executors: [je-bot, team:release-managers], timeout: 2h }`)}`);
    const project = config.projects[1]!;
    const [qa, production] = project.shipyard!.spec.stages;
    const qaSteps = sequenceSteps(project, qa!.sequences[0]!);
    expect(qaSteps.ok && qaSteps.steps).toEqual([
      { name: 'je-deployment', type: 'external', timeout: 24 * 3_600_000, executors: [] },
      { name: 'je-test', type: 'external', timeout: 2 * 3_600_000, executors: ['je-bot', 'team:release-managers'] },
    ]);
    const productionSteps = sequenceSteps(project, production!.sequences[0]!);
    expect(productionSteps.ok && productionSteps.steps[1]).toMatchObject({ name: 'je-deployment', type: 'external', executors: [] });
  });

  it('names an executor nobody knows by its path: an unknown user, an unknown team, one that is neither', () => {
    expect(problemsOf(`${users}${withShipyard(SEED, `    tasks:
      je-test: { type: external, executors: [je-bot, jdoe, team:qa-bots, 'team:', Je-Bot], timeout: soon }`)}`)).toEqual(expect.arrayContaining([
      'projects[1].tasks.je-test.executors[1]: unknown user "jdoe"',
      'projects[1].tasks.je-test.executors[2]: unknown team "qa-bots"',
      expect.stringMatching(/^projects\[1\]\.tasks\.je-test\.executors\[3\]: a username, or team:<team id>/),
      expect.stringMatching(/^projects\[1\]\.tasks\.je-test\.executors\[4\]: a username, or team:<team id>/),
      expect.stringMatching(/^projects\[1\]\.tasks\.je-test\.timeout: /),
    ]));
  });

  it('lets admins, named users and members of named teams answer; nobody else, whatever they claim to be', () => {
    const person = (username: string, teams: string[] = [], roles: ('viewer' | 'deployer' | 'admin')[] = ['deployer']) => ({ username, teams, roles });
    const executors = ['je-bot', 'team:qa-bots'];
    expect(mayAnswerTask(executors, person('je-bot', [], ['viewer']))).toBe(true);
    expect(mayAnswerTask(executors, person('tester', ['qa-bots']))).toBe(true);
    expect(mayAnswerTask(executors, person('root', [], ['admin']))).toBe(true);
    expect(mayAnswerTask(executors, person('ci'))).toBe(false);
    // A team is not a username, nor a username a team.
    expect(mayAnswerTask(executors, person('team:qa-bots'))).toBe(false);
    expect(mayAnswerTask(executors, person('ci', ['je-bot']))).toBe(false);
    // No executors (no tasks: entry, or a deployment started before executors existed): admins only.
    for (const none of [[], undefined]) {
      expect(mayAnswerTask(none, person('ci'))).toBe(false);
      expect(mayAnswerTask(none, person('root', [], ['admin']))).toBe(true);
    }
    expect(executorsInWords(executors)).toBe('je-bot, team:qa-bots (and admins)');
    expect(executorsInWords([])).toBe('admins only');
  });
});

describe('promotion (Keptn\'s GetTaskSequencesByTrigger)', () => {
  const shipyard = parseConfig(withShipyard(`
apiVersion: spec.keptn.sh/0.2.3
kind: Shipyard
spec:
  stages:
    - name: dev
      sequences: [{ name: delivery, tasks: [{ name: deployment }] }]
    - name: hardening
      sequences:
        - { name: delivery, triggeredOn: [{ event: dev.delivery.finished }], tasks: [{ name: deployment }] }
        - { name: rollback, triggeredOn: [{ event: dev.delivery.finished, selector: { match: { result: fail } } }], tasks: [{ name: rollback }] }
    - name: production
      sequences:
        - { name: delivery, triggeredOn: [{ event: hardening.delivery.finished, selector: { match: { result: pass } } }], tasks: [{ name: deployment }] }
        - { name: careful, triggeredOn: [{ event: hardening.delivery.finished, selector: { match: { deployment.result: warning } } }], tasks: [{ name: deployment }] }
`)).projects[1]!.shipyard!;

  it('promotes on pass and warning without a selector, and never on fail', () => {
    expect(sequencesTriggeredBy(shipyard, { stage: 'dev', sequence: 'delivery', result: 'pass' })).toEqual([{ stage: 'hardening', sequence: 'delivery' }]);
    expect(sequencesTriggeredBy(shipyard, { stage: 'dev', sequence: 'delivery', result: 'warning' })).toEqual([{ stage: 'hardening', sequence: 'delivery' }]);
  });

  it('lets a selector narrow it to a result, or to the last task\'s result', () => {
    expect(sequencesTriggeredBy(shipyard, { stage: 'hardening', sequence: 'delivery', result: 'pass', lastTask: 'deployment' })).toEqual([{ stage: 'production', sequence: 'delivery' }]);
    expect(sequencesTriggeredBy(shipyard, { stage: 'hardening', sequence: 'delivery', result: 'warning', lastTask: 'deployment' })).toEqual([{ stage: 'production', sequence: 'careful' }]);
  });

  it('matches a selector on fail as Keptn does; the release itself never promotes a fail (docs/keptn.md)', () => {
    expect(sequencesTriggeredBy(shipyard, { stage: 'dev', sequence: 'delivery', result: 'fail' })).toEqual([{ stage: 'hardening', sequence: 'rollback' }]);
  });
});

describe('a release\'s events, newest first', () => {
  const event = (type: string, id: string, triggeredid?: string): CloudEvent =>
    ({ specversion: '1.0', id, source: 'interlock', type, time: '2026-12-06T10:00:00.000Z', datacontenttype: 'application/json', ...(triggeredid ? { triggeredid } : {}), data: { project: 'p' } });
  const delivery = event('sh.keptn.event.qa.delivery.triggered', 'd1');
  const asked = event('sh.keptn.event.approval.triggered', 'a1');
  const started = event('sh.keptn.event.approval.started', 's1', 'a1');
  const finished = event('sh.keptn.event.approval.finished', 'f1', 'a1');

  it('lists a task\'s .triggered as older than its answers, whatever order the two signals arrived in', () => {
    // Arrived: delivery, started, asked (the release keeps them newest first).
    expect(questionsBeforeAnswers([asked, started, delivery]).map((e) => e.id)).toEqual(['s1', 'a1', 'd1']);
    expect(questionsBeforeAnswers([finished, asked, started, delivery]).map((e) => e.id)).toEqual(['f1', 's1', 'a1', 'd1']);
  });

  it('keeps the order they arrived in otherwise, and an answer to no event of the list where it is', () => {
    expect(questionsBeforeAnswers([finished, started, asked, delivery])).toEqual([finished, started, asked, delivery]);
    const orphan = event('sh.keptn.event.je-test.finished', 'o1', 'elsewhere');
    expect(questionsBeforeAnswers([orphan, delivery])).toEqual([orphan, delivery]);
  });
});
