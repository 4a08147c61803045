import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Deployment, ok, problem, type Release } from '../support/api.js';
import { lifecycleConfig, productionShipyard } from '../support/fixtures.js';
import { until } from '../support/poll.js';
import { findPrometheus, startPrometheus, type TestPrometheus } from '../support/prometheus.js';
import { type Stack, uniqueRelease, untilAnswered, useStack, waitForRelease } from '../support/stack.js';

/**
 * Keptn's quality gate as a release meets it (docs/keptn.md): an evaluation of SLIs read from a real
 * Prometheus (Debian's, scraping a target this file serves), scored with an absolute and a
 * relative criterion against the previous evaluation of the stage, in front of an approval that
 * passes automatically, waits on a warning, and declines a failure.
 */
const prometheus = findPrometheus();
if ('missing' in prometheus) console.warn(`Skipping the quality gate tests: ${prometheus.missing}`);
let server: TestPrometheus;
beforeAll(async () => {
  if ('missing' in prometheus) return;
  server = await startPrometheus(prometheus.path);
  server.set('helloservice_response_time_p95_ms', 100, { stage: 'production' });
  await server.waitFor('helloservice_response_time_p95_ms', 100);
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

// The SLO names the Prometheus query; the URL is only known once it has started.
const config = () =>
  lifecycleConfig(`
slo:
  comparison: { compare_with: single_result, include_result_with_score: pass_or_warn, number_of_comparison_results: 1, aggregate_function: avg }
  objectives:
    - sli: response_time_p95
      displayName: Response time p95
      pass: [{ criteria: ["<=+10%", "<600"] }]
      warning: [{ criteria: ["<=800"] }]
  total_score: { pass: "90%", warning: "50%" }
sli:
  response_time_p95:
    prometheus: { url: '${server.url}', query: 'max(helloservice_response_time_p95_ms{stage="#{Stage}"})' }
${productionShipyard(`
- name: evaluation
  properties: { timeframe: 5m }
- name: approval
  properties: { pass: automatic, warning: manual }
- name: release
`)}
tasks:
  release: { type: script, run: 'echo "releasing #{Release}"' }
`, `
  - id: regional
    name: Regional service
    variables:
      Region: { prompted: true }
      Scale: { prompted: true, value: "1", pattern: "[0-9]+" }
    slo:
      objectives: [{ sli: response_time_p95, pass: [{ criteria: ["<600"] }] }]
      total_score: { pass: "90%" }
    sli:
      response_time_p95:
        prometheus: { url: '${server.url}', query: 'max(regional_response_time_ms{stage="#{Stage}", region="#{Region}"}) * #{Scale}' }
${productionShipyard('- name: evaluation').replace(/^/gm, '    ')}
`);

describe.skipIf('missing' in prometheus)(`a quality gate on Prometheus${'missing' in prometheus ? ` (skipped: ${prometheus.missing})` : ''}`, () => {
  // The config names Prometheus's address, so the stack starts once Prometheus has.
  const stack = useStack(config);

  async function releaseUntilDone(value: number): Promise<{ release: Release; production: Deployment }> {
    server.set('helloservice_response_time_p95_ms', value, { stage: 'production' });
    await server.waitFor('max(helloservice_response_time_p95_ms{stage="production"})', value);
    return started({ project: 'helloservice', release: uniqueRelease() });
  }

  type Start = Parameters<ReturnType<Stack['api']>['api']['releases']['$post']>[0]['json'];
  /** Starts a release and reads it until its production deployment has finished or waits for a person. */
  async function started(json: Start): Promise<{ release: Release; production: Deployment }> {
    const { id } = await ok(stack.api('ci').api.releases.$post({ json }), 201);
    const release = await waitForRelease(stack, id, (view) => view.stages[0]?.sequences[0]?.deploymentId != null);
    const productionId = release.stages[0]!.sequences[0]!.deploymentId!;
    const production = await untilAnswered(() => stack.api().api.deployments[':id'].$get({ param: { id: productionId } }), (view) => view.finishedAt !== null || view.status === 'Waiting', 'the release to get far');
    return { release: await ok(stack.api().api.releases[':id'].$get({ param: { id } })), production };
  }

  it('passes without a person when the SLI is within its criteria, and says so in the evaluation table', async () => {
    const { production } = await releaseUntilDone(100);
    const evaluation = production.steps[0]!;
    expect(evaluation).toMatchObject({ name: 'evaluation', status: 'Succeeded', result: 'pass' });
    expect(evaluation.evaluation?.objectives[0]).toMatchObject({ sli: 'response_time_p95', displayName: 'Response time p95', value: 100, status: 'pass' });
    expect(evaluation.log).toContain('Response time p95');
    expect(evaluation.log).toContain('max(helloservice_response_time_p95_ms{stage="production"})');
    expect(production.steps.map((s) => [s.name, s.status])).toEqual([['evaluation', 'Succeeded'], ['approval', 'Succeeded'], ['release', 'Succeeded']]);
    expect(production.steps[1]!.log).toContain("Approval strategy for result 'pass': automatic");
    expect(production.interruptions).toEqual([]);
  });

  it('compares with the previous evaluation: 30% slower than it is a warning, and a person is asked', async () => {
    const earlier = await releaseUntilDone(100);
    // The next evaluation reads the earlier one's memo from visibility, which lags a moment behind.
    const memo = async () => {
      const description = await stack.client.workflow.getHandle(earlier.production.id).describe();
      const { executions } = await stack.client.workflowService.listWorkflowExecutions({ namespace: 'default', query: `WorkflowId = '${description.workflowId}'` });
      return executions?.[0]?.memo?.fields?.evaluation !== undefined;
    };
    await until(memo, Boolean, 'visibility to keep the earlier evaluation', { timeoutMs: 10_000 });
    const { production } = await releaseUntilDone(130);
    const objective = production.steps[0]!.evaluation?.objectives[0];
    expect(objective).toMatchObject({ value: 130, comparedValue: 100, status: 'warning' });
    expect(production.steps[0]!.evaluation?.comparedWith).toBe(1);
    expect(production.status).toBe('Waiting');
    expect(production.interruptions[0]).toMatchObject({ kind: 'Approval', state: 'Pending' });
    await ok(stack.api('ci').api.releases[':id'].cancel.$post({ param: { id: production.releaseId! } }), [200, 202]);
  });

  it('declines at once when the evaluation fails, and nothing after it runs', async () => {
    const { release, production } = await releaseUntilDone(1000);
    expect(production.steps.map((s) => [s.status, s.result ?? null])).toEqual([['Failed', 'fail'], ['Failed', 'fail'], ['Skipped', null]]);
    expect(production.interruptions).toEqual([]);
    expect(production.status).toBe('Failed');
    // The release hears of its sequence's end once that workflow has closed, a moment after its view says so.
    const final = await ok(stack.api().api.releases[':id'].wait.$get({ param: { id: release.id }, query: { timeout: 30 } }), 200);
    expect(final.status).toBe('Failed');
  });

  it('reads a value a trigger gives as a label value, whatever it holds: it finds its series or nothing, never forges a pass', async () => {
    const region = `o'brien "eu" \\`;
    server.set('regional_response_time_ms', 120, { stage: 'production', region });
    await server.waitFor('count(regional_response_time_ms)', 1);
    const { production } = await started({ project: 'regional', release: uniqueRelease(), variables: { Region: region, Scale: '2' } });
    expect(production.steps[0]).toMatchObject({ status: 'Succeeded', result: 'pass', evaluation: { objectives: [{ value: 240 }] } });
    expect(production.steps[0]!.log).toContain(`region="o'brien \\"eu\\" \\\\"}) * 2`);

    // A value that would close the string and add `or vector(1)` (1 < 600: a pass) is a region nothing has.
    const forged = await started({ project: 'regional', release: uniqueRelease(), variables: { Region: '"} or vector(1) or {a="' } });
    expect(forged.production.status).toBe('Failed');
    expect(forged.production.steps[0]).toMatchObject({ status: 'Failed', result: 'fail' });
    expect(forged.production.steps[0]!.evaluation?.objectives[0]).toMatchObject({ value: null, message: expect.stringContaining('no data for max(regional_response_time_ms{stage="production", region="\\"} or vector(1) or {a=\\""})') });

    // Outside quotes only a number: the pattern refuses anything else when the release is triggered.
    await problem(stack.api('ci').api.releases.$post({ json: { project: 'regional', release: uniqueRelease(), variables: { Region: 'eu', Scale: '0 or vector(1)' } } }), 400);
  });
});
