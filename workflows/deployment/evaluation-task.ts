import { ActivityFailure, ApplicationFailure, patched, proxyActivities, upsertMemo } from '@temporalio/workflow';
import type { Activities } from '../activity-contract.js';
import type { EvaluationStep } from '../../config/schema.js';
import { formatDuration } from '../../core/durations.js';
import { keptnScope } from '../outbox.js';
import { maskText, secretsOf } from '../../core/masking.js';
import { EVALUATION_MEMO, type SliSourceInput, type StepView } from '../messages.js';
import { isConfigValue, NUMBER_OR_DURATION, substitutePromql } from '../../core/promql-quoting.js';
import { toShell } from '../../core/shell-quoting.js';
import { asPrevious, evaluateSlo, formatEvaluation, type SliValue } from '../../core/slo-scoring.js';
import { finishStep, type DeploymentState } from './deployment-state.js';
import type { StepOutcome } from './run-step.js';
import { describeUnknown, substitute, type Variables } from '../../core/substitution.js';

const { fetchSli } = proxyActivities<Activities>({
  startToCloseTimeout: '2m',
  retry: { maximumAttempts: 3, initialInterval: '2s' },
  summary: 'SLI',
});
const { previousEvaluations } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 2, initialInterval: '500ms' },
  summary: 'earlier evaluations',
});

/**
 * Keptn's quality gate (docs/keptn.md): each SLI's value from its source (fetched side by side), the
 * earlier evaluations of this stage for relative criteria, then the project's SLO scored as
 * Keptn's lighthouse scores it. The step's result is the evaluation's; the per-objective table is
 * its log and is in the view. Its values go in the memo, for the next evaluation to compare with.
 */
export async function runEvaluation(deployment: DeploymentState, step: EvaluationStep, view: StepView): Promise<StepOutcome> {
  const quality = deployment.input.quality;
  if (!quality) {
    finishStep(view, 'Failed', 'Cannot start: the project has no slo: to evaluate.');
    view.result = 'fail';
    return 'Failed';
  }
  const end = new Date();
  const start = new Date(end.getTime() - step.timeframe);
  const variables: Variables = {
    ...deployment.variables,
    'Evaluation.Timeframe': formatDuration(step.timeframe).replaceAll(' ', ''),
    'Evaluation.Start': start.toISOString(),
    'Evaluation.End': end.toISOString(),
  };
  const names = [...new Set((quality.slo.objectives ?? []).map((objective) => objective.sli))];
  const secrets = secretsOf(deployment.variables, deployment.input.sensitive);
  // Evaluations that ran before values were kept to PromQL's strings replay as they ran. A deployment
  // that does not say which values a trigger set (it started before they were recorded) trusts none.
  const prompted = deployment.input.prompted ?? Object.keys(deployment.variables);
  const quoting: Quoting = patched(PROMQL_VALUES_ARE_DATA) ? { prompted } : 'legacy';
  const fetched = await Promise.all(names.map(async (name): Promise<[string, SliValue, string]> => {
    const source = Object.hasOwn(quality.sli, name) ? quality.sli[name] : undefined;
    if (!source) return [name, { value: null, error: `no source for SLI "${name}" in the project's sli:` }, ''];
    const request = sliRequest(name, source, variables, step.timeout, quoting);
    if ('error' in request) return [name, { value: null, error: maskText(request.error, secrets) }, ''];
    try {
      const { value, log } = await fetchSli({ ...request.input, ...(secrets.length > 0 ? { mask: secrets } : {}) });
      return [name, { value }, maskText(log, secrets)];
    } catch (error) {
      return [name, { value: null, error: maskText(failureMessage(error), secrets) }, ''];
    }
  }));
  const scope = keptnScope(deployment);
  // Without earlier evaluations relative criteria pass, as in Keptn; a visibility that cannot answer is said so in the log.
  let history = '';
  const previous = await previousEvaluations({ project: scope.project, stage: scope.stage, excludeId: deployment.input.id, limit: 20 }).catch((error: unknown) => {
    history = `\nEarlier evaluations could not be read (${failureMessage(error)}); relative criteria were compared with none.`;
    return [];
  });
  const evaluation = evaluateSlo(quality.slo, Object.fromEntries(fetched.map(([name, value]) => [name, value])), previous);
  upsertMemo({ [EVALUATION_MEMO]: asPrevious(evaluation) });
  view.evaluation = evaluation;
  view.result = evaluation.result;
  // What each source was asked and answered, under its value: the query or the script's output.
  const sources = fetched.map(([name, value, log]) => `${name}: ${value.value ?? value.error}${log.trim() ? `\n${log.trim().replace(/^/gm, '    ')}` : ''}`).join('\n');
  finishStep(view, evaluation.result === 'fail' ? 'Failed' : 'Succeeded', `${formatEvaluation(evaluation)}\n\nSLI values:\n${sources}${history}\n`);
  return evaluation.result === 'fail' ? 'Failed' : 'Succeeded';
}

type SliRequest = { input: Parameters<typeof fetchSli>[0] } | { error: string };

/** Values are data in a query (`promql.ts`): the names a trigger could set. `legacy`: the escaping of evaluations recorded before. */
type Quoting = { prompted: readonly string[] } | 'legacy';

const PROMQL_VALUES_ARE_DATA = 'promql-values-are-data';

/**
 * The activity's input for one SLI, variables substituted: in a script as data (docs/configuration.md); in a
 * query as the content of the string literal that quotes it, and outside quotes only a value of the
 * config's or Interlock's own, or a number or a duration (the config loader refuses other
 * placeholders there; this holds for deployments that started under an older config too).
 */
function sliRequest(name: string, source: SliSourceInput, variables: Variables, timeoutMs: number, quoting: Quoting): SliRequest {
  if ('script' in source) {
    const shell = toShell(source.script, variables);
    if (!shell.ok) return { error: describeUnknown(shell.unknown) };
    return { input: { name, source: { script: shell.script, env: shell.env, timeoutMs: source.timeout ?? timeoutMs } } };
  }
  if (quoting !== 'legacy') {
    const bare = (variable: string, value: string) => isConfigValue(variable, quoting.prompted) || NUMBER_OR_DURATION.test(value);
    const query = substitutePromql(source.prometheus.query, variables, bare);
    if (!query.ok) return { error: 'refused' in query ? `the query was not sent: ${query.refused}` : describeUnknown(query.unknown) };
    return { input: { name, source: { prometheus: { url: source.prometheus.url, query: query.text }, timeoutMs } } };
  }
  const escaped = Object.fromEntries(Object.entries(variables).map(([key, value]) => [key, value.replace(/[\\"'`]/g, (char) => `\\${char}`)]));
  const query = substitute(source.prometheus.query, escaped);
  if (!query.ok) return { error: describeUnknown(query.unknown) };
  return { input: { name, source: { prometheus: { url: source.prometheus.url, query: query.text }, timeoutMs } } };
}

function failureMessage(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) return cause.message;
  return error instanceof Error ? error.message : String(error);
}
