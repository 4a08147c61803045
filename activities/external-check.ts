import { Context } from '@temporalio/activity';
import { type JsonValue, query } from 'jsonpath-rfc9535';
import type { CheckOnceInput, CheckOnceOutput } from '../workflows/activity-contract.js';

/** At most this much of an answer is read: a check's source answers with a status, not a dump. */
const MAX_ANSWER_BYTES = 1024 * 1024;

/**
 * Asks an external check's source once (docs/manual-steps.md#external-checks) and says what the
 * answer means. It fails closed: an error, a status that is not 2xx, an answer that is not JSON or
 * that neither condition decides is `inconclusive` or `pending`, never `pass`. Nothing of the
 * answer's body reaches the log but what the verdict needs (every viewer reads step logs).
 */
export async function checkOnce({ source, timeoutMs }: CheckOnceInput): Promise<CheckOnceOutput> {
  const { cancellationSignal } = Context.current();
  const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), cancellationSignal]);
  const getJson = (url: string) => answerOf(url, signal, cancellationSignal);
  if ('http' in source) {
    const { url, pass, fail } = source.http;
    const answer = await getJson(url);
    if ('problem' in answer) return { verdict: 'inconclusive', log: `GET ${url}: ${answer.problem}` };
    const at = `GET ${url} → ${answer.status}`;
    if (fail !== undefined && holds(answer.json, fail)) return { verdict: 'fail', log: `${at}: fail holds (${fail})` };
    if (holds(answer.json, pass)) return { verdict: 'pass', log: `${at}: pass holds (${pass})` };
    return { verdict: 'pending', log: `${at}: pass does not hold yet (${pass})` };
  }
  const { url, matchers } = source.alertmanager;
  // Alertmanager's API v2: the alerts firing now that match every label, neither silenced nor inhibited.
  const filters = Object.entries(matchers).map(([name, value]) => `${name}="${value.replace(/["\\]/g, '\\$&').replace(/\n/g, '\\n')}"`);
  const params = new URLSearchParams({ active: 'true', silenced: 'false', inhibited: 'false', unprocessed: 'false' });
  for (const filter of filters) params.append('filter', filter);
  const endpoint = `${url.replace(/\/+$/, '')}/api/v2/alerts?${params}`;
  const shown = `Alertmanager ${url} {${filters.join(', ')}}`;
  const answer = await getJson(endpoint);
  if ('problem' in answer) return { verdict: 'inconclusive', log: `${shown}: ${answer.problem}` };
  if (!Array.isArray(answer.json)) return { verdict: 'inconclusive', log: `${shown}: the answer is not a list of alerts` };
  if (answer.json.length === 0) return { verdict: 'pass', log: `${shown}: no alert firing` };
  const names = [...new Set(answer.json.map(alertName))].slice(0, 5).join(', ');
  return { verdict: 'pending', log: `${shown}: ${answer.json.length} firing (${names})` };
}

/** Whether the filter expression holds for the answer: `$[?<expression>]` over a list holding only the answer. */
function holds(answer: JsonValue, expression: string): boolean {
  try {
    return query([answer], `$[?${expression}]`).length > 0;
  } catch {
    return false;
  }
}

/** The JSON a URL answers with, or what kept it from answering; throws only when the activity is cancelled. */
async function answerOf(url: string, signal: AbortSignal, cancelled: AbortSignal): Promise<{ status: number; json: JsonValue } | { problem: string }> {
  let response: Response;
  let text: string | undefined;
  try {
    response = await fetch(url, { redirect: 'manual', signal, headers: { Accept: 'application/json' } });
    text = await readAtMost(response, MAX_ANSWER_BYTES);
  } catch (error) {
    cancelled.throwIfAborted();
    const reason = error instanceof Error && error.name === 'TimeoutError' ? 'none in time' : error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
    return { problem: `no answer (${reason}): inconclusive` };
  }
  if (response.status < 200 || response.status >= 300) return { problem: `answered ${response.status}: inconclusive` };
  if (text === undefined) return { problem: `answered more than ${MAX_ANSWER_BYTES} bytes: inconclusive` };
  try {
    return { status: response.status, json: JSON.parse(text) as JsonValue };
  } catch {
    return { problem: `answered ${response.status} with something that is not JSON: inconclusive` };
  }
}

async function readAtMost(response: Response, limit: number): Promise<string | undefined> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** An alert's `alertname` label, as Alertmanager's API v2 gives it; bounded, since the log shows it. */
const alertName = (alert: unknown): string => {
  const name = (alert as { labels?: { alertname?: unknown } } | null)?.labels?.alertname;
  return typeof name === 'string' ? name.slice(0, 100) : 'an alert';
};
