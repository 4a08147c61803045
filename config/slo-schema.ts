import { z } from 'zod';
import {
  AGGREGATE_FUNCTIONS,
  COMPARE_WITH,
  INCLUDE_RESULT_WITH_SCORE,
  parseCriterion,
  parsePercentage,
  type SloShape,
} from '../core/slo-scoring.js';
import { allowsOnlyNumbers, isConfigValue, promqlPlaceholders } from '../core/promql-quoting.js';
import { parseDuration } from '../core/durations.js';
import type { ProjectVariable } from './schema.js';
import { BUILT_IN_VARIABLES, definitionOf, isOutputVariable } from './project-variables.js';

// The grammar of criteria and percentages lives in core/slo-scoring.ts, which is pure (no zod, no
// Temporal), so the workflow that scores and this schema that checks read a criterion the same way.

/** Keptn reads the file into Go strings, which take any YAML scalar: `pass: 90` is "90". */
const Text = z.union([z.string(), z.number()]).transform(String);

const CriterionText = Text.superRefine((text, ctx) => {
  const parsed = parseCriterion(text);
  if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.error });
});

const Percentage = Text.refine((text) => parsePercentage(text) !== undefined, 'a percentage like "90%" (or 90)');

/** Extra fields are kept and ignored, as Keptn's YAML reader does. */
const CriteriaSetSchema = z.looseObject({ criteria: z.array(CriterionText) });

export const SloObjectiveSchema = z.looseObject({
  sli: z.string().min(1),
  displayName: z.string().optional(),
  /** Without pass criteria the objective is informative: shown, not scored. */
  pass: z.array(CriteriaSetSchema).optional(),
  warning: z.array(CriteriaSetSchema).optional(),
  /** Default 1; Keptn reads 0 as 1 too. */
  weight: z.number().int().min(0).optional(),
  key_sli: z.boolean().optional(),
});

/**
 * A Keptn SLO file (spec.keptn.sh SLO 0.1.x / spec_version 1.0), accepted as Keptn's lighthouse
 * accepts it: unknown fields ignored, empty objective entries dropped, defaults left to the scoring
 * (core/slo-scoring.ts) so the parsed file is still the file as written. Stricter than lighthouse where
 * it would fail or silently misread at run time: criteria must parse, `total_score.pass` is
 * required, and the comparison's words must be Keptn's (lighthouse computes an unknown aggregate
 * function as 0).
 */
export const SloSchema = z.looseObject({
  spec_version: Text.optional(),
  filter: z.record(z.string(), Text).optional(),
  comparison: z
    .looseObject({
      compare_with: z.enum(COMPARE_WITH).optional(),
      // Keptn lower-cases this one (getPreviousEvaluations) and no other.
      include_result_with_score: z.string().transform((text) => text.toLowerCase()).pipe(z.enum(INCLUDE_RESULT_WITH_SCORE)).optional(),
      number_of_comparison_results: z.number().int().positive().optional(),
      aggregate_function: z.enum(AGGREGATE_FUNCTIONS).optional(),
    })
    .optional(),
  objectives: z
    .array(SloObjectiveSchema.nullable())
    .default([])
    .transform((objectives) => objectives.filter((objective) => objective !== null)),
  total_score: z.looseObject({ pass: Percentage, warning: Percentage.optional() }, {
    error: (issue) => (issue.input === undefined ? 'required: Keptn fails every evaluation without total_score.pass' : undefined),
  }),
});
export type Slo = z.infer<typeof SloSchema>;

// What the schema gives is what the scoring takes (a compile-time check).
({}) as Slo satisfies SloShape;

const Duration = z
  .string()
  .refine((text) => parseDuration(text) !== undefined, 'a duration like 30s, 10m or 1h30m')
  .transform((text) => parseDuration(text)!);

export const SliSourceSchema = z.union([
  /** A script whose last line of standard output that is a number is the value; `#{Name}` as in `run`. */
  z.strictObject({ script: z.string().min(1), timeout: Duration.default(60_000) }),
  /** A Prometheus instant query; `#{Name}` is substituted in the query, as data where the query quotes it (`sliQueryProblems`). */
  z.strictObject({
    prometheus: z.strictObject({
      url: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL of the Prometheus server' }),
      query: z.string().min(1),
    }),
  }),
], { error: 'either { script, timeout? } or { prometheus: { url, query } }' });
export type SliSource = z.infer<typeof SliSourceSchema>;

/** A project's `sli:` map: SLI name → where its value comes from. */
export const SliSchema = z.record(z.string().min(1), SliSourceSchema);
export type Sli = z.infer<typeof SliSchema>;

/**
 * What only the SLO and the SLI map together can tell. Keptn fails an objective whose SLI has no
 * value ("no value received from SLI provider"), and a whole evaluation without objectives, only
 * when it runs; a config checker says so up front. Paths are relative to the SLO.
 */
export function sloProblems(slo: Slo, sli: Sli): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  if (slo.objectives.length === 0) problems.push({ path: ['objectives'], message: 'no objectives: Keptn fails every evaluation of an SLO without any' });
  const names = Object.keys(sli);
  slo.objectives.forEach((objective, i) => {
    if (!Object.hasOwn(sli, objective.sli)) {
      const known = names.length > 0 ? `it has ${names.map((name) => `"${name}"`).join(', ')}` : 'it is empty';
      problems.push({ path: ['objectives', i, 'sli'], message: `unknown SLI "${objective.sli}": not in the project's sli map (${known})` });
    }
  });
  return problems;
}

/** What an evaluation adds to the variables a query may name. */
export const EVALUATION_VARIABLES = ['Evaluation.Timeframe', 'Evaluation.Start', 'Evaluation.End'] as const;

/**
 * Placeholders that stand outside quotes in a Prometheus query, where a value would be PromQL
 * (`> #{Threshold}` given `0 or vector(1)` forges a pass). Only these may stand there: a value the
 * config or Interlock sets (a project variable that is not prompted, `Project`, `Environment`,
 * `Stage`, `Sequence`, `Interlock.Url`, `Evaluation.*`), or a prompted variable whose `pattern`
 * allows only a number or a duration. `Release`, `Deployment.Id` and `Release.Id` (which hold the
 * release), prompted variables and step outputs go in quotes. Paths are relative to the SLI map.
 */
export function sliQueryProblems(sli: Sli, variables: Record<string, ProjectVariable>): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  // This also runs on a partly invalid config: a malformed variable or source is said elsewhere.
  const definition = (name: string) => {
    const variable = variables[name];
    return typeof variable === 'string' || (typeof variable === 'object' && variable !== null) ? definitionOf(variable) : undefined;
  };
  const prompted = Object.keys(variables).filter((name) => definition(name)?.prompted);
  const known = (name: string) => Object.hasOwn(variables, name) || (BUILT_IN_VARIABLES as readonly string[]).includes(name) || (EVALUATION_VARIABLES as readonly string[]).includes(name) || isOutputVariable(name);
  for (const [name, source] of Object.entries(sli)) {
    const query: unknown = (source as { prometheus?: { query?: unknown } } | null)?.prometheus?.query;
    if (typeof query !== 'string') continue;
    const outside = promqlPlaceholders(query).filter((placeholder) => placeholder.context === 'code');
    for (const placeholder of new Map(outside.map((p) => [p.name, p])).values()) {
      const reference = `#{${placeholder.name}}`;
      const quoteIt = `quote it ("${reference}") to pass it as a string`;
      let why: string | undefined;
      if (!known(placeholder.name)) why = `${reference} stands outside quotes and is no variable of the project`;
      else if (prompted.includes(placeholder.name)) {
        const pattern = definition(placeholder.name)?.pattern;
        if (typeof pattern !== 'string' || !allowsOnlyNumbers(pattern)) {
          why = `${reference} stands outside quotes, where a value a trigger gives would be PromQL ("0 or vector(1)"): ${quoteIt}, or give the variable a pattern that allows only a number or a duration, such as "[0-9]+(\\.[0-9]+)?"${pattern === undefined ? '' : ` (its pattern "${pattern}" allows more)`}`;
        }
      } else if (!isConfigValue(placeholder.name, prompted)) {
        const from = isOutputVariable(placeholder.name) ? 'a step\'s output, which people write' : 'it holds the release, which whoever triggers chooses';
        why = `${reference} stands outside quotes, where its value would be PromQL (${from}): ${quoteIt}`;
      }
      if (why) problems.push({ path: [name, 'prometheus', 'query'], message: why });
    }
  }
  return problems;
}
