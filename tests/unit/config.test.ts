import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDuration } from '../../core/durations.js';
import { ConfigError, EXAMPLE_CONFIG_PATH, loadConfig, parseConfig, resolveConfigPath } from '../../config/load.js';
import { problemsOf } from '../support/config-problems.js';

const TOKEN_HASH = '5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8';
const OTHER_HASH = 'a'.repeat(64);

/** docs/configuration.md's example, word for word but for a whole token hash. */
const DOCUMENTED_EXAMPLE = `teams:
  - id: release-managers
    name: Release managers
users:
  - id: users-237
    username: jjones
    displayName: Jamie Jones
    email: jamie.jones@example.com
    teams: [release-managers]
    roles: [deployer]            # viewer (everyone signed in) | deployer | admin
    tokenSha256: ${TOKEN_HASH}           # sha256 hex of the user's bearer token; never the token itself
projects:
  - id: hello-service
    name: Hello service
    environments: [qa, production]
    variables: { Greeting: hello }
    process:
      - name: Deploy
        type: script
        run: ./deploy.sh "#{Project}" "#{Release}" "#{Environment}"
        timeout: 10m
      - name: Ensure traders are aware of the deployment
        type: manual
        environments: [production]        # any step: run only in these environments
        instructions: |
          Tell the trading desk that #{Release} goes live.
        responsibleTeams: [release-managers]
        timeout: 72h                      # optional
        onTimeout: abort                  # abort (default) | proceed
      - name: Check homepage
        type: http-check
        url: https://#{Environment}.example.com/
        expectStatus: 200
      - name: Record sign-off
        type: script
        run: echo "#{Action[Ensure traders are aware of the deployment].Output.Manual.Notes}"
`;

/** A minimal valid config with one project, whose process is the given YAML (indented by 6). */
const withProcess = (process: string, environments = '[qa, production]') => `teams:
  - id: release-managers
    name: Release managers
projects:
  - id: p
    name: P
    environments: ${environments}
    process:
${process}`;

describe('parseConfig: the docs/configuration.md example', () => {
  const config = parseConfig(DOCUMENTED_EXAMPLE);

  it('parses with teams, users and the project as written', () => {
    expect(config.teams).toEqual([{ id: 'release-managers', name: 'Release managers' }]);
    expect(config.users).toEqual([
      {
        id: 'users-237',
        username: 'jjones',
        displayName: 'Jamie Jones',
        email: 'jamie.jones@example.com',
        teams: ['release-managers'],
        roles: ['deployer'],
        tokenSha256: TOKEN_HASH,
      },
    ]);
    expect(config.projects).toHaveLength(1);
    expect(config.projects[0]).toMatchObject({
      id: 'hello-service',
      name: 'Hello service',
      environments: ['qa', 'production'],
      variables: { Greeting: 'hello' },
    });
  });

  it('keeps #{…} in quoted values, URLs and block scalars (they are not comments)', () => {
    const [deploy, manual, check, signOff] = config.projects[0]!.process!;
    expect(deploy).toMatchObject({ run: './deploy.sh "#{Project}" "#{Release}" "#{Environment}"' });
    expect(manual).toMatchObject({ instructions: 'Tell the trading desk that #{Release} goes live.\n' });
    expect(check).toMatchObject({ url: 'https://#{Environment}.example.com/' });
    expect(signOff).toMatchObject({ run: 'echo "#{Action[Ensure traders are aware of the deployment].Output.Manual.Notes}"' });
  });

  it('turns durations into milliseconds and fills the defaults', () => {
    expect(config.projects[0]!.process).toEqual([
      { name: 'Deploy', type: 'script', run: './deploy.sh "#{Project}" "#{Release}" "#{Environment}"', timeout: 600_000 },
      {
        name: 'Ensure traders are aware of the deployment',
        type: 'manual',
        environments: ['production'],
        instructions: 'Tell the trading desk that #{Release} goes live.\n',
        responsibleTeams: ['release-managers'],
        timeout: 72 * 3_600_000,
        onTimeout: 'abort',
      },
      { name: 'Check homepage', type: 'http-check', url: 'https://#{Environment}.example.com/', expectStatus: 200, timeout: 10_000, retries: 3 },
      {
        name: 'Record sign-off',
        type: 'script',
        run: 'echo "#{Action[Ensure traders are aware of the deployment].Output.Manual.Notes}"',
        timeout: 30 * 60_000,
      },
    ]);
  });
});

describe('parseConfig: defaults', () => {
  it('an empty file is an empty config', () => {
    expect(parseConfig('')).toEqual({ teams: [], users: [], projects: [], policies: [] });
  });

  it('fills step, user and project defaults', () => {
    const config = parseConfig(`users:
  - id: u1
    username: ci
    displayName: CI
    tokenSha256: ${TOKEN_HASH}
projects:
  - id: p
    name: P
    environments: [qa]
    process:
      - { name: Check, type: http-check, url: 'https://example.com/' }
      - { name: Wait, type: manual }
      - { name: Go, type: script, run: ./go.sh, timeout: 1h30m }
`);
    expect(config.users[0]).toMatchObject({ teams: [], roles: [] });
    expect(config.projects[0]!.variables).toEqual({});
    expect(config.projects[0]!.process).toEqual([
      { name: 'Check', type: 'http-check', url: 'https://example.com/', expectStatus: 200, timeout: 10_000, retries: 3 },
      { name: 'Wait', type: 'manual', instructions: '', responsibleTeams: [], onTimeout: 'abort' },
      { name: 'Go', type: 'script', run: './go.sh', timeout: 90 * 60_000 },
    ]);
  });

  it('accepts onTimeout: proceed', () => {
    const config = parseConfig(withProcess('      - { name: Wait, type: manual, timeout: 1d, onTimeout: proceed }\n'));
    expect(config.projects[0]!.process![0]).toMatchObject({ timeout: 86_400_000, onTimeout: 'proceed' });
  });
});

describe('parseConfig: refusals, by path', () => {
  it('names an unknown team in a manual step exactly as docs/configuration.md does', () => {
    const text = DOCUMENTED_EXAMPLE.replace('responsibleTeams: [release-managers]', 'responsibleTeams: [dba]');
    expect(problemsOf(text)).toEqual(['projects[0].process[1].responsibleTeams[0]: unknown team "dba"']);
  });

  it('names an unknown team of a user', () => {
    const text = DOCUMENTED_EXAMPLE.replace('teams: [release-managers]\n    roles', 'teams: [release-managers, dba]\n    roles');
    expect(problemsOf(text)).toEqual(['users[0].teams[1]: unknown team "dba"']);
  });

  it('lists every problem at once', () => {
    const text = DOCUMENTED_EXAMPLE.replace('responsibleTeams: [release-managers]', 'responsibleTeams: [dba, ops]')
      .replace('timeout: 10m', 'timeout: ten minutes')
      .replace('environments: [production]', 'environments: [staging]')
      .replace('expectStatus: 200', 'expectStatus: 999')
      .replace('roles: [deployer]', 'roles: [superuser]');
    const problems = problemsOf(text);
    expect(problems).toHaveLength(6);
    expect(problems).toEqual(
      expect.arrayContaining([
        'projects[0].process[1].responsibleTeams[0]: unknown team "dba"',
        'projects[0].process[1].responsibleTeams[1]: unknown team "ops"',
        "projects[0].process[1].environments[0]: environment \"staging\" is not one of the project's (qa, production)",
        expect.stringMatching(/^projects\[0\]\.process\[0\]\.timeout: /),
        expect.stringMatching(/^projects\[0\]\.process\[2\]\.expectStatus: /),
        expect.stringMatching(/^users\[0\]\.roles\[0\]: /),
      ]),
    );
  });

  it.each([
    ['teams: release-managers\nusers: 3\nprojects: {}\n', ['teams', 'users', 'projects']],
    ['users: [null, 3]\n', ['users[0]', 'users[1]']],
    ['teams: [{ id: 5 }]\nprojects: [{ id: p, name: P, environments: qa, process: x }]\n', ['teams[0].id', 'teams[0].name', 'projects[0].environments', 'projects[0].process']],
    [withProcess('      - { name: M, type: manual, responsibleTeams: dba, environments: prod }\n'), ['projects[0].process[0].environments', 'projects[0].process[0].responsibleTeams']],
    [withProcess('      - null\n      - { type: manual, responsibleTeams: [dba] }\n'), ['projects[0].process[0]', 'projects[0].process[1].name', 'projects[0].process[1].responsibleTeams[0]']],
  ])('reports a malformed file by path instead of crashing (%#)', (text, paths) => {
    expect(problemsOf(text).map((p) => p.split(': ')[0]).sort()).toEqual([...paths].sort());
  });

  it('refuses a step environment that is not one of the project\'s', () => {
    const text = withProcess('      - { name: Deploy, type: script, run: x, environments: [qa, prod] }\n');
    expect(problemsOf(text)).toEqual([
      "projects[0].process[0].environments[1]: environment \"prod\" is not one of the project's (qa, production)",
    ]);
  });

  it('refuses duplicate step names within a project', () => {
    const text = withProcess('      - { name: Deploy, type: script, run: x }\n      - { name: Deploy, type: script, run: y }\n');
    expect(problemsOf(text)).toEqual(['projects[0].process[1].name: duplicate step name "Deploy"']);
  });

  it('allows the same step name in two projects', () => {
    const project = (id: string) => `  - { id: ${id}, name: ${id}, environments: [qa], process: [{ name: Deploy, type: script, run: x }] }\n`;
    expect(parseConfig(`projects:\n${project('a')}${project('b')}`).projects).toHaveLength(2);
  });

  it('refuses duplicate usernames, user ids, token hashes, team ids, project ids and environments', () => {
    const user = (id: string, username: string, hash: string) =>
      `  - { id: ${id}, username: ${username}, displayName: X, tokenSha256: ${hash} }\n`;
    const text = `teams:
  - { id: ops, name: Ops }
  - { id: ops, name: Ops again }
users:
${user('u1', 'jjones', TOKEN_HASH)}${user('u2', 'jjones', OTHER_HASH)}${user('u2', 'mlee', TOKEN_HASH)}projects:
  - { id: p, name: P, environments: [qa, qa], process: [{ name: A, type: script, run: x }] }
  - { id: p, name: P2, environments: [qa], process: [{ name: A, type: script, run: x }] }
`;
    expect(problemsOf(text).sort()).toEqual(
      [
        'teams[1].id: duplicate team id "ops"',
        'users[1].username: duplicate username "jjones"',
        'users[2].id: duplicate user id "u2"',
        `users[2].tokenSha256: duplicate token hash "${TOKEN_HASH}"`,
        'projects[1].id: duplicate project id "p"',
        'projects[0].environments[1]: duplicate environment "qa"',
      ].sort(),
    );
  });

  it('rejects unknown fields anywhere (strict objects), naming the field', () => {
    const text = DOCUMENTED_EXAMPLE.replace('    name: Release managers', '    name: Release managers\n    colour: red')
      .replace('        expectStatus: 200', '        expectStatus: 200\n        expectBody: ok')
      .concat('enviroments: [qa]\n');
    expect(problemsOf(text).sort()).toEqual(
      [
        '(top level): Unrecognized key: "enviroments"',
        'teams[0]: Unrecognized key: "colour"',
        'projects[0].process[2]: Unrecognized key: "expectBody"',
      ].sort(),
    );
  });

  it('refuses a step field that belongs to another type of step', () => {
    expect(problemsOf(withProcess('      - { name: X, type: script, run: x, responsibleTeams: [release-managers] }\n'))).toEqual([
      'projects[0].process[0]: Unrecognized key: "responsibleTeams"',
    ]);
  });

  it('refuses an unknown step type, naming the ones there are', () => {
    const [problem] = problemsOf(withProcess('      - { name: X, type: deploy-to-mars }\n'));
    expect(problem).toMatch(/^projects\[0\]\.process\[0\]\.type: /);
    expect(problem).toContain('manual');
  });

  it.each(['10', 'ten minutes', '10 m', '1.5h', '-1h', '0s', '10M', 'h', ''])('refuses the duration %j', (duration) => {
    const [problem, ...others] = problemsOf(withProcess(`      - { name: X, type: script, run: x, timeout: '${duration}' }\n`));
    expect(others).toEqual([]);
    expect(problem).toBe('projects[0].process[0].timeout: a duration like 30s, 10m, 72h or 1h30m');
  });

  it('refuses a duration given as a bare number', () => {
    expect(problemsOf(withProcess('      - { name: X, type: manual, timeout: 600 }\n'))).toEqual([
      expect.stringMatching(/^projects\[0\]\.process\[0\]\.timeout: /),
    ]);
  });

  it('refuses a token that is not a sha256 hex, saying how to make one', () => {
    const [problem] = problemsOf(DOCUMENTED_EXAMPLE.replace(TOKEN_HASH, 'my-secret-token'));
    expect(problem).toMatch(/^users\[0\]\.tokenSha256: /);
    expect(problem).toContain('npm run token');
  });

  it('refuses a project without steps or environments', () => {
    const problems = problemsOf('projects:\n  - { id: p, name: P, environments: [], process: [] }\n');
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['projects[0].environments', 'projects[0].process']);
  });

  it('refuses a file that is not a mapping', () => {
    expect(problemsOf('- a\n- b\n')).toEqual([expect.stringMatching(/^\(top level\): /)]);
  });
});

describe('parseConfig: YAML syntax', () => {
  it('names the line of a syntax error', () => {
    const problems = problemsOf('teams:\n  - id: a\n   name: b\n');
    expect(problems).toEqual([expect.stringMatching(/^line 3, column \d+: /)]);
  });

  it('names the line of a duplicate key', () => {
    expect(problemsOf('teams: []\nusers: []\nteams: []\n')).toEqual([expect.stringMatching(/^line 3, column \d+: .*unique/)]);
  });

  it('names the line of a tab used as indentation', () => {
    expect(problemsOf('teams:\n\t- id: a\n')).toEqual([expect.stringMatching(/^line 2, column \d+: .*[Tt]ab/)]);
  });
});

describe('parseConfig: a variable that YAML would swallow as a comment', () => {
  const step = (run: string) => withProcess(`      - name: Pause\n        type: script\n        run: ${run}\n`);

  it('refuses an unquoted `run: sleep #{Pause}`, naming its line and saying to quote it', () => {
    const problems = problemsOf(step('sleep #{Pause}'));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^line 11: /);
    expect(problems[0]).toContain('#{Pause}');
    expect(problems[0]).toContain('quote');
  });

  it('names each swallowed line, even when the rest of the file is invalid too', () => {
    const text = withProcess('      - name: A\n        type: script\n        run: sleep #{Pause}\n        timeout: 5m #{Later}\n');
    expect(problemsOf(text).map((p) => p.split(':')[0])).toEqual(['line 11', 'line 12']);
  });

  it.each([`'sleep #{Pause}'`, `"sleep #{Pause}"`, `sleep#{Pause}`])('accepts run: %s and keeps the variable', (run) => {
    const config = parseConfig(step(run));
    expect(config.projects[0]!.process![0]).toMatchObject({ run: expect.stringContaining('#{Pause}') });
  });

  it('accepts ordinary comments, including ones that mention a variable later on', () => {
    const config = parseConfig(step("'sleep #{Pause}'   # waits for #{Pause} seconds"));
    expect(config.projects[0]!.process![0]).toMatchObject({ run: 'sleep #{Pause}' });
  });
});

describe('parseDuration', () => {
  it.each([
    ['10m', 600_000],
    ['72h', 259_200_000],
    ['1h30m', 5_400_000],
    ['90s', 90_000],
    ['2d', 172_800_000],
    ['500ms', 500],
    ['1m30s', 90_000],
    ['1d2h3m4s5ms', 86_400_000 + 7_200_000 + 180_000 + 4_000 + 5],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '10', 'm', '10 m', ' 10m', '1.5h', '-1h', '0s', '0h0m', '10M', '10min', '1w', 'PT10M'])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('loadConfig and ConfigError', () => {
  const dir = mkdtempSync(join(tmpdir(), 'interlock-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a valid file', () => {
    const file = join(dir, 'valid.yaml');
    writeFileSync(file, DOCUMENTED_EXAMPLE);
    expect(loadConfig(file)).toEqual(parseConfig(DOCUMENTED_EXAMPLE));
  });

  it('throws a ConfigError naming a missing file', () => {
    const file = join(dir, 'missing.yaml');
    expect(() => loadConfig(file)).toThrow(ConfigError);
    try {
      loadConfig(file);
    } catch (error) {
      expect(error).toMatchObject({ name: 'ConfigError', file, problems: [expect.stringContaining('cannot read the file')] });
      expect((error as Error).message).toContain(file);
    }
  });

  it('names the file and lists every problem in its message', () => {
    const file = join(dir, 'invalid.yaml');
    writeFileSync(file, DOCUMENTED_EXAMPLE.replace('responsibleTeams: [release-managers]', 'responsibleTeams: [dba]').replace('timeout: 10m', 'timeout: soon'));
    let caught: unknown;
    try {
      loadConfig(file);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const { message, problems, file: named } = caught as ConfigError;
    expect(named).toBe(file);
    expect(problems).toHaveLength(2);
    expect(message).toContain(`${file} is not a valid Interlock config`);
    for (const problem of problems) expect(message).toContain(`  - ${problem}`);
    expect(message).toContain('projects[0].process[1].responsibleTeams[0]: unknown team "dba"');
  });

  it('INTERLOCK_CONFIG chooses the file, resolved to an absolute path', () => {
    expect(resolveConfigPath({ INTERLOCK_CONFIG: 'conf/interlock.yaml' })).toBe(resolve('conf/interlock.yaml'));
  });

  it('the shipped example config loads without error', () => {
    const config = loadConfig(EXAMPLE_CONFIG_PATH);
    expect(config.projects.length).toBeGreaterThan(0);
  });
});

describe('where the API listens (docs/http-api.md)', () => {
  it('is loopback with the shipped example config, and refuses another address there', async () => {
    const { listenHost } = await import('../../server.js');
    const { EXAMPLE_CONFIG_PATH } = await import('../../config/load.js');
    expect(listenHost(undefined, EXAMPLE_CONFIG_PATH)).toBe('127.0.0.1');
    expect(listenHost('127.0.0.1', EXAMPLE_CONFIG_PATH)).toBe('127.0.0.1');
    expect(listenHost('::1', EXAMPLE_CONFIG_PATH)).toBe('::1');
    expect(() => listenHost('0.0.0.0', EXAMPLE_CONFIG_PATH)).toThrow(/public demo tokens/);
    expect(listenHost(undefined, '/etc/interlock/interlock.yaml')).toBe('0.0.0.0');
    expect(listenHost('10.0.0.5', '/etc/interlock/interlock.yaml')).toBe('10.0.0.5');
  });
});

describe('parseConfig: check steps', () => {
  const check = (fields: string) => withProcess(`      - { name: Healthy, type: check, ${fields} }\n`);

  it('reads an HTTP and an Alertmanager check, with their defaults', () => {
    const config = parseConfig(withProcess(`      - { name: Healthy, type: check, http: { url: "https://status.example.com/#{Release}", pass: "@.status == 'ok'" } }
      - { name: Quiet, type: check, alertmanager: { url: "http://alertmanager:9093", matchers: { service: "#{Project}" } }, every: 1m, timeout: 1h }
`));
    expect(config.projects[0]?.process?.slice(0, 2)).toEqual([
      { name: 'Healthy', type: 'check', http: { url: 'https://status.example.com/#{Release}', pass: "@.status == 'ok'" }, every: 30_000, timeout: 600_000, requestTimeout: 10_000 },
      { name: 'Quiet', type: 'check', alertmanager: { url: 'http://alertmanager:9093', matchers: { service: '#{Project}' } }, every: 60_000, timeout: 3_600_000, requestTimeout: 10_000 },
    ]);
  });

  it('refuses what could not be checked, by path', () => {
    expect(problemsOf(check(`http: { url: x, pass: "@.status = 'ok'" }`))).toEqual([
      "projects[0].process[0].http.pass: a JSONPath filter expression (RFC 9535) on the answer as @, like @.status == 'ok'",
    ]);
    expect(problemsOf(check('every: 1s'))).toEqual(['projects[0].process[0].type: give http or alertmanager (one of them)']);
    expect(problemsOf(check(`http: { url: x, pass: "@.ok" }, alertmanager: { url: "http://a", matchers: { s: x } }`))).toEqual([
      'projects[0].process[0].type: give http or alertmanager (one of them)',
    ]);
    expect(problemsOf(check('alertmanager: { url: "ftp://a", matchers: { "bad-label": x } }'))).toEqual([
      'projects[0].process[0].alertmanager.url: Invalid URL',
      'projects[0].process[0].alertmanager.matchers.bad-label: a label name: letters, digits and _, not starting with a digit',
    ]);
    expect(problemsOf(check('http: { url: x, pass: "@.ok" }, every: 1s, timeout: 2h'))).toEqual([
      'projects[0].process[0].every: timeout / every may be at most 1000: ask less often, or for less long',
    ]);
  });
});
