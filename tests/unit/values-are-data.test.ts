import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { scriptEnvironment } from '../../activities/script.js';
import { parseConfig } from '../../config/load.js';
import { resolveTriggerVariables } from '../../config/variables.js';
import { toShell } from '../../workflows/shell.js';
import { substitute, substituteUrl } from '../../workflows/variables.js';

// SPEC §4.1: whatever a value holds, it stays data. These run the produced scripts in real bash.

/** What bash prints for the script `toShell` makes of `run`, in the clean environment a step gets. */
function bash(run: string, variables: Record<string, string>): string {
  const shell = toShell(run, variables);
  if (!shell.ok) throw new Error(`unknown ${shell.unknown.join(', ')}`);
  return execFileSync('bash', ['-c', shell.script], { env: scriptEnvironment(shell.env), encoding: 'utf8' });
}

const nasty = [
  '$(touch /tmp/interlock-pwned)',
  '`touch /tmp/interlock-pwned`',
  '"; touch /tmp/interlock-pwned; echo "',
  "'; touch /tmp/interlock-pwned; echo '",
  'a b  c\nd\te *',
  '${HOME} $PATH \\ \\n',
  '#{Release}',
];

describe('toShell: a value in a script is data wherever it stands', () => {
  it.each(nasty)('%j arrives byte for byte outside quotes, in double quotes and in single quotes', (value) => {
    expect(bash(`printf '%s|' #{X} "#{X}" '#{X}' "a#{X}b" 'a#{X}b'`, { X: value })).toBe(`${[value, value, value, `a${value}b`, `a${value}b`].join('|')}|`);
  });

  it('keeps ##{Name} literal and names unknown variables', () => {
    expect(bash('echo "##{X}"', { X: 'v' })).toBe('#{X}\n');
    expect(toShell('echo #{Missing} #{constructor} #{__proto__}', {})).toEqual({ ok: false, unknown: ['Missing', 'constructor', '__proto__'] });
  });

  it('passes each value once, by an environment variable, not in the text', () => {
    const shell = toShell('echo "#{A}" #{A} #{B}', { A: 'secret-ish', B: 'b' });
    expect(shell).toEqual({ ok: true, script: 'echo "${INTERLOCK_VAR_0}" "${INTERLOCK_VAR_0}" "${INTERLOCK_VAR_1}"', env: { INTERLOCK_VAR_0: 'secret-ish', INTERLOCK_VAR_1: 'b' } });
  });

  it('a backslash-escaped quote does not confuse where a reference stands', () => {
    expect(bash(`echo "say \\"#{X}\\"" 'it''s' #{X}`, { X: '$(id)' })).toBe('say "$(id)" its $(id)\n');
  });
});

describe('a script\'s environment', () => {
  it('holds PATH, HOME, LANG, TMPDIR and the deployment\'s values, nothing else of the worker\'s', () => {
    const env = scriptEnvironment({ INTERLOCK_VAR_0: 'x' }, { PATH: '/bin', HOME: '/root', TEMPORAL_API_KEY: 'k', INTERLOCK_SESSION_SECRET: 's', AWS_SECRET_ACCESS_KEY: 'a' });
    expect(env).toEqual({ PATH: '/bin', HOME: '/root', LANG: 'C.UTF-8', TMPDIR: '/tmp', INTERLOCK_VAR_0: 'x' });
  });
});

describe('substituteUrl: a value from outside sets a path or a query value, never where the request goes', () => {
  const variables = { Environment: 'qa', 'Interlock.Url': 'http://localhost:3000', Release: '1.4.2', Path: 'a/b?c=d#e', Host: 'evil.com/?' };
  it('encodes outside values where they land and leaves config values as written', () => {
    expect(substituteUrl('#{Interlock.Url}/healthz/#{Path}?r=#{Release}', variables, ['Path'])).toEqual({
      ok: true,
      text: 'http://localhost:3000/healthz/a%2Fb%3Fc%3Dd%23e?r=1.4.2',
    });
    expect(substituteUrl('https://#{Environment}.example.com/', variables, ['Path'])).toEqual({ ok: true, text: 'https://qa.example.com/' });
  });

  it.each([
    'https://#{Host}.example.com/',
    'https://example.com:#{Host}/',
    '#{Host}/health',
    'https://#{Release}.example.com/',
  ])('refuses an outside value in the scheme, host or port: %s', (template) => {
    const result = substituteUrl(template, variables, ['Host']);
    expect(result.ok).toBe(false);
    expect('refused' in result && result.refused).toMatch(/never the scheme, host or port/);
  });

  it('names unknown variables, prototype names included', () => {
    expect(substituteUrl('https://x/#{constructor}', variables, [])).toEqual({ ok: false, unknown: ['constructor'] });
    expect(substitute('#{toString}', {})).toEqual({ ok: false, unknown: ['toString'] });
  });
});

describe('resolveTriggerVariables: a trigger sets only prompted variables, within their patterns', () => {
  const project = parseConfig(`
projects:
  - id: p
    name: P
    environments: [qa]
    variables:
      Greeting: hello
      DeploySeconds: { value: "1", prompted: true, pattern: "[0-9]{1,3}" }
      Ticket: { prompted: true, description: the change ticket }
    process: [{ name: S, type: script, run: 'true' }]
`).projects[0]!;

  it('merges what was given over the defaults', () => {
    expect(resolveTriggerVariables(project, { DeploySeconds: '5', Ticket: 'CHG-1' })).toEqual({
      ok: true,
      variables: { Greeting: 'hello', DeploySeconds: '5', Ticket: 'CHG-1' },
      prompted: ['DeploySeconds', 'Ticket'],
      sensitive: [],
    });
  });

  it('names every problem at once', () => {
    const result = resolveTriggerVariables(project, {
      Release: '$(id)',
      'Action[Approve].Output.Manual.Notes': 'x',
      Greeting: 'hi',
      Nope: 'x',
      DeploySeconds: '1; rm -rf /',
      constructor: 'x',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => e.name).sort()).toEqual([
      'body.variables.Action[Approve].Output.Manual.Notes',
      'body.variables.DeploySeconds',
      'body.variables.Greeting',
      'body.variables.Nope',
      'body.variables.Release',
      'body.variables.Ticket',
      'body.variables.constructor',
    ]);
    expect(result.errors.find((e) => e.name === 'body.variables.Ticket')!.reason).toContain('needs "Ticket"');
    expect(result.errors.find((e) => e.name === 'body.variables.Release')!.reason).toContain('set by Interlock');
  });

  it('refuses a value over 10,000 characters', () => {
    const result = resolveTriggerVariables(project, { DeploySeconds: '1'.repeat(10_001), Ticket: 't' });
    expect(result.ok).toBe(false);
  });

  it('the config refuses a variable named like a built-in or an output, and a pattern that is no regex', () => {
    const parse = () =>
      parseConfig(`
projects:
  - id: p
    name: P
    environments: [qa]
    variables: { Release: "1", "Action[S].Output.X": y, Bad: { prompted: true, pattern: "([" } }
    process: [{ name: S, type: script, run: 'true' }]
`);
    expect(parse).toThrow('projects[0].variables.Release: "Release" is set by Interlock');
    expect(parse).toThrow('projects[0].variables.Action[S].Output.X: "Action[S].Output.X" is the name of a step\'s output');
    expect(parse).toThrow('projects[0].variables.Bad.pattern: not a valid regular expression');
  });
});
