import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { maskText } from '../core/masking.js';
import type { FetchSliInput, SliOutput } from '../workflows/activity-contract.js';
import { runScript } from './script.js';

const PROMETHEUS_TIMEOUT_MS = 30_000;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * The value of one SLI: a script's last line of standard output that is a number, or a Prometheus
 * instant query's sample. A failure names the SLI. Retryable (`SliUnavailable`): Prometheus down,
 * slow or answering 5xx. Not retryable (`SliFailed`): a query Prometheus refuses, no data, a value
 * that is not a number, a script that fails or prints no number (a script is not assumed to be
 * safe to run twice, as in runScript).
 */
export async function fetchSli({ name, source, mask = [] }: FetchSliInput): Promise<SliOutput> {
  if ('script' in source) return fromScript(name, source, mask);
  return fromPrometheus(name, source.prometheus, source.timeoutMs ?? PROMETHEUS_TIMEOUT_MS, mask);
}

const failed = (name: string, message: string, mask: string[], details: unknown[] = []) =>
  ApplicationFailure.create({ message: maskText(`SLI "${name}": ${message}`, mask), type: 'SliFailed', nonRetryable: true, details });
const unavailable = (name: string, message: string, mask: string[]) =>
  ApplicationFailure.create({ message: maskText(`SLI "${name}": ${message}`, mask), type: 'SliUnavailable', nonRetryable: false });

/** One line of at most `max` characters, for logs and messages. */
const oneLine = (text: string, max = 200) => {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};

async function fromScript(name: string, source: { script: string; env?: Record<string, string>; timeoutMs: number }, mask: string[]): Promise<SliOutput> {
  // runScript keeps stdout and stderr together in its log; a copy of stdout alone is where the value is read.
  const dir = await mkdtemp(join(tmpdir(), 'interlock-sli-'));
  const stdout = join(dir, 'stdout');
  const script = `set -o pipefail\n(\n${source.script}\n) | tee -- '${stdout.replaceAll("'", `'\\''`)}'`;
  try {
    let log: string;
    try {
      ({ log } = await runScript({ script, env: source.env, timeoutMs: source.timeoutMs, mask }));
    } catch (error) {
      if (error instanceof ApplicationFailure) throw failed(name, error.message, mask, [...(error.details ?? [])]);
      throw error;
    }
    const lines = (await readFile(stdout, 'utf8')).split('\n').map((line) => line.trim());
    const number = lines.findLast((line) => NUMBER.test(line));
    if (number === undefined || !Number.isFinite(Number(number))) {
      const last = lines.findLast((line) => line !== '');
      const why = last === undefined ? 'it printed nothing' : `its last line was "${oneLine(last, 80)}"`;
      throw failed(name, `the script printed no number on its standard output (${why})`, mask, [log]);
    }
    const value = Number(number);
    return { value, log: `${log}${log === '' || log.endsWith('\n') ? '' : '\n'}SLI ${name} = ${value}\n` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface PrometheusAnswer {
  status?: string;
  errorType?: string;
  error?: string;
  warnings?: unknown[];
  data?: { resultType?: string; result?: unknown };
}

/** `GET /api/v1/query` (https://prometheus.io/docs/prometheus/latest/querying/api/#instant-queries), at the server's current time. */
async function fromPrometheus(name: string, { url, query }: { url: string; query: string }, timeoutMs: number, mask: string[]): Promise<SliOutput> {
  const { info, cancellationSignal } = Context.current();
  const endpoint = `${url.replace(/\/+$/, '')}/api/v1/query`;
  const shownQuery = oneLine(query);
  const request = `GET ${endpoint}?query=${shownQuery} (attempt ${info.attempt})`;
  const started = Date.now();
  let response: Response;
  let body: string;
  try {
    response = await fetch(`${endpoint}?query=${encodeURIComponent(query)}`, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), cancellationSignal]),
    });
    body = await response.text();
  } catch (error) {
    if (cancellationSignal.aborted) throw new CancelledFailure('cancelled');
    const reason = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
    throw unavailable(name, `${request} failed: ${oneLine(reason)}`, mask);
  }
  const took = `${Date.now() - started} ms`;
  const status = response.status;
  let answer: PrometheusAnswer | undefined;
  try {
    answer = JSON.parse(body) as PrometheusAnswer;
  } catch {
    // Not Prometheus' JSON: said below by status and type, never with the body.
  }
  if (answer?.status !== 'success') {
    const type = (response.headers.get('content-type') ?? 'no content type').split(';')[0]!.replace(/[^\w./+-]/g, '');
    const why = answer?.status === 'error'
      ? `Prometheus answered ${status} (${answer.errorType ?? 'error'}): ${oneLine(String(answer.error ?? ''))}`
      : `${endpoint} answered ${status} (${type}, ${Buffer.byteLength(body)} bytes), not a Prometheus API answer`;
    const message = `${why}; query: ${shownQuery}`;
    // 5xx (503 is Prometheus' own timeout) and 429 may pass; a query Prometheus refuses (400 bad_data, 422 execution) will not.
    throw status >= 500 || status === 429 ? unavailable(name, message, mask) : failed(name, message, mask);
  }
  const lines = [`${request} → ${status} in ${took}`];
  for (const warning of (answer.warnings ?? []).slice(0, 5)) lines.push(`Prometheus warns: ${oneLine(String(warning))}`);

  const { resultType, result } = answer.data ?? {};
  let sample: unknown;
  if (resultType === 'scalar') {
    sample = result;
    lines.push('A scalar.');
  } else if (resultType === 'vector' && Array.isArray(result)) {
    if (result.length === 0) throw failed(name, `no data for ${shownQuery}`, mask, [lines.join('\n')]);
    const first = result[0] as { metric?: Record<string, string>; value?: unknown };
    const labels = `{${Object.entries(first.metric ?? {}).map(([key, value]) => `${key}="${value}"`).join(', ')}}`;
    lines.push(result.length === 1
      ? `A vector of 1 sample: ${oneLine(labels)}.`
      : `A vector of ${result.length} samples; the first is used: ${oneLine(labels)}. Aggregate the query (sum, avg, max) to choose.`);
    sample = first.value;
  } else {
    const why = resultType === 'matrix' ? 'a range vector: an SLI needs an instant vector or a scalar (wrap it in avg_over_time or similar)' : `a ${String(resultType)} result, not a number`;
    throw failed(name, `${shownQuery} gives ${why}`, mask, [lines.join('\n')]);
  }
  const text = Array.isArray(sample) ? sample[1] : undefined;
  const value = typeof text === 'string' && text.trim() !== '' ? Number(text) : NaN;
  if (!Number.isFinite(value)) throw failed(name, `Prometheus answered ${oneLine(String(text), 40)} for ${shownQuery}, not a finite number`, mask, [lines.join('\n')]);
  lines.push(`SLI ${name} = ${value}`);
  return { value, log: maskText(`${lines.join('\n')}\n`, mask) };
}
