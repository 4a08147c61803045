import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchSli } from '../../activities/sli.js';
import type { FetchSliInput } from '../../workflows/activity-contract.js';
import { substitutePromql } from '../../core/promql-quoting.js';
import { freePort } from '../../temporal/dev-server.js';
import { failureOf, runActivity } from '../support/activities.js';
import { findPrometheus, startPrometheus, type TestPrometheus } from '../support/prometheus.js';

// The evaluation task's SLI sources (docs/keptn.md): the fetchSli activity against a real Prometheus
// (Debian's, scraping a target this file serves) and real scripts. An activity needs no Temporal
// server: MockActivityEnvironment gives it its context.
const run = (input: FetchSliInput) => runActivity(fetchSli, [input]);
/** The failure fetchSli ends with; fails the test if it succeeded. */
const failing = (input: FetchSliInput) => failureOf(run(input));

const prometheus = findPrometheus();
if ('missing' in prometheus) console.warn(`Skipping the Prometheus SLI tests: ${prometheus.missing}`);

describe.skipIf('missing' in prometheus)(`a Prometheus SLI${'missing' in prometheus ? ` (skipped: ${prometheus.missing})` : ''}`, () => {
  let server: TestPrometheus;
  beforeAll(async () => {
    server = await startPrometheus((prometheus as { path: string }).path);
    server.set('interlock_test_latency_ms', 420);
    server.set('interlock_test_requests', 10, { instance_group: 'blue' });
    server.set('interlock_test_requests', 30, { instance_group: 'green' });
    await server.waitFor('interlock_test_latency_ms', 420);
    await server.waitFor('count(interlock_test_requests)', 2);
  });
  afterAll(async () => {
    await server?.stop();
  });
  const source = (query: string) => ({ prometheus: { url: server.url, query } });

  it('reads the one sample of an instant vector, and says in the log what it asked and got', async () => {
    const output = await run({ name: 'response_time', source: source('interlock_test_latency_ms') });
    expect(output.value).toBe(420);
    expect(output.log).toContain(`GET ${server.url}/api/v1/query?query=interlock_test_latency_ms (attempt 1) → 200`);
    expect(output.log).toContain('A vector of 1 sample: {__name__="interlock_test_latency_ms", instance="127.0.0.1:');
    expect(output.log).toMatch(/SLI response_time = 420\n$/);
  });

  it('takes the first of several samples and says so', async () => {
    const output = await run({ name: 'requests', source: source('sort_desc(interlock_test_requests)') });
    expect(output.value).toBe(30);
    expect(output.log).toContain('A vector of 2 samples; the first is used: {__name__="interlock_test_requests", instance="127.0.0.1:');
    expect(output.log).toContain('instance_group="green"');
  });

  it('reads a scalar, and follows a value the target changes', async () => {
    server.set('interlock_test_latency_ms', 515.5);
    await server.waitFor('interlock_test_latency_ms', 515.5);
    const output = await run({ name: 'latency_seconds', source: source('scalar(interlock_test_latency_ms) / 1000') });
    expect(output.value).toBe(0.5155);
    expect(output.log).toContain('A scalar.');
  });

  it('fails for good when the query has no data, naming the SLI and the query', async () => {
    const failure = await failing({ name: 'error_rate', source: source('interlock_test_errors_total{job="nobody"}') });
    expect(failure.message).toBe('SLI "error_rate": no data for interlock_test_errors_total{job="nobody"}');
    expect(failure.type).toBe('SliFailed');
    expect(failure.nonRetryable).toBe(true);
  });

  it('fails for good on a query Prometheus refuses, with its one-line reason', async () => {
    const failure = await failing({ name: 'error_rate', source: source('sum(rate(interlock_test_requests[1m])') });
    expect(failure.message).toMatch(/^SLI "error_rate": Prometheus answered 400 \(bad_data\): .*parse error.*; query: sum\(rate\(interlock_test_requests\[1m\]\)$/);
    expect(failure.message).not.toContain('\n');
    expect(failure.nonRetryable).toBe(true);
  });

  it('refuses a range vector: an SLI is one number', async () => {
    const failure = await failing({ name: 'latency', source: source('interlock_test_latency_ms[5s]') });
    expect(failure.message).toContain('gives a range vector: an SLI needs an instant vector or a scalar');
    expect(failure.nonRetryable).toBe(true);
  });

  it('refuses NaN as a value', async () => {
    const failure = await failing({ name: 'ratio', source: source('interlock_test_latency_ms - interlock_test_latency_ms + NaN') });
    expect(failure.message).toBe('SLI "ratio": Prometheus answered NaN for interlock_test_latency_ms - interlock_test_latency_ms + NaN, not a finite number');
  });

  describe('values substituted in a query are data to Prometheus too', () => {
    // Each value is the label of a series of its own: a query that finds that series' number read
    // the value as a label value, not as PromQL (a forged `vector(1)` would answer 1).
    const values = ['o\'brien', 'say "hi" \\ back\\', '"} or vector(1) or {a="', "'} or vector(1) or {a='", '\\"} or vector(1) #', 'x\n} or vector(1) #', 'é ✓ 🚀'];
    beforeAll(async () => {
      values.forEach((who, i) => server.set('interlock_test_who', 100 + i, { who }));
      await server.waitFor('count(interlock_test_who)', values.length);
    });

    it.each(values)('%j finds its own series in "…", \'…\' and `…`', async (value) => {
      for (const quote of ['"', "'", '`']) {
        const query = substitutePromql(`max(interlock_test_who{who=${quote}#{Who}${quote}})`, { Who: value }, () => false);
        if (quote === '`' && value.includes('`')) continue;
        expect(query.ok, `${quote}: ${JSON.stringify(query)}`).toBe(true);
        const output = await run({ name: 'who', source: source((query as { text: string }).text) });
        expect(output.value, `${quote}: ${(query as { text: string }).text}`).toBe(100 + values.indexOf(value));
      }
    });

    it('a value outside quotes is never sent; Prometheus would have run it (a forged pass)', async () => {
      const template = 'max(interlock_test_who) > #{Threshold}';
      expect(substitutePromql(template, { Threshold: '0 or vector(1)' }, () => false)).toMatchObject({ ok: false, refused: expect.stringContaining('#{Threshold} stands outside quotes') });
      // What a plain substitution sent before: the comparison filters everything out, and `vector(1)` answers instead.
      const forged = await run({ name: 'who', source: source('max(interlock_test_who) > 1000 or vector(1)') });
      expect(forged.value).toBe(1);
    });

    it("an apostrophe in double quotes: `\\'` is no PromQL escape, and Prometheus refuses it", async () => {
      const failure = await failing({ name: 'who', source: source(`max(interlock_test_who{who="o\\'brien"})`) });
      expect(failure.message).toMatch(/Prometheus answered 400 \(bad_data\): .*unknown escape sequence/);
    });
  });

  it('masks sensitive values in what it logs', async () => {
    const output = await run({ name: 'latency', source: source('interlock_test_latency_ms{instance!="s3cret"}'), mask: ['s3cret'] });
    expect(output.log).toContain('query=interlock_test_latency_ms{instance!="********"}');
    expect(output.log).not.toContain('s3cret');
  });
});

describe('a Prometheus that does not answer', () => {
  it('is a retryable failure naming the SLI and the address', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const failure = await failing({ name: 'response_time', source: { prometheus: { url, query: 'up' } } });
    expect(failure.message).toBe(`SLI "response_time": GET ${url}/api/v1/query?query=up (attempt 1) failed: connect ECONNREFUSED ${url.slice('http://'.length)}`);
    expect(failure.type).toBe('SliUnavailable');
    expect(failure.nonRetryable).toBe(false);
  });
});

describe('a script SLI', () => {
  it('is the last number its script prints on standard output; stderr and later text do not count', async () => {
    const output = await run({
      name: 'queue_depth',
      source: { script: 'echo "checking $QUEUE"\necho 17\necho 99 >&2\necho done', env: { QUEUE: 'orders' }, timeoutMs: 10_000 },
    });
    expect(output.value).toBe(17);
    expect(output.log).toContain('checking orders\n');
    expect(output.log).toContain('99\n');
    expect(output.log).toMatch(/SLI queue_depth = 17\n$/);
  });

  it('reads decimals, signs and exponents', async () => {
    const output = await run({ name: 'ratio', source: { script: 'printf "  -1.5e-3  \\n"', timeoutMs: 10_000 } });
    expect(output.value).toBe(-0.0015);
  });

  it('fails for good when the script prints no number, quoting its last line', async () => {
    const failure = await failing({ name: 'queue_depth', source: { script: 'echo "queue depth: lots"', timeoutMs: 10_000 } });
    expect(failure.message).toBe('SLI "queue_depth": the script printed no number on its standard output (its last line was "queue depth: lots")');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.details).toEqual(['queue depth: lots\n']);
  });

  it('fails when the script prints nothing, or a number on stderr only', async () => {
    const failure = await failing({ name: 'queue_depth', source: { script: 'echo 5 >&2', timeoutMs: 10_000 } });
    expect(failure.message).toBe('SLI "queue_depth": the script printed no number on its standard output (it printed nothing)');
  });

  it('fails with the exit code when the script fails, even after printing a number', async () => {
    const failure = await failing({ name: 'queue_depth', source: { script: 'echo 3; exit 4', timeoutMs: 10_000 } });
    expect(failure.message).toBe('SLI "queue_depth": the script exited with code 4');
    expect(failure.details?.[0]).toContain('3\n');
  });

  it('keeps the script its own: an exit in it ends only it', async () => {
    const output = await run({ name: 'queue_depth', source: { script: 'echo 8\nexit 0', timeoutMs: 10_000 } });
    expect(output.value).toBe(8);
  });

  it('masks sensitive values in its log and messages', async () => {
    const failure = await failing({ name: 'token_check', source: { script: 'echo "token=$TOKEN"', env: { TOKEN: 'hunter2' }, timeoutMs: 10_000 }, mask: ['hunter2'] });
    expect(failure.message).toBe('SLI "token_check": the script printed no number on its standard output (its last line was "token=********")');
    expect(failure.details).toEqual(['token=********\n']);
  });
});
