import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkOnce } from '../../activities/external-check.js';
import { freePort } from '../../temporal/dev-server.js';
import type { CheckOnceInput } from '../../workflows/activity-contract.js';
import { runActivity } from '../support/activities.js';
import { startAlertmanager, type TestAlertmanager } from '../support/alertmanager.js';

// An external check's one answer (docs/manual-steps.md#external-checks): the checkOnce activity against a
// JSON endpoint this file serves and a real Alertmanager (Debian's). It fails closed: nothing but a
// passing answer passes.
const ask = (source: CheckOnceInput['source'], timeoutMs = 2000) => runActivity(checkOnce, [{ source, timeoutMs }]);

let answer: { status: number; body: string; delayMs?: number } = { status: 200, body: '{}' };
let server: Server;
let base: string;
let alertmanager: TestAlertmanager;

beforeAll(async () => {
  server = createServer((_request, response) => {
    setTimeout(() => response.writeHead(answer.status, { 'Content-Type': 'application/json' }).end(answer.body), answer.delayMs ?? 0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  alertmanager = await startAlertmanager();
}, 60_000);

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await alertmanager?.stop();
});

describe('an HTTP check', () => {
  const http = (pass: string, fail?: string) => ({ http: { url: `${base}/health`, pass, ...(fail ? { fail } : {}) } });

  it('passes when its pass condition holds on the JSON answer, fails when its fail condition does, and waits otherwise', async () => {
    answer = { status: 200, body: JSON.stringify({ status: 'ok', checks: [{ name: 'db', healthy: true }] }) };
    expect(await ask(http("@.status == 'ok'"))).toEqual({ verdict: 'pass', log: `GET ${base}/health → 200: pass holds (@.status == 'ok')` });
    expect((await ask(http("@.status == 'ok' && count(@.checks[?@.healthy == false]) == 0"))).verdict).toBe('pass');
    answer = { status: 200, body: JSON.stringify({ status: 'starting' }) };
    expect(await ask(http("@.status == 'ok'", "@.status == 'down'"))).toEqual({ verdict: 'pending', log: `GET ${base}/health → 200: pass does not hold yet (@.status == 'ok')` });
    answer = { status: 200, body: JSON.stringify({ status: 'down' }) };
    expect((await ask(http("@.status == 'ok'", "@.status == 'down'"))).verdict).toBe('fail');
  });

  it('never passes on an error, a status that is not 2xx, an answer that is not JSON, or none in time', async () => {
    answer = { status: 503, body: JSON.stringify({ status: 'ok' }) };
    expect(await ask(http("@.status == 'ok'"))).toEqual({ verdict: 'inconclusive', log: `GET ${base}/health: answered 503: inconclusive` });
    answer = { status: 200, body: '<html>ok</html>' };
    expect((await ask(http("@.status == 'ok'"))).log).toBe(`GET ${base}/health: answered 200 with something that is not JSON: inconclusive`);
    answer = { status: 200, body: JSON.stringify({ status: 'ok' }), delayMs: 1500 };
    expect(await ask(http("@.status == 'ok'"), 300)).toEqual({ verdict: 'inconclusive', log: `GET ${base}/health: no answer (none in time): inconclusive` });
    const closed = `http://127.0.0.1:${await freePort()}`;
    const unreachable = await ask({ http: { url: `${closed}/health`, pass: "@.status == 'ok'" } });
    expect(unreachable.verdict).toBe('inconclusive');
    expect(unreachable.log).toMatch(new RegExp(`^GET ${closed}/health: no answer \\(.*ECONNREFUSED.*\\): inconclusive$`));
  });

  it('reads an answer as data: a condition names fields, nothing in the answer runs', async () => {
    answer = { status: 200, body: JSON.stringify({ status: "ok' || true || '", constructor: 'x', __proto__: { status: 'ok' } }) };
    expect((await ask(http("@.status == 'ok'"))).verdict).toBe('pending');
  });
});

describe('an Alertmanager check', () => {
  const source = (matchers: Record<string, string>) => ({ alertmanager: { url: alertmanager.url, matchers } });

  it('passes while no alert matching its labels fires, and waits while one does', async () => {
    expect(await ask(source({ service: 'hello-service', severity: 'critical' }))).toEqual({
      verdict: 'pass',
      log: `Alertmanager ${alertmanager.url} {service="hello-service", severity="critical"}: no alert firing`,
    });
    await alertmanager.alert({ alertname: 'HighErrorRate', service: 'hello-service', severity: 'critical' });
    await alertmanager.alert({ alertname: 'DiskFull', service: 'billing', severity: 'critical' });
    const firing = await ask(source({ service: 'hello-service', severity: 'critical' }));
    expect(firing).toEqual({ verdict: 'pending', log: `Alertmanager ${alertmanager.url} {service="hello-service", severity="critical"}: 1 firing (HighErrorRate)` });
    // Another service's alert is not this check's business.
    expect((await ask(source({ service: 'payments' }))).verdict).toBe('pass');

    await alertmanager.alert({ alertname: 'HighErrorRate', service: 'hello-service', severity: 'critical' }, { resolved: true });
    expect((await ask(source({ service: 'hello-service', severity: 'critical' }))).verdict).toBe('pass');
  });

  it('a label value is a value: quotes in it match nothing else', async () => {
    await alertmanager.alert({ alertname: 'Quoted', service: 'a"b' });
    expect((await ask(source({ service: 'a"b' }))).log).toContain('1 firing (Quoted)');
    expect((await ask(source({ service: 'a", alertname=~".*' }))).verdict).toBe('pass');
  });

  it('an Alertmanager that does not answer never passes', async () => {
    const gone = `http://127.0.0.1:${await freePort()}`;
    const answerOf = await ask({ alertmanager: { url: gone, matchers: { service: 'hello-service' } } });
    expect(answerOf.verdict).toBe('inconclusive');
    expect(answerOf.log).toMatch(/^Alertmanager http:\/\/127\.0\.0\.1:\d+ \{service="hello-service"\}: no answer \(.*\): inconclusive$/);
  });
});
