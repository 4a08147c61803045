import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ok, problem } from '../support/api.js';
import { until } from '../support/poll.js';
import { testConfig, type Trigger, useStack, waitFor } from '../support/stack.js';

// docs/configuration.md, tried as an attacker would: every payload goes into prompted variables, the release
// and a manual step's notes, through the API, into real bash on a real worker. Nothing may run, and
// each value must arrive byte for byte, wherever the script quotes it (or does not).
const dir = mkdtempSync(join(tmpdir(), 'interlock-injection-'));
const marker = join(dir, `pwned-${randomUUID()}`);
const SLOTS = 5;

/** At least 50 payloads: each tries to run `touch <marker>` or to break out of its quotes. */
const corpus: string[] = [
  ...[`$(touch ${marker})`, `\`touch ${marker}\``, `;touch ${marker}`, `&& touch ${marker}`, `|| touch ${marker}`, `| touch ${marker}`, `& touch ${marker} &`, `\ntouch ${marker}\n`]
    .flatMap((attack) => [attack, `x${attack}`, `"${attack}"`, `'${attack}'`, `"'${attack}'"`]),
  `$(IFS=_;cmd=touch_${marker};$cmd)`,
  `\${IFS}touch\${IFS}${marker}`,
  `$IFS`,
  '*',
  '/*',
  '~',
  '~root',
  '?',
  '[a-z]*',
  '{a,b}',
  '$HOME',
  '${PATH}',
  '$((1+1))',
  '!!',
  '\\',
  '\\"',
  "\\'",
  '"',
  "'",
  '\'"\'"',
  ' leading and trailing spaces ',
  '\ttabs\tand\nnewlines\r\n',
  '-n',
  '--help',
  '%s%n%x',
  'ünïcödé → ✓ 中文 🚀',
  '\u202Eright-to-left override',
  'x'.repeat(10_000),
  `${'$(touch ' + marker + ')'.repeat(1)}${'a'.repeat(9_000)}`,
  '',
];

const config = testConfig(`
- id: injection
  name: Injection
  environments: [production]
  variables:
    Dir: { prompted: true }
${Array.from({ length: SLOTS }, (_, i) => `    V${i}: { value: "", prompted: true }`).join('\n')}
  process:
    - name: Write
      type: script
      run: |
${Array.from({ length: SLOTS }, (_, i) => `        printf '%s' #{V${i}} > "#{Dir}/#{Release}-${i}-unquoted"
        printf '%s' "#{V${i}}" > "#{Dir}/#{Release}-${i}-double"
        printf '%s' '#{V${i}}' > "#{Dir}/#{Release}-${i}-single"
        printf '%s' "#{Release}" > "#{Dir}/#{Release}-release"`).join('\n')}
- id: env
  name: Env
  environments: [production]
  variables:
    Dir: { prompted: true }
  process:
    - { name: Env, type: script, run: 'env > "#{Dir}/#{Release}-env"' }
- id: background
  name: Background
  environments: [production]
  variables:
    Dir: { prompted: true }
  process:
    # The script leaves a child behind and ends; the child holds its output open past the timeout.
    - { name: Start, type: script, timeout: 2s, run: 'sleep 3600 & echo $! > "#{Dir}/#{Release}-child"; echo started' }
- id: notes
  name: Notes
  environments: [production]
  variables:
    Dir: { prompted: true }
  process:
    - { name: Approve, type: manual, responsibleTeams: [release-managers] }
    - name: Record
      type: script
      run: |
        printf '%s' "#{Action[Approve].Output.Manual.Notes}" > "#{Dir}/#{Release}-notes-double"
        printf '%s' #{Action[Approve].Output.Manual.Notes} > "#{Dir}/#{Release}-notes-unquoted"
`);

const stack = useStack(config);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const read = (name: string) => readFileSync(join(dir, name), 'utf8');
/** Triggers as ci; the new deployment's id. */
const trigger = async (json: Trigger) => (await ok(stack.trigger(json), 201)).id;

describe('values are data, never code (docs/configuration.md)', () => {
  it(`${corpus.length} payloads in prompted variables and the release run nothing and arrive byte for byte`, async () => {
    expect(corpus.length).toBeGreaterThanOrEqual(50);
    const batches = Array.from({ length: Math.ceil(corpus.length / SLOTS) }, (_, b) => corpus.slice(b * SLOTS, (b + 1) * SLOTS));
    // Releases only ever match their pattern; the ones it allows still reach the script as data.
    const releases = batches.map((_, b) => `1.0.${b}-rc.1+build-${b}`);
    const ids = await Promise.all(batches.map(async (batch, b) => {
      const variables: Record<string, string> = { Dir: dir };
      batch.forEach((payload, i) => (variables[`V${i}`] = payload));
      return trigger({ project: 'injection', environment: 'production', release: releases[b]!, variables });
    }));
    for (const id of ids) {
      const done = await waitFor(stack, id, (view) => view.finishedAt !== null, 60_000);
      expect(done.status, done.steps[0]!.log).toBe('Succeeded');
    }
    batches.forEach((batch, b) => {
      expect(read(`${releases[b]}-release`)).toBe(releases[b]);
      batch.forEach((payload, i) => {
        for (const quoting of ['unquoted', 'double', 'single']) {
          expect(read(`${releases[b]}-${i}-${quoting}`), `${JSON.stringify(payload.slice(0, 60))} ${quoting}`).toBe(payload);
        }
      });
    });
    expect(existsSync(marker)).toBe(false);
  }, 180_000);

  it('a release that is not a version is refused before anything starts', async () => {
    const body = await problem(stack.trigger({ project: 'injection', environment: 'production', release: '$(id -un; echo INJECTED)', variables: { Dir: dir } }), 400);
    expect((body.errors ?? []).map((e) => e.name)).toEqual(['body.release']);
  });

  it('a trigger may not override a built-in, set a variable that is not prompted, or skip a required one', async () => {
    const body = await problem(stack.trigger({ project: 'injection', environment: 'production', release: '1.0.0', variables: { Release: '$(id)', Environment: 'x', Nope: 'x' } }), 400);
    expect((body.errors ?? []).map((e) => e.name).sort()).toEqual([
      'body.variables.Dir',
      'body.variables.Environment',
      'body.variables.Nope',
      'body.variables.Release',
    ]);
  });

  it('notes with shell in them reach later scripts as data', async () => {
    const payloads = corpus.filter((payload) => payload.length <= 4000).slice(0, 8);
    await Promise.all(payloads.map(async (notes, n) => {
      const release = `2.0.${n}`;
      const id = await trigger({ project: 'notes', environment: 'production', release, variables: { Dir: dir } });
      const waiting = await waitFor(stack, id, (view) => view.status === 'Waiting');
      const at = { id, iid: waiting.interruptions[0]!.id };
      await ok(stack.act('mlee', 'take-responsibility', at));
      await ok(stack.act('mlee', 'proceed', at, { notes }));
      const done = await waitFor(stack, id, (view) => view.finishedAt !== null, 60_000);
      expect(done.status, done.steps[1]!.log).toBe('Succeeded');
      expect(read(`${release}-notes-double`)).toBe(notes);
      expect(read(`${release}-notes-unquoted`)).toBe(notes);
    }));
    expect(existsSync(marker)).toBe(false);
  }, 120_000);
});

describe('a script runs with a clean environment, and takes its children with it', () => {
  it('sees none of the worker\'s variables', async () => {
    const planted = { TEMPORAL_API_KEY: 'tk-should-not-leak', INTERLOCK_SESSION_SECRET: 'ss-should-not-leak-0123456789abcdef', AWS_SECRET_ACCESS_KEY: 'aws-should-not-leak' };
    Object.assign(process.env, planted);
    try {
      const id = await trigger({ project: 'env', environment: 'production', release: '3.0.0', variables: { Dir: dir } });
      const done = await waitFor(stack, id, (view) => view.finishedAt !== null, 60_000);
      expect(done.status).toBe('Succeeded');
    } finally {
      for (const name of Object.keys(planted)) delete process.env[name];
    }
    const names = read('3.0.0-env').split('\n').filter(Boolean).map((line) => line.split('=')[0]);
    // bash adds PWD, SHLVL and _; INTERLOCK_VAR_n are the deployment's own values the script refers to.
    for (const name of names.filter((n) => !/^INTERLOCK_VAR_\d+$/.test(n!))) expect(['PATH', 'HOME', 'LANG', 'TMPDIR', 'PWD', 'SHLVL', '_', 'OLDPWD'], name).toContain(name);
    expect(read('3.0.0-env')).not.toContain('should-not-leak');
  });

  it('a child the script left running is killed with it on timeout', async () => {
    const id = await trigger({ project: 'background', environment: 'production', release: '4.0.0', variables: { Dir: dir } });
    const done = await waitFor(stack, id, (view) => view.finishedAt !== null, 60_000);
    expect(done.status).toBe('Failed');
    expect(done.steps[0]!.log).toContain('started');
    expect(done.steps[0]!.log).toContain('Timed out after 2 s');
    const child = Number(read('4.0.0-child'));
    const alive = () => {
      try {
        process.kill(child, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(await until(alive, (running) => !running, 'the child to die', { timeoutMs: 10_000 }).catch(() => alive()), `the script's child ${child} outlived it`).toBe(false);
  });
});
