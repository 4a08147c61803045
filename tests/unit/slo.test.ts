import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { SliSchema, SloSchema, sloProblems } from '../../config/slo-schema.js';
import {
  asPrevious,
  type Evaluation,
  evaluateSlo,
  formatEvaluation,
  parseCriterion,
  type PreviousEvaluation,
  type SloObjectiveShape,
  type SloShape,
} from '../../core/slo-scoring.js';

// Keptn's quality gate, checked against Keptn's own cases: "lighthouse" names a test of
// keptn/keptn lighthouse-service/event_handler/evaluate_sli_handler_test.go (1.4.5), "spec" the
// examples of keptn/spec service_level_objective.md.

const TOTAL = { pass: '90%', warning: '75%' };
const sloOf = (objectives: SloObjectiveShape[], extra: Partial<SloShape> = {}): SloShape => ({ objectives, total_score: TOTAL, ...extra });
const previous = (result: PreviousEvaluation['result'], values: Record<string, number>): PreviousEvaluation => ({ result, score: 0, values });
const SEVERAL_PASS_2: SloShape['comparison'] = { compare_with: 'several_results', include_result_with_score: 'pass', number_of_comparison_results: 2, aggregate_function: 'avg' };

/** One objective on SLI `m` with these pass criteria sets; its result. */
function objective(pass: string[][], value: number | null, history: number[] = [], comparison = SEVERAL_PASS_2) {
  const evaluation = evaluateSlo(
    sloOf([{ sli: 'm', pass: pass.map((criteria) => ({ criteria })) }], { comparison }),
    { m: { value } },
    history.map((v) => previous('pass', { m: v })),
  );
  return evaluation.objectives[0]!;
}
const met = (criteria: string, value: number, history: number[] = []) => objective([[criteria]], value, history).status === 'pass';

describe('parseCriterion: Keptn\'s grammar (lighthouse TestParseCriteriaString)', () => {
  it.each([
    ['<10', '<', 10, false, false, false],
    ['<=10', '<=', 10, false, false, false],
    ['=10', '=', 10, false, false, false],
    ['>=10', '>=', 10, false, false, false],
    ['>10', '>', 10, false, false, false],
    ['>-10%', '>', 10, true, true, false],
    ['<=+10.5%', '<=', 10.5, true, true, true],
    ['<=+10', '<=', 10, true, false, true],
    ['  <=+10   %', '<=', 10, true, true, true],
    // A percentage is always relative, an increase when unsigned (Keptn issue #1498).
    ['  <=10%', '<=', 10, true, true, true],
  ])('%j', (text, operator, value, relative, percent, increase) => {
    expect(parseCriterion(text)).toEqual({ ok: true, criterion: { operator, value, relative, percent, increase } });
  });

  it('refuses a criterion without an operator, and says how to write it', () => {
    expect(parseCriterion('600')).toEqual({ ok: false, error: '"600" has no operator: start it with <, <=, =, >= or > (for example "<=600")' });
  });

  it.each(['<=abc', '<', '<=1.2.3', '=>5', '<=inf', '<++5'])('refuses %j', (text) => {
    expect(parseCriterion(text)).toMatchObject({ ok: false, error: expect.stringContaining(`"${text}"`) });
  });
});

describe('absolute criteria (lighthouse TestEvaluateValue, TestEvaluateFixedThreshold)', () => {
  it.each([
    ['>9', 10, true],
    ['>=10', 10, true],
    ['<=10', 10, true],
    ['<10', 10, false],
    ['>10', 10, false],
    ['=9.0', 10, false],
    ['=10', 10, true],
  ])('%s for %d: %s', (criteria, value, expected) => {
    expect(met(criteria, value)).toBe(expected);
  });

  it('has the threshold itself as target', () => {
    expect(objective([['<=600']], 700).pass).toEqual([{ criterion: '<=600', target: 600, violated: true, group: 0 }]);
  });
});

describe('relative criteria (lighthouse TestEvaluateComparison, TestEvaluateSingleCriteria)', () => {
  it('<=+10% of the average of the previous values', () => {
    expect(objective([['<=+10%']], 10, [10, 10]).pass).toEqual([{ criterion: '<=+10%', target: 11, violated: false, group: 0 }]);
    expect(met('<=+10%', 11.01, [10, 10])).toBe(false);
  });

  it('a change of 0% allows no change either way with < and >', () => {
    expect(met('<+0%', 10, [10, 10])).toBe(false);
    expect(met('>+0%', 10, [10, 10])).toBe(false);
  });

  it('an absolute change: =+1 and =-1, <=+5', () => {
    expect(met('=+1', 11, [10, 10])).toBe(true);
    expect(met('=-1', 9, [10, 10])).toBe(true);
    expect(objective([['<=+5']], 104, [100]).pass[0]).toEqual({ criterion: '<=+5', target: 105, violated: false, group: 0 });
    expect(met('<=+5', 106, [100])).toBe(false);
  });

  it('>-20%: a drop of less than 20%', () => {
    expect(objective([['>-20%']], 85, [100]).pass[0]!.target).toBe(80);
    expect(met('>-20%', 85, [100])).toBe(true);
    expect(met('>-20%', 79, [100])).toBe(false);
  });

  it('spec: the previous value was 5, so "<=+10%" and "<600" pass up to 5.5, and "<=800" warns above', () => {
    const spec: SloShape = sloOf([{ sli: 'response_time_p95', displayName: 'Response Time P95', pass: [{ criteria: ['<=+10%', '<600'] }], warning: [{ criteria: ['<=800'] }], weight: 2, key_sli: true }]);
    const at = (value: number) => evaluateSlo(spec, { response_time_p95: { value } }, [previous('pass', { response_time_p95: 5 })]).objectives[0]!;
    expect(at(5.5)).toMatchObject({ status: 'pass', score: 2, comparedValue: 5 });
    expect(at(5.6)).toMatchObject({ status: 'warning', score: 1 });
  });
});

describe('no previous result to compare with', () => {
  it('lighthouse "BUG 1125": a relative criterion passes with target 0; the absolute one still counts', () => {
    const result = objective([['<=+20%', '<500']], 1011.0745528937252, []);
    expect(result.pass).toEqual([
      { criterion: '<=+20%', target: 0, violated: false, group: 0 },
      { criterion: '<500', target: 500, violated: true, group: 0 },
    ]);
    expect(result.status).toBe('fail');
    expect(result.comparedValue).toBeUndefined();
  });

  it('lighthouse "BUG 1263": a previous evaluation whose SLI failed has nothing to compare with either', () => {
    const evaluation = evaluateSlo(
      sloOf([{ sli: 'response_time_p50', pass: [{ criteria: ['<=+20%'] }] }], { comparison: { compare_with: 'single_result', include_result_with_score: 'pass' } }),
      { response_time_p50: { value: 100 } },
      [previous('pass', { other: 1 })],
    );
    expect(evaluation.objectives[0]).toMatchObject({ status: 'pass', score: 1 });
    expect(evaluation).toMatchObject({ result: 'pass', score: 100, comparedWith: 1 });
  });

  it('the first evaluation ever passes on relative criteria alone', () => {
    expect(evaluateSlo(sloOf([{ sli: 'm', pass: [{ criteria: ['<=+10%'] }] }]), { m: { value: 1e9 } }, [])).toMatchObject({ result: 'pass', score: 100, comparedWith: 0 });
  });
});

describe('which previous evaluations are compared with', () => {
  // Newest first: what the datastore query gives lighthouse.
  const history = [previous('fail', { m: 1000 }), previous('pass', { m: 10 }), previous('warning', { m: 20 }), previous('pass', { m: 30 })];
  const baseline = (comparison: SloShape['comparison']) => {
    const evaluation = evaluateSlo(sloOf([{ sli: 'm', pass: [{ criteria: ['<=+0%'] }] }], { comparison }), { m: { value: 1 } }, history);
    return [evaluation.objectives[0]!.comparedValue, evaluation.comparedWith];
  };

  it('include_result_with_score: pass, pass_or_warn or all, then the newest number_of_comparison_results', () => {
    expect(baseline({ compare_with: 'several_results', include_result_with_score: 'pass', number_of_comparison_results: 2 })).toEqual([20, 2]);
    expect(baseline({ compare_with: 'several_results', include_result_with_score: 'pass_or_warn', number_of_comparison_results: 2 })).toEqual([15, 2]);
    expect(baseline({ compare_with: 'several_results', include_result_with_score: 'all', number_of_comparison_results: 2 })).toEqual([505, 2]);
  });

  it('single_result is the newest one, whatever number_of_comparison_results says (spec)', () => {
    expect(baseline({ compare_with: 'single_result', number_of_comparison_results: 3 })).toEqual([1000, 1]);
    expect(baseline({ compare_with: 'single_result', include_result_with_score: 'pass' })).toEqual([10, 1]);
  });

  it('lighthouse\'s defaults (common.go parseSLO): no comparison is single_result; several_results without a number is 3', () => {
    expect(baseline(undefined)).toEqual([1000, 1]);
    expect(baseline({ compare_with: 'several_results' })).toEqual([(1000 + 10 + 20) / 3, 3]);
  });

  it('a comparison block without compare_with compares with 3, as processGetSliFinishedEvent does', () => {
    expect(baseline({ include_result_with_score: 'pass' })).toEqual([(10 + 30) / 2, 2]);
    expect(baseline({ aggregate_function: 'avg' })).toEqual([(1000 + 10 + 20) / 3, 3]);
  });

  it('fewer previous evaluations than asked for are used as they are (the example SLO\'s comment says it fails; the code does not)', () => {
    expect(baseline({ compare_with: 'several_results', include_result_with_score: 'pass', number_of_comparison_results: 5 })).toEqual([20, 2]);
  });

  it('aggregate_function p50, p90, p95 (lighthouse TestCalculatePercentile: 5, 9.8 and 10 of 0..10)', () => {
    const eleven = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((v) => previous('pass', { m: v }));
    const at = (aggregate_function: 'p50' | 'p90' | 'p95' | 'avg') =>
      evaluateSlo(sloOf([{ sli: 'm', pass: [{ criteria: ['<=+0%'] }] }], { comparison: { compare_with: 'several_results', number_of_comparison_results: 11, aggregate_function } }), { m: { value: 9.9 } }, eleven).objectives[0]!;
    expect(at('p50').comparedValue).toBe(5);
    expect(at('p90')).toMatchObject({ comparedValue: 9.8, status: 'fail', pass: [{ target: expect.closeTo(9.8, 10), violated: true }] });
    expect(at('p95')).toMatchObject({ comparedValue: 10, status: 'pass' });
    expect(at('avg').comparedValue).toBe(5);
  });
});

describe('criteria sets: OR of ANDs (lighthouse TestEvaluateCriteriaSet, TestEvaluateOrCombinedCriteria)', () => {
  it('every criterion of a set must hold', () => {
    expect(objective([['<=+10%', '<=10.0']], 10, [10, 10]).status).toBe('pass');
    expect(objective([['<=+10%', '<=10.0']], 11, [10, 10]).status).toBe('fail');
  });

  it('one set that holds is enough; every set is still shown', () => {
    const result = objective([['<=10.0'], ['<=+10%']], 11, [10, 10]);
    expect(result.status).toBe('pass');
    expect(result.pass).toEqual([
      { criterion: '<=10.0', target: 10, violated: true, group: 0 },
      { criterion: '<=+10%', target: 11, violated: false, group: 1 },
    ]);
    expect(objective([['<=10.0'], ['<=+10%']], 20, [10, 10]).status).toBe('fail');
  });

  it('an empty criteria list holds, but adds nothing to the score: Keptn counts only objectives with targets', () => {
    const evaluation = evaluateSlo(sloOf([{ sli: 'a', pass: [{ criteria: [] }] }, { sli: 'b', pass: [{ criteria: ['<1'] }] }]), { a: { value: 5 }, b: { value: 0 } }, []);
    expect(evaluation.objectives.map((o) => [o.status, o.score])).toEqual([['pass', 1], ['pass', 1]]);
    expect(evaluation).toMatchObject({ score: 50, result: 'fail' });
  });
});

describe('objectives, weights and the total score', () => {
  const twoSets = { pass: [{ criteria: ['<=15.0'] }, { criteria: ['<=+10%'] }], warning: [{ criteria: ['<=20.0'] }, { criteria: ['<=+15%'] }] };

  it('lighthouse "Simple comparison evaluation": a pass scores its weight', () => {
    const evaluation = evaluateSlo(sloOf([{ sli: 'my-test-metric-1', ...twoSets, weight: 1 }], { comparison: SEVERAL_PASS_2 }), { 'my-test-metric-1': { value: 10 } }, [previous('pass', { 'my-test-metric-1': 10 })]);
    expect(evaluation.objectives[0]).toEqual({
      sli: 'my-test-metric-1', displayName: 'my-test-metric-1', value: 10, weight: 1, keySli: false, status: 'pass', score: 1, comparedValue: 10,
      pass: [{ criterion: '<=15.0', target: 15, violated: false, group: 0 }, { criterion: '<=+10%', target: 11, violated: false, group: 1 }],
      warning: [{ criterion: '<=20.0', target: 20, violated: false, group: 0 }, { criterion: '<=+15%', target: 11.5, violated: false, group: 1 }],
    });
    expect(evaluation).toMatchObject({ result: 'pass', score: 100, comparedWith: 1, totalScore: TOTAL });
  });

  it('lighthouse "Expect Warning": meeting only the warning criteria scores half the weight', () => {
    const evaluation = evaluateSlo(sloOf([{ sli: 'my-test-metric-1', ...twoSets, weight: 1 }], { comparison: SEVERAL_PASS_2 }), { 'my-test-metric-1': { value: 16 } }, [previous('pass', { 'my-test-metric-1': 10 })]);
    expect(evaluation.objectives[0]).toMatchObject({
      status: 'warning', score: 0.5,
      pass: [{ target: 15, violated: true }, { target: 11, violated: true }],
      warning: [{ target: 20, violated: false }, { target: 11.5, violated: true }],
    });
    expect(evaluation).toMatchObject({ result: 'fail', score: 50, message: 'Evaluation failed since the calculated score of 50 is below the warning value of 75' });
  });

  it('a weight counts pass as the whole weight, warning as half (and Keptn reads weight 0 as 1)', () => {
    const evaluation = evaluateSlo(
      sloOf([{ sli: 'a', pass: [{ criteria: ['<1'] }], weight: 2 }, { sli: 'b', pass: [{ criteria: ['<1'] }], warning: [{ criteria: ['<2'] }], weight: 0 }]),
      { a: { value: 0 }, b: { value: 1.5 } },
      [],
    );
    expect(evaluation.objectives.map((o) => [o.status, o.score, o.weight])).toEqual([['pass', 2, 2], ['warning', 0.5, 1]]);
    expect(evaluation).toMatchObject({ result: 'warning', score: 83.33, message: 'Evaluation returned a warning: the calculated score of 83.33 is close to the warning target value of 75' });
  });

  it('spec: a result of 85 of a maximum of 92 is a total score of 92.39%, a pass', () => {
    const evaluation = evaluateSlo(sloOf([{ sli: 'a', pass: [{ criteria: ['<1'] }], weight: 85 }, { sli: 'b', pass: [{ criteria: ['<1'] }], weight: 7 }]), { a: { value: 0 }, b: { value: 5 } }, []);
    expect(evaluation).toMatchObject({ result: 'pass', score: 92.39 });
  });

  it('thresholds are ">=" (spec); at exactly the warning threshold it warns, just below it fails (lighthouse "Non-Key SLI warning"/"fail")', () => {
    const at = (passing: number, failing: number) => evaluateSlo(sloOf([{ sli: 'a', pass: [{ criteria: ['<1'] }], weight: passing }, { sli: 'b', pass: [{ criteria: ['<1'] }], weight: failing }]), { a: { value: 0 }, b: { value: 5 } }, []);
    expect(at(9, 1)).toMatchObject({ result: 'pass', score: 90 });
    expect(at(3, 1)).toMatchObject({ result: 'warning', score: 75 });
    expect(at(74, 26)).toMatchObject({ result: 'fail', score: 74, message: 'Evaluation failed since the calculated score of 74 is below the warning value of 75' });
  });

  it('without a warning threshold, below pass is a fail', () => {
    const evaluation = evaluateSlo(sloOf([{ sli: 'a', pass: [{ criteria: ['<1'] }], weight: 3 }, { sli: 'b', pass: [{ criteria: ['<1'] }] }], { total_score: { pass: '90' } }), { a: { value: 0 }, b: { value: 5 } }, []);
    expect(evaluation).toMatchObject({ result: 'fail', score: 75, totalScore: { pass: '90%', warning: '' }, message: 'Evaluation failed since the calculated score of 75 is below the target value of 90' });
  });

  it('lighthouse "Key SLI failed": a failing key SLI fails the evaluation whatever the score', () => {
    const evaluation = evaluateSlo(
      sloOf([{ sli: 'my-test-metric-1', pass: [{ criteria: ['<=15.0'] }] }, { sli: 'my-key-metric', displayName: 'cpu time', pass: [{ criteria: ['<=15.0'] }], key_sli: true }], { total_score: { pass: '50%', warning: '25%' } }),
      { 'my-test-metric-1': { value: 10 }, 'my-key-metric': { value: 20 } },
      [],
    );
    expect(evaluation).toMatchObject({ result: 'fail', score: 50, message: "Evaluation failed due to key_sli objective 'cpu time': met neither its pass nor its warning criteria" });
  });

  it('a key SLI that only warns does not fail the evaluation', () => {
    const evaluation = evaluateSlo(sloOf([{ sli: 'k', pass: [{ criteria: ['<1'] }], warning: [{ criteria: ['<2'] }], key_sli: true }], { total_score: { pass: '90%', warning: '50%' } }), { k: { value: 1.5 } }, []);
    expect(evaluation).toMatchObject({ result: 'warning', score: 50 });
  });

  it('a key SLI without a value fails the evaluation with the reason it has no value', () => {
    const evaluation = evaluateSlo(
      sloOf([{ sli: 'a', pass: [{ criteria: ['<1'] }] }, { sli: 'k', pass: [{ criteria: ['<1'] }], key_sli: true }], { total_score: { pass: '50%' } }),
      { a: { value: 0 }, k: { value: null, error: 'SLI "k": no data for up{job="k"}' } },
      [],
    );
    expect(evaluation).toMatchObject({ result: 'fail', score: 50, message: `Evaluation failed due to key_sli objective 'k': SLI "k": no data for up{job="k"}` });
  });
});

describe('informative objectives and missing values', () => {
  it('lighthouse "Logging SLI with no pass criteria should not affect score" (also with empty lists, BUG 2231)', () => {
    for (const info of [{ sli: 'my-log-metric' }, { sli: 'my-log-metric', pass: [], warning: [] }]) {
      const evaluation = evaluateSlo(sloOf([{ sli: 'my-test-metric-1', pass: [{ criteria: ['<=15.0'] }] }, info]), { 'my-test-metric-1': { value: 10 }, 'my-log-metric': { value: 30 } }, []);
      expect(evaluation.objectives[1]).toMatchObject({ status: 'info', score: 0, value: 30, pass: [], warning: [] });
      expect(evaluation).toMatchObject({ result: 'pass', score: 100 });
    }
  });

  it('lighthouse "Only Info SLIs": nothing to score is a pass with 100', () => {
    const evaluation = evaluateSlo(sloOf([{ sli: 'a' }, { sli: 'b', warning: [{ criteria: ['<1'] }] }]), { a: { value: 10 }, b: { value: 10 } }, []);
    expect(evaluation).toMatchObject({ result: 'pass', score: 100 });
    expect(evaluation.objectives[1]!.warning).toEqual([{ criterion: '<1', target: 1, violated: true, group: 0 }]);
  });

  it('an informative objective without a value changes nothing', () => {
    const evaluation = evaluateSlo(sloOf([{ sli: 'a', pass: [{ criteria: ['<1'] }] }, { sli: 'log' }]), { a: { value: 0 }, log: { value: null, error: 'boom' } }, []);
    expect(evaluation).toMatchObject({ result: 'pass', score: 100 });
    expect(evaluation.objectives[1]).toMatchObject({ status: 'info', value: null });
  });

  it('lighthouse "Fail with result equal to nil" / "success = false": the objective fails with the reason, the others still count', () => {
    const evaluation = evaluateSlo(
      sloOf([{ sli: 'a', pass: [{ criteria: ['<=15.0'] }, { criteria: ['<=+10%'] }] }, { sli: 'b', pass: [{ criteria: ['<1'] }] }, { sli: 'c', pass: [{ criteria: ['<1'] }] }]),
      { b: { value: null, error: 'could not get data' }, c: { value: 0 } },
      [previous('pass', { a: 10 })],
    );
    expect(evaluation.objectives[0]).toMatchObject({
      status: 'fail', score: 0, value: null, message: 'no value received from SLI provider',
      pass: [{ criterion: '<=15.0', target: 15, violated: true }, { criterion: '<=+10%', target: 11, violated: true }],
    });
    expect(evaluation.objectives[1]).toMatchObject({ status: 'fail', message: 'could not get data' });
    expect(evaluation).toMatchObject({ result: 'fail', score: 33.33 });
  });

  it('when no SLI could be fetched at all the evaluation fails, as with Keptn\'s prometheus-service', () => {
    const evaluation = evaluateSlo(sloOf([{ sli: 'a' }, { sli: 'b' }]), { a: { value: null, error: 'x' }, b: { value: null, error: 'y' } }, []);
    expect(evaluation).toMatchObject({ result: 'fail', message: 'Evaluation failed since no SLI value could be fetched (a, b)' });
  });
});

describe('an SLO lighthouse cannot use', () => {
  it('lighthouse "9198 SLO file does not have objectives": a fail', () => {
    expect(evaluateSlo(sloOf([]), {}, [])).toMatchObject({ result: 'fail', score: 0, message: 'no SLO objective was provided' });
  });

  it('no total_score.pass is a fail ("no target score defined"); one that is no number too', () => {
    expect(evaluateSlo({ objectives: [{ sli: 'a', pass: [{ criteria: ['<1'] }] }] }, { a: { value: 0 } }, [])).toMatchObject({ result: 'fail', score: 0, message: 'no target score defined' });
    expect(evaluateSlo(sloOf([{ sli: 'a', pass: [{ criteria: ['<1'] }] }], { total_score: { pass: 'most' } }), { a: { value: 0 } }, [])).toMatchObject({ result: 'fail', message: 'could not parse pass target percentage' });
  });

  it('a pass criterion that does not parse fails the evaluation naming the objective; a warning one is ignored', () => {
    expect(evaluateSlo(sloOf([{ sli: 'a', displayName: 'Latency', pass: [{ criteria: ['600'] }] }]), { a: { value: 0 } }, [])).toMatchObject({
      result: 'fail', score: 0, objectives: [], message: 'error with Latency: "600" has no operator: start it with <, <=, =, >= or > (for example "<=600")',
    });
    expect(evaluateSlo(sloOf([{ sli: 'a', pass: [{ criteria: ['<1'] }], warning: [{ criteria: ['<=abc'] }] }]), { a: { value: 0 } }, [])).toMatchObject({ result: 'pass', score: 100 });
  });
});

describe('asPrevious', () => {
  it('keeps the result and every value fetched, informative or failing, for the next evaluation to compare with', () => {
    const evaluation = evaluateSlo(
      sloOf([{ sli: 'a', pass: [{ criteria: ['<1'] }] }, { sli: 'b' }, { sli: 'c', pass: [{ criteria: ['<1'] }] }]),
      { a: { value: 5 }, b: { value: 7 }, c: { value: null, error: 'down' } },
      [],
    );
    expect(asPrevious(evaluation)).toEqual({ result: 'fail', score: 0, values: { a: 5, b: 7 } });
    const next = evaluateSlo(sloOf([{ sli: 'a', pass: [{ criteria: ['<=+10%'] }] }]), { a: { value: 5.4 } }, [asPrevious(evaluation)]);
    expect(next.objectives[0]).toMatchObject({ comparedValue: 5, status: 'pass', pass: [{ target: 5.5 }] });
  });
});

describe('formatEvaluation', () => {
  it('a table of every objective, then the total, the comparison and the reason', () => {
    const evaluation: Evaluation = evaluateSlo(
      sloOf([
        { sli: 'response_time_p95', displayName: 'Response time p95', pass: [{ criteria: ['<=+10%', '<600'] }], warning: [{ criteria: ['<=800'] }], weight: 2, key_sli: true },
        { sli: 'error_rate', pass: [{ criteria: ['=0'] }, { criteria: ['<=+0%'] }], weight: 1 },
        { sli: 'throughput' },
        { sli: 'cpu', pass: [{ criteria: ['<80'] }] },
      ]),
      { response_time_p95: { value: 420 }, error_rate: { value: 0.25 }, throughput: { value: 1234.56789 }, cpu: { value: null, error: 'SLI "cpu": no data for cpu_seconds' } },
      [previous('pass', { response_time_p95: 400, error_rate: 0.5 })],
    );
    expect(formatEvaluation(evaluation)).toBe(
      [
        'SLI                      Value     Pass                   Warning  Result  Score',
        '-----------------------  --------  ---------------------  -------  ------  -----',
        'Response time p95 (key)  420       <=+10% (440) and <600  <=800    pass    2/2',
        'error_rate               0.25      =0 ✗ or <=+0% (0.5)    -        pass    1/1',
        'throughput               1234.57   -                      -        info    -',
        'cpu                      no value  <80                    -        fail    0/1',
        'cpu: SLI "cpu": no data for cpu_seconds',
        'Score 75 of 100: warning (pass ≥ 90%, warning ≥ 75%)',
        'Compared with 1 previous evaluation.',
        'Evaluation returned a warning: the calculated score of 75 is close to the warning target value of 75',
        '',
      ].join('\n'),
    );
  });

  it('says when relative criteria had nothing to compare with', () => {
    const text = formatEvaluation(evaluateSlo(sloOf([{ sli: 'm', pass: [{ criteria: ['<=+10%'] }] }]), { m: { value: 3 } }, []));
    expect(text).toContain('m    3      <=+10% (no previous value)');
    expect(text).toContain('Score 100 of 100: pass (pass ≥ 90%, warning ≥ 75%)\nCompared with no previous evaluation.\n');
  });
});

/** lighthouse-service/examples/slo.yaml (keptn/keptn 1.4.5), as shipped. */
const KEPTN_EXAMPLE = `---
spec_version: '0.1.0'
# filter is optional
# specifies selection criteria for service in the SLI provider; project, stage,
# and service can be overwritten, if needed
filter:
  handler: "ItemsController.addToCart"
# comparison is mandatory
comparison:
  compare_with: "single_result"
  include_result_with_score: "pass"
  number_of_comparison_results: 3
  aggregate_function: avg
objectives:
  - sli: request_latency_p95
    pass:        # pass if (relative change <= 10% OR absolute value is < 200)
      - criteria:
          - "<=+10%" # relative values require a prefixed sign (plus or minus)
          - "<1000"   # absolute values only require a logical operator
    warning:     # allow small relative changes, and response time has to be < 500 ms
      - criteria:  # criteria connected by AND
          - "<=800"
  - sli: error_rate
    weight: 2   # default weight: 1
    pass:       # do not allow any security vulnerabilities
      - criteria:
          - "=0"
total_score:  # maximum score = sum of weights
  pass: "90%" # by default this is interpreted as ">="
  warning: 75%
`;

describe('SloSchema', () => {
  it('accepts Keptn\'s example SLO file unchanged, and it scores', () => {
    const slo = SloSchema.parse(parseYaml(KEPTN_EXAMPLE));
    expect(slo).toEqual({
      spec_version: '0.1.0',
      filter: { handler: 'ItemsController.addToCart' },
      comparison: { compare_with: 'single_result', include_result_with_score: 'pass', number_of_comparison_results: 3, aggregate_function: 'avg' },
      objectives: [
        { sli: 'request_latency_p95', pass: [{ criteria: ['<=+10%', '<1000'] }], warning: [{ criteria: ['<=800'] }] },
        { sli: 'error_rate', weight: 2, pass: [{ criteria: ['=0'] }] },
      ],
      total_score: { pass: '90%', warning: '75%' },
    });
    // 790 is more than 10% above the previous 700, but within the warning's 800.
    const evaluation = evaluateSlo(slo, { request_latency_p95: { value: 790 }, error_rate: { value: 0 } }, [previous('pass', { request_latency_p95: 700 })]);
    expect(evaluation).toMatchObject({ result: 'warning', score: 83.33 });
  });

  it('accepts the spec\'s example, and YAML numbers where Keptn reads strings', () => {
    const slo = SloSchema.parse(parseYaml(`spec_version: 1.0
filter: { mz_id: 4711, svc_id: "a14b-cd87-0d51" }
comparison: { compare_with: several_results, include_result_with_score: Pass_Or_Warn, number_of_comparison_results: 3, aggregate_function: avg }
objectives:
- sli: response_time_p95
  displayName: "Response Time P95"
  pass:
  - criteria: ["<=+10%", "<600"]
  warning:
  - criteria: ["<=800"]
  key_sli: true
-
total_score: { pass: 90, warning: "75%" }
`));
    expect(slo).toMatchObject({
      spec_version: '1', filter: { mz_id: '4711' }, comparison: { include_result_with_score: 'pass_or_warn' },
      objectives: [{ sli: 'response_time_p95', key_sli: true }], total_score: { pass: '90', warning: '75%' },
    });
    expect(slo.objectives).toHaveLength(1);
  });

  it('keeps fields Keptn ignores', () => {
    expect(SloSchema.parse({ objectives: [{ sli: 'a', owner: 'team-x' }], total_score: { pass: '90%' }, note: 'x' })).toMatchObject({ note: 'x', objectives: [{ owner: 'team-x' }] });
  });

  it('reports a criterion it cannot read with its path', () => {
    const issues = SloSchema.safeParse(parseYaml(`objectives:
  - sli: response_time
    pass:
      - criteria: ["<=+10%", "<=abc"]
    warning:
      - criteria: [600]
total_score: { pass: "90%" }
`)).error!.issues.map((issue) => [issue.path, issue.message]);
    expect(issues).toEqual([
      [['objectives', 0, 'pass', 0, 'criteria', 1], '"<=abc" does not compare with a number: write it like "<=600", "<+10%" or ">-5"'],
      [['objectives', 0, 'warning', 0, 'criteria', 0], '"600" has no operator: start it with <, <=, =, >= or > (for example "<=600")'],
    ]);
  });

  it('reports what lighthouse would fail or misread at run time', () => {
    const issues = SloSchema.safeParse({ comparison: { compare_with: 'all_results', aggregate_function: 'p99' }, objectives: [{ sli: 'a', weight: 1.5 }], total_score: { pass: 'ninety' } })
      .error!.issues.map((issue) => issue.path.join('.'));
    expect(issues).toEqual(['comparison.compare_with', 'comparison.aggregate_function', 'objectives.0.weight', 'total_score.pass']);
    expect(SloSchema.safeParse({ objectives: [] }).error!.issues).toMatchObject([{ path: ['total_score'], message: 'required: Keptn fails every evaluation without total_score.pass' }]);
  });
});

describe('SliSchema and sloProblems', () => {
  it('reads script and Prometheus sources; a script timeout in ms, a minute by default', () => {
    expect(SliSchema.parse({
      queue_depth: { script: 'curl -s http://queue/depth' },
      slow: { script: './measure.sh', timeout: '2m' },
      response_time_p95: { prometheus: { url: 'http://prometheus:9090', query: 'histogram_quantile(0.95, sum(rate(http_duration_bucket[5m])) by (le))' } },
    })).toEqual({
      queue_depth: { script: 'curl -s http://queue/depth', timeout: 60_000 },
      slow: { script: './measure.sh', timeout: 120_000 },
      response_time_p95: { prometheus: { url: 'http://prometheus:9090', query: 'histogram_quantile(0.95, sum(rate(http_duration_bucket[5m])) by (le))' } },
    });
  });

  it('names what is wrong with a source', () => {
    const issues = SliSchema.safeParse({
      a: { prometheus: { url: 'ftp://prometheus', query: 'up' } },
      b: { script: 'x', timeout: 'soon' },
      c: { http: 'http://x' },
    }).error!.issues.map((issue) => [issue.path.join('.'), issue.message]);
    expect(issues).toEqual([
      ['a.prometheus.url', 'an http:// or https:// URL of the Prometheus server'],
      ['b.timeout', 'a duration like 30s, 10m or 1h30m'],
      ['c', 'either { script, timeout? } or { prometheus: { url, query } }'],
    ]);
  });

  it('sloProblems: an objective whose SLI the sli map does not define, and an SLO without objectives', () => {
    const slo = SloSchema.parse({ objectives: [{ sli: 'response_time', pass: [{ criteria: ['<1'] }] }, { sli: 'eror_rate' }], total_score: { pass: '90%' } });
    expect(sloProblems(slo, SliSchema.parse({ response_time: { script: 'echo 1' }, error_rate: { script: 'echo 0' } }))).toEqual([
      { path: ['objectives', 1, 'sli'], message: 'unknown SLI "eror_rate": not in the project\'s sli map (it has "response_time", "error_rate")' },
    ]);
    expect(sloProblems(SloSchema.parse({ total_score: { pass: '90%' } }), {})).toEqual([
      { path: ['objectives'], message: 'no objectives: Keptn fails every evaluation of an SLO without any' },
    ]);
  });
});
