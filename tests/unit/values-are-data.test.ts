import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { scriptEnvironment } from '../../activities/script.js';
import { parseConfig } from '../../config/load.js';
import { resolveTriggerVariables } from '../../config/project-variables.js';
import { allowsOnlyNumbers, promqlPlaceholders, substitutePromql } from '../../core/promql-quoting.js';
import { toShell } from '../../core/shell-quoting.js';
import { substitute, substituteUrl } from '../../core/substitution.js';

// docs/configuration.md: whatever a value holds, it stays data. These run the produced scripts in real bash.

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

/**
 * How Prometheus reads the string literal that starts at `text[start]` (its lexer's lexString and
 * lexEscape, then strutil.Unquote): where it ends and what it holds, or why it is no string.
 */
function readPromqlString(text: string, start: number): { end: number; value: string } | { error: string } {
  const quote = text[start]!;
  let value = '';
  for (let i = start + 1; i < text.length; ) {
    const char = text[i]!;
    if (quote === '`') {
      if (char === '`') return { end: i + 1, value };
      value += char;
      i += 1;
      continue;
    }
    if (char === quote) return { end: i + 1, value };
    if (char === '\n') return { error: 'unterminated quoted string' };
    if (char !== '\\') {
      value += char;
      i += 1;
      continue;
    }
    const escaped = text[i + 1];
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };
    if (escaped === quote) value += quote;
    else if (escaped !== undefined && Object.hasOwn(simple, escaped)) value += simple[escaped];
    else if (escaped === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 2, i + 4))) {
      value += String.fromCharCode(parseInt(text.slice(i + 2, i + 4), 16));
      i += 2;
    } else return { error: `unknown escape sequence \\${escaped}` };
    i += 2;
  }
  return { error: 'unterminated string' };
}

/** Values that try to leave the string they are put in, or to break the query. */
const promqlCorpus = [
  '0 or vector(1)',
  '"} or vector(1) or {a="',
  "'} or vector(1) or {a='",
  '\\"} or vector(1) #',
  "\\'} or vector(1) #",
  'x\n} or vector(1) #',
  "it's",
  'say "hi"',
  'C:\\path\\',
  '#{Release}',
  '\x00\x07\x1b\x7f\r\t\v\f\b',
  'é ✓ 🚀',
  '',
];

describe('substitutePromql: a value in a Prometheus query is data where the query quotes it', () => {
  const kinds = [['double', '"'], ['single', "'"], ['raw', '`']] as const;

  it.each(promqlCorpus)('%j is read back by PromQL\'s string grammar as itself, in "…" and \'…\' (and `…` unless it holds a backtick)', (value) => {
    for (const [kind, quote] of kinds) {
      const prefix = `sum(up{job=${quote}`;
      const suffix = `${quote}}) > 0.9`;
      const result = substitutePromql(`${prefix}#{X}${suffix}`, { X: value, Release: '1.0' }, () => false);
      if (kind === 'raw' && value.includes('`')) {
        expect(result).toMatchObject({ ok: false, refused: expect.stringContaining('backtick') });
        continue;
      }
      expect(result.ok, kind).toBe(true);
      const text = (result as { text: string }).text;
      expect(text.startsWith(prefix) && text.endsWith(suffix), `${kind}: ${text}`).toBe(true);
      // One string, from the opening quote to the one before the suffix, holding exactly the value.
      expect(readPromqlString(text, prefix.length - 1), `${kind}: ${text}`).toEqual({ end: text.length - suffix.length + 1, value });
    }
  });

  it('holds for random values, 2,000 of them, in every kind of string', () => {
    const alphabet = ['"', "'", '`', '\\', '\n', '\r', '\x00', '}', '{', ')', '#', ' ', 'o', 'r', '1', 'x', 'é', '🚀', '$'];
    let seed = 19;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let n = 0; n < 2000; n++) {
      const value = Array.from({ length: Math.floor(random() * 12) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      for (const [kind, quote] of kinds) {
        const result = substitutePromql(`m{l=${quote}#{X}${quote}} or m2{l=${quote}a#{X}b${quote}}`, { X: value }, () => false);
        if (kind === 'raw' && value.includes('`')) {
          expect(result.ok).toBe(false);
          continue;
        }
        const text = (result as { text: string }).text;
        const first = readPromqlString(text, 4);
        expect(first, `${kind} ${JSON.stringify(value)}: ${text}`).toMatchObject({ value });
        const second = readPromqlString(text, (first as { end: number }).end + 10);
        expect(text.slice((first as { end: number }).end, (first as { end: number }).end + 9)).toBe('} or m2{l');
        expect(second).toEqual({ end: text.length - 1, value: `a${value}b` });
      }
    }
  });

  it('refuses a value outside quotes unless the caller trusts it or it is a number or a duration', () => {
    const query = 'avg(rate(http_errors_total[#{Window}])) > #{Threshold}';
    const trusting = (name: string) => name === 'Window';
    expect(substitutePromql(query, { Window: '5m', Threshold: '0.5' }, trusting)).toEqual({ ok: false, unknown: [], refused: expect.stringContaining('#{Threshold} stands outside quotes') });
    // The caller decides: the evaluation trusts config values, and any number or duration.
    const evaluation = (name: string, value: string) => trusting(name) || /^\d+(\.\d+)?$/.test(value);
    expect(substitutePromql(query, { Window: '5m', Threshold: '0.5' }, evaluation)).toEqual({ ok: true, text: 'avg(rate(http_errors_total[5m])) > 0.5' });
    expect(substitutePromql(query, { Window: '5m', Threshold: '0 or vector(1)' }, evaluation).ok).toBe(false);
  });

  it('reads where each placeholder stands as PromQL does: escapes, comments, ##{…}, and an unterminated string', () => {
    expect(promqlPlaceholders('a{x="\\"#{A}", y=\'#{B}\\\'\', z=`\\#{C}`} > #{D} # note #{E}\n+ "\\#{F}" ##{G} "x\n#{H}')).toEqual([
      { name: 'A', context: 'double' },
      { name: 'B', context: 'single' },
      { name: 'C', context: 'raw' },
      { name: 'D', context: 'code' },
      // A newline in a value would end the comment: a placeholder there is code.
      { name: 'E', context: 'code' },
      // `"\#{F}"` escapes the `#`: no placeholder, and Prometheus refuses `\#`. A newline ends a quoted string.
      { name: 'H', context: 'code' },
    ]);
    expect(substitutePromql('up{a="##{A}"}', {}, () => false)).toEqual({ ok: true, text: 'up{a="#{A}"}' });
    expect(substitutePromql('up{a="#{constructor}", b="#{Missing}"}', {}, () => false)).toEqual({ ok: false, unknown: ['constructor', 'Missing'] });
  });

  it('refuses an unpaired surrogate, which no query can carry, and never quotes the value it refuses', () => {
    const result = substitutePromql('up{a="#{Secret}"} > #{Secret}', { Secret: 'hunter2\uD800' }, () => false);
    expect(result).toMatchObject({ ok: false, refused: expect.stringContaining('unpaired UTF-16 surrogate') });
    expect(JSON.stringify(result)).not.toContain('hunter2');
  });

  it.each([
    ['[0-9]+', true], ['\\d+(\\.\\d+)?', true], ['-?[0-9]{1,3}', true], ['[0-9]+(ms|s|m|h|d)', true], ['(?:[1-9][0-9]*[smh])+', true], ['^[0-9.]+$', true],
    ['.*', false], ['[0-9]+|vector', false], ['\\s*[0-9]+', false], ['[^a-z]+', false], ['[.-9]+', false], ['[0-9a-f]+', false], ['[0-9]+ or', false], ['(', false],
  ] as const)('allowsOnlyNumbers(%j) is %s', (pattern, expected) => {
    expect(allowsOnlyNumbers(pattern)).toBe(expected);
  });
});

describe('the config refuses a Prometheus query whose placeholder stands outside quotes, unless only the config or a number can fill it', () => {
  const config = (query: string, variables = '') => `
projects:
  - id: p
    name: P
    environments: [qa]
    variables: { Greeting: hello, Threshold: { prompted: true, value: "1" }, Seconds: { prompted: true, value: "5", pattern: "[0-9]+" }${variables} }
    slo: { objectives: [{ sli: q, pass: [{ criteria: ["<1"] }] }], total_score: { pass: "90%" } }
    sli: { q: { prometheus: { url: "http://prometheus:9090", query: '${query}' } } }
    process: [{ name: S, type: evaluation }]
`;
  it('accepts config values, Interlock\'s and numbers-only patterns outside quotes, and anything in quotes', () => {
    const query = 'sum(rate(x{env="#{Environment}", r="#{Release}", t="#{Threshold}", n="#{Action[S].Output.Manual.Notes}"}[#{Evaluation.Timeframe}])) offset #{Seconds}s > #{Greeting}';
    expect(() => parseConfig(config(query))).not.toThrow();
  });

  it('names each placeholder a trigger or a person could fill, by the query\'s path', () => {
    const parse = () => parseConfig(config('x > #{Threshold} or y > #{Release} or z > #{Deployment.Id} or #{Action[S].Output.Manual.Notes} or #{Nope} or #{Loose}', ', Loose: { prompted: true, value: "1", pattern: "[0-9]+|.*" }'));
    const problems = (() => {
      try {
        parse();
        return [];
      } catch (error) {
        return (error as { problems: string[] }).problems;
      }
    })();
    const at = 'projects[0].sli.q.prometheus.query: ';
    expect(problems).toEqual([
      `${at}#{Threshold} stands outside quotes, where a value a trigger gives would be PromQL ("0 or vector(1)"): quote it ("#{Threshold}") to pass it as a string, or give the variable a pattern that allows only a number or a duration, such as "[0-9]+(\\.[0-9]+)?"`,
      `${at}#{Release} stands outside quotes, where its value would be PromQL (it holds the release, which whoever triggers chooses): quote it ("#{Release}") to pass it as a string`,
      `${at}#{Deployment.Id} stands outside quotes, where its value would be PromQL (it holds the release, which whoever triggers chooses): quote it ("#{Deployment.Id}") to pass it as a string`,
      `${at}#{Action[S].Output.Manual.Notes} stands outside quotes, where its value would be PromQL (a step's output, which people write): quote it ("#{Action[S].Output.Manual.Notes}") to pass it as a string`,
      `${at}#{Nope} stands outside quotes and is no variable of the project`,
      `${at}#{Loose} stands outside quotes, where a value a trigger gives would be PromQL ("0 or vector(1)"): quote it ("#{Loose}") to pass it as a string, or give the variable a pattern that allows only a number or a duration, such as "[0-9]+(\\.[0-9]+)?" (its pattern "[0-9]+|.*" allows more)`,
    ]);
  });
});
