/**
 * Keptn's quality gate: scoring SLI values against an SLO (docs/keptn.md, the evaluation task), exactly as
 * Keptn's lighthouse-service does it. Pure: no zod, no Temporal, no Node (it runs in the workflow
 * sandbox, where zod would cost 2 MB per cached workflow; see requests.ts).
 *
 * Read from keptn/keptn 1.4.5 (318a3d5): lighthouse-service/event_handler/evaluate_sli_handler.go
 * (`parseCriteriaString`, `evaluateObjectives`, `evaluateComparison`, `aggregateValues`,
 * `calculatePercentile`, `calculateScore`, `processGetSliFinishedEvent`) and its tests; `parseSLO` in
 * common.go (the defaults); keptn/go-utils pkg/lib/service_level_objectives.go (the file's fields);
 * keptn/spec service_level_objective.md; the bridge's truncate-number pipe (how a score is shown).
 */

export const EVALUATION_RESULTS = ['pass', 'warning', 'fail'] as const;
export type EvaluationResult = (typeof EVALUATION_RESULTS)[number];

export const COMPARE_WITH = ['single_result', 'several_results'] as const;
export const INCLUDE_RESULT_WITH_SCORE = ['all', 'pass', 'pass_or_warn'] as const;
export const AGGREGATE_FUNCTIONS = ['avg', 'p50', 'p90', 'p95'] as const;

/** A parsed SLO file as written (Keptn's defaults are applied here, not by the schema). */
export interface SloShape {
  spec_version?: string;
  filter?: Record<string, string>;
  comparison?: {
    compare_with?: (typeof COMPARE_WITH)[number];
    include_result_with_score?: (typeof INCLUDE_RESULT_WITH_SCORE)[number];
    number_of_comparison_results?: number;
    aggregate_function?: (typeof AGGREGATE_FUNCTIONS)[number];
  };
  objectives?: SloObjectiveShape[];
  total_score?: { pass?: string; warning?: string };
}

export interface SloObjectiveShape {
  sli: string;
  displayName?: string;
  /** Criteria sets: the objective is met when every criterion of any one set is (OR of ANDs). */
  pass?: { criteria: string[] }[];
  warning?: { criteria: string[] }[];
  weight?: number;
  key_sli?: boolean;
}

export interface SliValue {
  /** null: the SLI could not be fetched; `error` says why. */
  value: number | null;
  error?: string;
}

/** An earlier evaluation of the same project and stage, with the SLI values it fetched successfully. */
export interface PreviousEvaluation {
  result: EvaluationResult;
  score: number;
  values: Record<string, number>;
}

export interface CriterionResult {
  criterion: string;
  /** The value the SLI was compared with; for a relative criterion, computed from the previous values (0 when there were none, as in Keptn). */
  target: number;
  violated: boolean;
  /** Which criteria set (`pass[group]` or `warning[group]`) it belongs to. */
  group: number;
}

export interface ObjectiveResult {
  sli: string;
  /** The objective's displayName, else its SLI name. */
  displayName: string;
  value: number | null;
  weight: number;
  keySli: boolean;
  /** `info`: an objective without pass criteria, shown but not scored. */
  status: 'pass' | 'warning' | 'fail' | 'info';
  score: number;
  pass: CriterionResult[];
  warning: CriterionResult[];
  /** The aggregate of the previous values that relative criteria were compared with; absent when there were none. */
  comparedValue?: number;
  message?: string;
}

export interface Evaluation {
  result: EvaluationResult;
  /** 0..100, truncated to two decimals as Keptn's bridge shows it; the thresholds are checked before truncating, as lighthouse does. */
  score: number;
  totalScore: { pass: string; warning: string };
  objectives: ObjectiveResult[];
  /** How many previous evaluations were compared with. */
  comparedWith: number;
  message: string;
}

export const OPERATORS = ['<=', '<', '=', '>=', '>'] as const;
export type Operator = (typeof OPERATORS)[number];

/** Keptn's criteriaObject. */
export interface Criterion {
  operator: Operator;
  value: number;
  /** Compared with the previous evaluations: a sign (`<=+10`, `>-5`) or a percentage (`<10%`). */
  relative: boolean;
  percent: boolean;
  increase: boolean;
}

const NUMBER = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Keptn's criteria grammar (`parseCriteriaString`): spaces are ignored; an operator (`<`, `<=`, `=`,
 * `>=`, `>`), then a number. A leading `+` or `-` makes it relative to the previous evaluations, an
 * absolute change; a trailing `%` makes it a relative change in percent, `+` when unsigned (Keptn
 * issue #1498). So `<=600` is absolute, and a negative absolute threshold cannot be written.
 * Unlike Go's ParseFloat, `inf`, `nan` and hex numbers are refused.
 */
export function parseCriterion(text: string): { ok: true; criterion: Criterion } | { ok: false; error: string } {
  let rest = text.replaceAll(' ', '');
  // Keptn tries "<=" before "<" and "=" before ">=", which comes to the same for every valid criterion.
  const operator = OPERATORS.find((op) => rest.startsWith(op));
  if (!operator) return { ok: false, error: `"${text}" has no operator: start it with <, <=, =, >= or > (for example "<=${text.trim()}")` };
  rest = rest.slice(operator.length);
  const percent = rest.endsWith('%');
  if (percent) rest = rest.slice(0, -1);
  const sign = rest[0] === '+' || rest[0] === '-' ? rest[0] : '';
  rest = rest.slice(sign.length);
  if (!NUMBER.test(rest)) return { ok: false, error: `"${text}" does not compare with a number: write it like "<=600", "<+10%" or ">-5"` };
  return { ok: true, criterion: { operator, value: Number(rest), relative: percent || sign !== '', percent, increase: (percent || sign !== '') && sign !== '-' } };
}

/** `total_score.pass` / `.warning`: a number with an optional trailing `%` (Keptn trims one `%` and parses the rest). */
export function parsePercentage(text: string): number | undefined {
  const number = text.endsWith('%') ? text.slice(0, -1) : text;
  return /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(number) ? Number(number) : undefined;
}

function compare(measured: number, expected: number, operator: Operator): boolean {
  switch (operator) {
    case '<': return measured < expected;
    case '<=': return measured <= expected;
    case '=': return measured === expected;
    case '>=': return measured >= expected;
    case '>': return measured > expected;
  }
}

/** evaluateComparison's arithmetic, in its order (so the floating point results match). */
function targetOf(c: Criterion, baseline: number | undefined): number {
  if (!c.relative) return c.value;
  if (baseline === undefined) return 0;
  if (c.percent) return c.increase ? (baseline * (100 + c.value)) / 100 : (baseline * (100 - c.value)) / 100;
  return c.increase ? baseline + c.value : baseline - c.value;
}

/** calculatePercentile: position p·(n+1) in the sorted values, interpolated. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const pos = p * (sorted.length + 1);
  if (pos < 1) return sorted[0]!;
  if (pos >= sorted.length) return sorted[sorted.length - 1]!;
  const lower = sorted[Math.trunc(pos) - 1]!;
  return lower + (pos - Math.floor(pos)) * (sorted[Math.trunc(pos)]! - lower);
}

/** aggregateValues; undefined when there is nothing to compare with. An unknown function gives 0, as in Keptn. */
function aggregate(values: number[], fn: string): number | undefined {
  if (values.length === 0) return undefined;
  if (fn === 'avg') return values.reduce((sum, v) => sum + v, 0) / values.length;
  const p = { p50: 0.5, p90: 0.9, p95: 0.95 }[fn];
  return p === undefined ? 0 : percentile(values, p);
}

type Sets = { criteria: string[] }[] | undefined;

/**
 * evaluateOrCombinedCriteria: met when every criterion of one set is; every set is still evaluated
 * so each violation is shown. A relative criterion with nothing to compare with is met (Keptn's
 * `skip`: "if no comparison values are available, the evaluation passes").
 */
function evaluateSets(value: number, sets: Sets, baseline: number | undefined): { met: boolean; results: CriterionResult[] } | { error: string } {
  let met = false;
  const results: CriterionResult[] = [];
  for (const [group, set] of (sets ?? []).entries()) {
    let all = true;
    for (const text of set.criteria) {
      const parsed = parseCriterion(text);
      if (!parsed.ok) return { error: parsed.error };
      const { criterion } = parsed;
      const target = targetOf(criterion, baseline);
      const ok = criterion.relative && baseline === undefined ? true : compare(value, target, criterion.operator);
      if (!ok) all = false;
      results.push({ criterion: text, target, violated: !ok, group });
    }
    if (all) met = true;
  }
  return { met, results };
}

/**
 * getEmptyTargets: the criteria of an objective that was not evaluated (informative, or no value),
 * all marked violated as Keptn does. Keptn shows a relative criterion's baseline as its target
 * here; we show the target itself, as for an evaluated objective.
 */
const unevaluated = (sets: Sets, baseline: number | undefined): CriterionResult[] =>
  (sets ?? []).flatMap((set, group) =>
    set.criteria.flatMap((text) => {
      const parsed = parseCriterion(text);
      return parsed.ok ? [{ criterion: text, target: targetOf(parsed.criterion, baseline), violated: true, group }] : [];
    }),
  );

/** Keptn's bridge shows scores truncated, not rounded (AppUtils.truncateNumber). */
const truncate = (n: number) => Math.trunc(n * 100) / 100;

/**
 * Scores `values` against `slo` as lighthouse does. `previous` is every earlier evaluation of the
 * same project and stage, newest first; the SLO's `comparison` chooses which and how many count.
 */
export function evaluateSlo(slo: SloShape, values: Record<string, SliValue>, previous: PreviousEvaluation[]): Evaluation {
  // parseSLO's defaults: no comparison block at all compares with the one previous result; a block
  // without compare_with compares with 3 (processGetSliFinishedEvent), whatever the spec says.
  const comparison = slo.comparison;
  const include = (comparison?.include_result_with_score ?? 'all').toLowerCase();
  const count = !comparison || comparison.compare_with === 'single_result' ? 1
    : comparison.compare_with === 'several_results' ? comparison.number_of_comparison_results || 3 : 3;
  const fn = comparison?.aggregate_function || 'avg';
  // The datastore query: filtered by result, then the newest `count`.
  const compared = previous
    .filter((p) => include === 'pass' ? p.result === 'pass' : include === 'pass_or_warn' ? p.result !== 'fail' : true)
    .slice(0, count);

  const passTarget = slo.total_score?.pass ? parsePercentage(slo.total_score.pass) : undefined;
  const warningTarget = slo.total_score?.warning ? parsePercentage(slo.total_score.warning) : undefined;
  const totalScore = {
    pass: passTarget === undefined ? '' : `${passTarget}%`,
    warning: warningTarget === undefined ? '' : `${warningTarget}%`,
  };
  const failed = (message: string, objectives: ObjectiveResult[] = []): Evaluation =>
    ({ result: 'fail', score: 0, totalScore, objectives, comparedWith: compared.length, message });

  const objectives: ObjectiveResult[] = [];
  let maximum = 0;
  let keySliFailure: string | undefined;
  // parseSLO drops empty entries and reads a weight of 0 as 1.
  for (const objective of (slo.objectives ?? []).filter(Boolean)) {
    const weight = objective.weight || 1;
    const displayName = objective.displayName || objective.sli;
    const passSets = objective.pass ?? [];
    if (passSets.length > 0) maximum += weight;
    const history = compared.flatMap((p) => (Object.hasOwn(p.values, objective.sli) && Number.isFinite(p.values[objective.sli]) ? [p.values[objective.sli]!] : []));
    const baseline = aggregate(history, fn);
    const base = { sli: objective.sli, displayName, weight, keySli: objective.key_sli ?? false, ...(baseline === undefined ? {} : { comparedValue: baseline }) };
    const sli = Object.hasOwn(values, objective.sli) ? values[objective.sli] : undefined;
    const value = sli && sli.value !== null && Number.isFinite(sli.value) ? sli.value : null;

    if (passSets.length === 0) {
      objectives.push({ ...base, value, status: 'info', score: 0, pass: [], warning: unevaluated(objective.warning, baseline) });
      continue;
    }
    if (value === null) {
      const message = sli?.error || 'no value received from SLI provider';
      objectives.push({ ...base, value, status: 'fail', score: 0, pass: unevaluated(passSets, baseline), warning: unevaluated(objective.warning, baseline), message });
      if (base.keySli) keySliFailure = `Evaluation failed due to key_sli objective '${displayName}': ${message}`;
      continue;
    }
    const pass = evaluateSets(value, passSets, baseline);
    if ('error' in pass) return failed(`error with ${displayName}: ${pass.error}`);
    // A warning criterion Keptn cannot parse is ignored (its error is dropped), not an error.
    const warning = (objective.warning ?? []).length > 0 ? evaluateSets(value, objective.warning, baseline) : undefined;
    const warned = warning !== undefined && !('error' in warning) && warning.met;
    const status = pass.met ? 'pass' : warned ? 'warning' : 'fail';
    objectives.push({
      ...base, value, status, score: status === 'pass' ? weight : status === 'warning' ? 0.5 * weight : 0,
      pass: pass.results, warning: warning && !('error' in warning) ? warning.results : [],
    });
    // The last failing key SLI is the one named, as in Keptn.
    if (status === 'fail' && base.keySli) keySliFailure = `Evaluation failed due to key_sli objective '${displayName}': met neither its pass nor its warning criteria`;
  }

  // calculateScore, in its order.
  if (passTarget === undefined) return failed(slo.total_score?.pass ? 'could not parse pass target percentage' : 'no target score defined', objectives);
  if (slo.total_score?.warning && warningTarget === undefined) return failed('could not parse warning target percentage', objectives);
  if (objectives.length === 0) return failed('no SLO objective was provided');
  let result: EvaluationResult;
  let raw: number;
  let message: string;
  if (maximum === 0) {
    [result, raw, message] = ['pass', 100, 'Evaluation passed: no objective has pass criteria, so nothing was scored'];
  } else {
    // Only objectives with pass targets count (an empty criteria list passes but adds nothing).
    raw = 100 * (objectives.reduce((sum, o) => sum + (o.pass.length > 0 ? o.score : 0), 0) / maximum);
    const shown = truncate(raw);
    if (raw >= passTarget && !keySliFailure) {
      [result, message] = ['pass', `Evaluation passed: the calculated score of ${shown} reaches the pass target of ${passTarget}`];
    } else if (warningTarget !== undefined && !keySliFailure) {
      [result, message] = raw >= warningTarget
        ? ['warning', `Evaluation returned a warning: the calculated score of ${shown} is close to the warning target value of ${warningTarget}`]
        : ['fail', `Evaluation failed since the calculated score of ${shown} is below the warning value of ${warningTarget}`];
    } else {
      [result, message] = ['fail', keySliFailure ?? `Evaluation failed since the calculated score of ${shown} is below the target value of ${passTarget}`];
    }
  }
  // Keptn's prometheus-service reports its get-sli as failed when no SLI could be fetched, and
  // lighthouse then fails the evaluation whatever the score.
  const fetched = objectives.filter((o) => Object.hasOwn(values, o.sli));
  if (fetched.length > 0 && fetched.every((o) => o.value === null)) {
    [result, message] = ['fail', `Evaluation failed since no SLI value could be fetched (${fetched.map((o) => o.sli).join(', ')})`];
  }
  return { result, score: truncate(raw), totalScore, objectives, comparedWith: compared.length, message };
}

/**
 * What a finished evaluation leaves for later ones to compare with: its result and every value it
 * fetched, scored or not (lighthouse compares with each previous indicator result that succeeded).
 */
export function asPrevious(evaluation: Evaluation): PreviousEvaluation {
  const values: Record<string, number> = {};
  for (const o of evaluation.objectives) if (o.value !== null) values[o.sli] = o.value;
  return { result: evaluation.result, score: evaluation.score, values };
}

const show = (n: number) => (Number.isInteger(n) || Math.abs(n) >= 1e6 ? String(Math.round(n * 1e6) / 1e6) : String(Number(n.toPrecision(6))));

function criteriaText(results: CriterionResult[], objective: ObjectiveResult): string {
  if (results.length === 0) return '-';
  const evaluated = objective.status !== 'info' && objective.value !== null;
  const groups: string[][] = [];
  for (const r of results) {
    const parsed = parseCriterion(r.criterion);
    const relative = parsed.ok && parsed.criterion.relative;
    const target = !relative ? '' : objective.comparedValue === undefined ? ' (no previous value)' : ` (${show(r.target)})`;
    (groups[r.group] ??= []).push(`${r.criterion}${target}${evaluated && r.violated ? ' ✗' : ''}`);
  }
  return groups.filter(Boolean).map((group) => group.join(' and ')).join(' or ');
}

/**
 * The per-objective table of a step's log: SLI, value, pass and warning criteria (relative ones with
 * the target they came to, violated ones marked ✗), result and score; then the total.
 */
export function formatEvaluation(evaluation: Evaluation): string {
  const rows = [
    ['SLI', 'Value', 'Pass', 'Warning', 'Result', 'Score'],
    ...evaluation.objectives.map((o) => [
      o.keySli ? `${o.displayName} (key)` : o.displayName,
      o.value === null ? 'no value' : show(o.value),
      criteriaText(o.pass, o),
      criteriaText(o.warning, o),
      o.status,
      o.status === 'info' ? '-' : `${show(o.score)}/${o.weight}`,
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const lines = rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd());
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  for (const o of evaluation.objectives) if (o.message) lines.push(`${o.displayName}: ${o.message}`);
  const { pass, warning } = evaluation.totalScore;
  const thresholds = [pass && `pass ≥ ${pass}`, warning && `warning ≥ ${warning}`].filter(Boolean).join(', ');
  lines.push(`Score ${evaluation.score} of 100: ${evaluation.result}${thresholds ? ` (${thresholds})` : ''}`);
  const compared = evaluation.comparedWith;
  lines.push(compared === 0 ? 'Compared with no previous evaluation.' : `Compared with ${compared} previous evaluation${compared === 1 ? '' : 's'}.`);
  if (evaluation.message) lines.push(evaluation.message);
  return `${lines.join('\n')}\n`;
}
