import { describe, expect, it } from 'vitest';
import {
  addresses,
  countsToward,
  openRules,
  progressLines,
  remainingOf,
  ruleRefusal,
  type RuleSet,
  startRules,
} from '../../core/approval-rules.js';
import {
  actionsFor,
  type Actor,
  decide,
  type Decision,
  describeApproval,
  type Interruption,
  mayTakeResponsibility,
  type Person,
  responsibleOf,
  teamsOf,
} from '../../core/interruptions.js';
import { ConfigError, parseConfig } from '../../config/load.js';

// docs/manual-steps.md#approval-rules: who may approve which rule, what an approval counts toward,
// the progress, and what is left, written out by hand for every kind of person and every option.

const STEP = 'Production sign-off';
const NOW = '2025-01-01T10:00:00.000Z';

const actor = (id: string, username: string, teams: string[], roles: Actor['roles'] = ['deployer']): Actor => ({
  id,
  username,
  displayName: username.toUpperCase(),
  teams,
  roles,
});
const jamie = actor('u-1', 'jamie', ['release-managers']);
const morgan = actor('u-2', 'morgan', ['release-managers']);
const sam = actor('u-3', 'sam', ['sre']);
const bea = actor('u-4', 'bea', ['release-managers', 'sre']);
const ada = actor('u-5', 'ada', [], ['admin']);
const dee = actor('u-6', 'dee', []);
const otto = actor('u-7', 'otto', ['dba']);
const val = actor('u-8', 'val', ['sre'], ['viewer']);
const roster = [jamie, morgan, sam, bea, ada, dee, otto, val];

const person = ({ id, username, displayName }: Actor): Person => ({ id, username, displayName });

/** "1 from release-managers and 1 from sre". */
const TWO_RULES = [
  { teams: ['release-managers'], count: 1 },
  { teams: ['sre'], count: 1 },
];

function interruption(overrides: Partial<Interruption> = {}): Interruption {
  return {
    id: 'int-1',
    kind: 'Manual',
    step: STEP,
    state: 'Pending',
    instructions: '',
    responsibleTeams: ['release-managers', 'sre'],
    assignee: null,
    notes: null,
    createdAt: NOW,
    decidedAt: null,
    timeoutAt: null,
    onTimeout: 'abort',
    rules: startRules(TWO_RULES),
    approvals: [],
    ...overrides,
  };
}

/** Takes and proceeds as `who`; fails the test with the refusal if either is refused. */
function approve(current: Interruption, who: Actor, extra: { notes?: string; inputs?: Record<string, string | boolean> } = {}): Interruption {
  const taken = decide(current, who, { type: 'takeResponsibility' }, NOW);
  if (!taken.accepted) throw new Error(`${who.username} may not take it: ${taken.refusal} ${taken.detail}`);
  const done = decide(taken.interruption, who, { type: 'proceed', ...extra }, NOW);
  if (!done.accepted) throw new Error(`${who.username} may not proceed: ${done.refusal} ${done.detail}`);
  return done.interruption;
}

const refusalOf = (decision: Decision) => (decision.accepted ? 'accepted' : decision.refusal);

const options = {
  plain: {},
  ordered: { ordered: true },
  distinctPeople: { distinctPeople: true },
  'ordered and distinctPeople': { ordered: true, distinctPeople: true },
} as const;
type Option = keyof typeof options;

/** What an approval by each person counts toward (rule indexes), or why they are refused, before anyone approved. */
const FRESH: Record<string, Record<Option, number[] | string>> = {
  jamie: { plain: [0], ordered: [0], distinctPeople: [0], 'ordered and distinctPeople': [0] },
  sam: { plain: [1], ordered: 'NOT_YOUR_TURN', distinctPeople: [1], 'ordered and distinctPeople': 'NOT_YOUR_TURN' },
  bea: { plain: [0, 1], ordered: [0], distinctPeople: [0], 'ordered and distinctPeople': [0] },
  ada: { plain: [0, 1], ordered: [0], distinctPeople: [0], 'ordered and distinctPeople': [0] },
  dee: { plain: 'NOT_IN_TEAM', ordered: 'NOT_IN_TEAM', distinctPeople: 'NOT_IN_TEAM', 'ordered and distinctPeople': 'NOT_IN_TEAM' },
  otto: { plain: 'NOT_IN_TEAM', ordered: 'NOT_IN_TEAM', distinctPeople: 'NOT_IN_TEAM', 'ordered and distinctPeople': 'NOT_IN_TEAM' },
  val: { plain: [1], ordered: 'NOT_YOUR_TURN', distinctPeople: [1], 'ordered and distinctPeople': 'NOT_YOUR_TURN' },
};

/** The same once Jamie's approval has met the release-managers rule. */
const AFTER_JAMIE: Record<string, Record<Option, number[] | string>> = {
  jamie: { plain: 'ALREADY_APPROVED', ordered: 'ALREADY_APPROVED', distinctPeople: 'ALREADY_APPROVED', 'ordered and distinctPeople': 'ALREADY_APPROVED' },
  morgan: { plain: 'RULE_ALREADY_MET', ordered: 'RULE_ALREADY_MET', distinctPeople: 'RULE_ALREADY_MET', 'ordered and distinctPeople': 'RULE_ALREADY_MET' },
  sam: { plain: [1], ordered: [1], distinctPeople: [1], 'ordered and distinctPeople': [1] },
  bea: { plain: [1], ordered: [1], distinctPeople: [1], 'ordered and distinctPeople': [1] },
  ada: { plain: [1], ordered: [1], distinctPeople: [1], 'ordered and distinctPeople': [1] },
  dee: { plain: 'NOT_IN_TEAM', ordered: 'NOT_IN_TEAM', distinctPeople: 'NOT_IN_TEAM', 'ordered and distinctPeople': 'NOT_IN_TEAM' },
};

const byName = Object.fromEntries(roster.map((who) => [who.username, who]));

describe('who may approve which rule, for every person and option', () => {
  const cases = (table: Record<string, Record<Option, number[] | string>>) =>
    Object.entries(table).flatMap(([name, row]) => (Object.keys(options) as Option[]).map((option) => [name, option, row[option]] as const));

  it.each(cases(FRESH))('before anyone approved: %s with %s → %j', (name, option, expected) => {
    const set = interruption(options[option]);
    const who = byName[name]!;
    const refused = ruleRefusal(set, STEP, who);
    if (typeof expected === 'string') {
      expect(refused?.refusal).toBe(expected);
      expect(refused?.detail).toContain(`${who.displayName} (${who.username})`);
      expect(mayTakeResponsibility(set, who)).toBe(false);
      expect(refusalOf(decide(set, who, { type: 'takeResponsibility' }, NOW))).toBe(expected);
      expect(actionsFor(set, who)).toEqual([]);
    } else {
      expect(refused).toBeUndefined();
      expect(countsToward(set, who)).toEqual(expected);
      expect(actionsFor(set, who)).toEqual(['takeResponsibility']);
    }
  });

  it.each(cases(AFTER_JAMIE))('after Jamie met the release-managers rule: %s with %s → %j', (name, option, expected) => {
    const set = approve(interruption(options[option]), jamie);
    expect(set.state).toBe('Pending');
    const who = byName[name]!;
    const refused = ruleRefusal(set, STEP, who);
    if (typeof expected === 'string') {
      expect(refused?.refusal).toBe(expected);
      expect(refusalOf(decide(set, who, { type: 'takeResponsibility' }, NOW))).toBe(expected);
      // A proceed by someone who may not approve hears the same, not "take it first".
      expect(refusalOf(decide(set, who, { type: 'proceed' }, NOW))).toBe(expected);
    } else {
      expect(refused).toBeUndefined();
      expect(countsToward(set, who)).toEqual(expected);
    }
  });

  it('says in its refusals what is going on and what is still needed', () => {
    const ordered = interruption({ ordered: true });
    expect(ruleRefusal(ordered, STEP, sam)?.detail).toBe(
      `"${STEP}" takes its approvals in order: 1 from release-managers first (0 so far); SAM (sam) may approve for 1 from sre once the rules before it are met.`,
    );
    const met = approve(interruption(), jamie);
    expect(ruleRefusal(met, STEP, morgan)?.detail).toBe(
      `The rules MORGAN (morgan) may approve for are met (1 from release-managers); "${STEP}" still needs 1 more from sre, from someone else.`,
    );
    expect(ruleRefusal(met, STEP, jamie)?.detail).toBe(`JAMIE (jamie) has already approved "${STEP}"; it needs 1 more from sre, from someone else.`);
    expect(ruleRefusal(interruption(), STEP, otto)?.detail).toBe(`OTTO (otto) may not act on "${STEP}": only members of release-managers, sre (or an admin) may.`);
  });
});

describe('approving under rules', () => {
  it('two people meet two rules: back to Pending after the first, Proceeded on the second', () => {
    const first = approve(interruption(), jamie, { notes: 'desk told' });
    expect(first).toMatchObject({ state: 'Pending', assignee: null, decidedAt: null });
    expect(first.rules!.map((rule) => rule.met)).toEqual([true, false]);
    expect(first.rules![0]!.approvals).toEqual([{ user: person(jamie), at: NOW, notes: 'desk told' }]);
    const second = approve(first, sam, { notes: 'dashboards green' });
    expect(second).toMatchObject({ state: 'Proceeded', assignee: person(sam), notes: 'dashboards green', decidedAt: NOW });
    expect(second.rules!.map((rule) => [rule.met, rule.approvals.map((a) => a.user.username)])).toEqual([[true, ['jamie']], [true, ['sam']]]);
    expect(second.approvals!.map((approval) => approval.user.username)).toEqual(['jamie', 'sam']);
    expect(describeApproval(first, second)).toBe('approval 2: counts toward 1 from sre (now met); every rule is met');
    expect(describeApproval(interruption(), first)).toBe('approval 1: counts toward 1 from release-managers (now met); still to meet: 1 from sre');
  });

  it('one person in both teams meets both rules at once, unless distinctPeople', () => {
    expect(approve(interruption(), bea).state).toBe('Proceeded');
    const distinct = approve(interruption({ distinctPeople: true }), bea);
    expect(distinct.state).toBe('Pending');
    expect(distinct.rules!.map((rule) => rule.met)).toEqual([true, false]);
    expect(approve(distinct, sam).state).toBe('Proceeded');
  });

  it('an admin counts as a member of every rule\'s teams: alone, or toward the first rule with distinctPeople or ordered', () => {
    expect(approve(interruption(), ada).state).toBe('Proceeded');
    expect(approve(interruption({ distinctPeople: true }), ada).rules!.map((rule) => rule.met)).toEqual([true, false]);
    expect(approve(interruption({ ordered: true }), ada).rules!.map((rule) => rule.met)).toEqual([true, false]);
  });

  it('with ordered, the later rule waits for the one before it, and an approval counts only toward the rule whose turn it is', () => {
    const set = interruption({ ordered: true });
    expect(openRules(set)).toEqual([0]);
    expect(teamsOf(set)).toEqual(['release-managers']);
    const first = approve(set, bea);
    expect(first.rules!.map((rule) => rule.met)).toEqual([true, false]);
    expect(openRules(first)).toEqual([1]);
    expect(teamsOf(first)).toEqual(['sre']);
    expect(refusalOf(decide(first, bea, { type: 'takeResponsibility' }, NOW))).toBe('ALREADY_APPROVED');
    expect(approve(first, val).state).toBe('Proceeded');
  });

  it('a rule of two needs two people; each counts once', () => {
    const set = interruption({ rules: startRules([{ teams: ['release-managers'], count: 2 }, { teams: ['sre'], count: 1 }]) });
    const first = approve(set, jamie);
    expect(first.rules!.map((rule) => `${rule.approvals.length}/${rule.count}`)).toEqual(['1/2', '0/1']);
    const second = approve(first, sam);
    expect(second.state).toBe('Pending');
    expect(progressLines(second)).toEqual(['2 from release-managers: 1 of 2 (JAMIE)', '1 from sre: met (SAM)']);
    expect(refusalOf(decide(second, jamie, { type: 'takeResponsibility' }, NOW))).toBe('ALREADY_APPROVED');
    expect(approve(second, morgan).state).toBe('Proceeded');
  });

  it('one decline ends it, whatever came before', () => {
    const first = approve(interruption(), jamie);
    const taken = decide(first, sam, { type: 'takeResponsibility' }, NOW);
    if (!taken.accepted) throw new Error(taken.detail);
    expect(decide(taken.interruption, sam, { type: 'abort', notes: 'error budget spent' }, NOW)).toMatchObject({
      accepted: true,
      interruption: { state: 'Aborted', notes: 'error budget spent', decidedAt: NOW },
    });
  });

  it('whoever triggered it approves nothing with preventSelfApproval, admins included', () => {
    for (const who of [jamie, ada, bea]) {
      const set = interruption({ excludedUserIds: [who.id] });
      expect(refusalOf(decide(set, who, { type: 'takeResponsibility' }, NOW))).toBe('SELF_APPROVAL');
      expect(refusalOf(decide(set, who, { type: 'proceed' }, NOW))).toBe('SELF_APPROVAL');
      expect(mayTakeResponsibility(set, who)).toBe(false);
      expect(remainingOf(set, roster, set.excludedUserIds).mayApprove).not.toContain(who.username);
    }
  });

  it('a take-over by someone whose rules are met is refused; by someone of the open rule it is recorded as a take-over', () => {
    const first = approve(interruption(), jamie);
    const held = decide(first, sam, { type: 'takeResponsibility' }, NOW);
    if (!held.accepted) throw new Error(held.detail);
    expect(refusalOf(decide(held.interruption, morgan, { type: 'takeResponsibility', takeOver: true }, NOW))).toBe('RULE_ALREADY_MET');
    expect(decide(held.interruption, val, { type: 'takeResponsibility', takeOver: true }, NOW)).toMatchObject({ accepted: true, tookOverFrom: person(sam) });
    expect(refusalOf(decide(held.interruption, val, { type: 'takeResponsibility' }, NOW))).toBe('HELD_BY_OTHER');
  });

  it('once escalated, the escalateTo teams count toward every rule', () => {
    const set = interruption({ escalateTo: ['dba'], escalateAt: NOW, ordered: true });
    expect(refusalOf(decide(set, otto, { type: 'takeResponsibility' }, NOW))).toBe('NOT_IN_TEAM');
    const escalated = { ...set, escalated: true };
    expect(teamsOf(escalated)).toEqual(['release-managers', 'dba']);
    expect(approve(escalated, otto).rules!.map((rule) => rule.met)).toEqual([true, false]);
  });
});

describe('requiredApprovals as one rule', () => {
  const two = interruption({ responsibleTeams: ['release-managers'], requiredApprovals: 2, rules: startRules([{ teams: ['release-managers'], count: 2 }]) });

  it('reads as it always has: approval 1 of 2, ALREADY_APPROVED, needs 1 more', () => {
    const first = approve(two, jamie, { notes: 'one' });
    expect(first).toMatchObject({ state: 'Pending', approvals: [{ user: person(jamie), notes: 'one' }] });
    expect(describeApproval(two, first)).toBe('approval 1 of 2');
    const again = decide(first, jamie, { type: 'takeResponsibility' }, NOW);
    expect(again).toMatchObject({ accepted: false, refusal: 'ALREADY_APPROVED' });
    if (!again.accepted) expect(again.detail).toContain('needs 1 more, from someone else');
    const second = approve(first, morgan, { notes: 'two' });
    expect(second).toMatchObject({ state: 'Proceeded', notes: 'two', assignee: person(morgan) });
    expect(describeApproval(first, second)).toBe('approval 2 of 2');
  });

  it('with no responsible teams, it is any deployer\'s (and any admin\'s)', () => {
    const anyone = interruption({ responsibleTeams: [], requiredApprovals: 2, rules: startRules([{ teams: [], count: 2 }]) });
    expect(ruleRefusal(anyone, STEP, dee)).toBeUndefined();
    expect(ruleRefusal(anyone, STEP, val)?.refusal).toBe('NOT_IN_TEAM');
    expect(teamsOf(anyone)).toEqual([]);
    expect(remainingOf(anyone, roster).mayApprove).toEqual(['jamie', 'morgan', 'sam', 'bea', 'ada', 'dee', 'otto']);
  });
});

describe('what is left, and whom it is addressed to', () => {
  it('lists the rules still to meet and the people of the open rules, not whoever approved or triggered it; admins are not addressed', () => {
    const set = interruption({ excludedUserIds: [morgan.id] });
    expect(remainingOf(set, roster, set.excludedUserIds)).toEqual({
      rules: [{ rule: 0, teams: ['release-managers'], needed: 1 }, { rule: 1, teams: ['sre'], needed: 1 }],
      mayApprove: ['jamie', 'sam', 'bea', 'val'],
    });
    const first = approve(set, jamie);
    expect(remainingOf(first, roster, set.excludedUserIds)).toEqual({ rules: [{ rule: 1, teams: ['sre'], needed: 1 }], mayApprove: ['sam', 'bea', 'val'] });
    expect(responsibleOf(first, roster).map((who) => who.username)).toEqual(['sam', 'bea', 'val']);
    expect(addresses(first, jamie)).toBe(false);
  });

  it('with ordered, only the first unmet rule\'s people', () => {
    const set = interruption({ ordered: true });
    expect(remainingOf(set, roster).mayApprove).toEqual(['jamie', 'morgan', 'bea']);
    expect(responsibleOf(set, roster).map((who) => who.username)).toEqual(['jamie', 'morgan', 'bea']);
  });

  it('is empty once every rule is met', () => {
    const set: RuleSet = { rules: startRules([{ teams: ['sre'], count: 1 }]).map((rule) => ({ ...rule, met: true })) };
    expect(remainingOf(set, roster)).toEqual({ rules: [], mayApprove: [] });
  });
});

describe('inputs under rules', () => {
  const withInputs = interruption({ inputs: [{ name: 'risk', type: 'choice', options: ['low', 'high'], required: true }, { name: 'backup', type: 'boolean' }] });

  it('refuses a proceed with bad inputs, and keeps each approver\'s; the completing proceed\'s are the interruption\'s', () => {
    const taken = decide(withInputs, jamie, { type: 'takeResponsibility' }, NOW);
    if (!taken.accepted) throw new Error(taken.detail);
    const bad = decide(taken.interruption, jamie, { type: 'proceed', inputs: { risk: 'medium', colour: 'red' } }, NOW);
    expect(bad).toMatchObject({ accepted: false, refusal: 'INVALID_INPUTS' });
    if (!bad.accepted) expect(bad.detail).toBe('Invalid inputs: colour: "colour" is not an input of this step (it asks for risk, backup); risk: expected one of low, high, not "medium".');
    expect(refusalOf(decide(taken.interruption, jamie, { type: 'abort', inputs: { risk: 'low' } }, NOW))).toBe('INVALID_INPUTS');
    const first = approve(withInputs, jamie, { inputs: { risk: 'low' } });
    expect(first.approvals![0]!.inputValues).toEqual({ risk: 'low' });
    expect(first.inputValues).toBeUndefined();
    const second = approve(first, sam, { inputs: { risk: 'high', backup: true } });
    expect(second.inputValues).toEqual({ risk: 'high', backup: true });
    expect(describeApproval(first, second)).toBe('approval 2: counts toward 1 from sre (now met); every rule is met; inputs: risk="high", backup=true');
  });
});

describe('the config: rules by path', () => {
  const config = (step: string) => `teams: [{ id: release-managers, name: Release managers }, { id: sre, name: SRE }]
projects:
  - id: p
    name: P
    environments: [production]
    process:
      - ${step}
`;
  const problemsOf = (text: string) => {
    try {
      parseConfig(text, 'interlock.yaml');
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return [];
  };

  it('takes rules with ordered and distinctPeople', () => {
    const parsed = parseConfig(config('{ name: M, type: manual, rules: [{ teams: [release-managers], count: 1 }, { teams: [sre], count: 2 }], ordered: true, distinctPeople: true }'));
    expect(parsed.projects[0]!.process![0]).toMatchObject({ rules: [{ teams: ['release-managers'], count: 1 }, { teams: ['sre'], count: 2 }], ordered: true, distinctPeople: true });
  });

  it.each([
    ['{ name: M, type: manual, rules: [{ teams: [dba], count: 1 }] }', ['projects[0].process[0].rules[0].teams[0]: unknown team "dba"']],
    ['{ name: M, type: manual, rules: [{ teams: [sre], count: 1 }], requiredApprovals: 2 }', [
      'projects[0].process[0].requiredApprovals: give rules or requiredApprovals, not both (requiredApprovals: N is the rule {teams: <responsibleTeams>, count: N})',
    ]],
    ['{ name: M, type: manual, responsibleTeams: [sre], rules: [{ teams: [sre], count: 1 }] }', ['projects[0].process[0].responsibleTeams: with rules, each rule names its teams; leave responsibleTeams out']],
    ['{ name: M, type: manual, responsibleTeams: [sre], ordered: true, distinctPeople: false }', [
      'projects[0].process[0].ordered: ordered goes with rules',
      'projects[0].process[0].distinctPeople: distinctPeople goes with rules',
    ]],
    ['{ name: M, type: manual, rules: [] }', [expect.stringMatching(/^projects\[0\]\.process\[0\]\.rules: /)]],
    ['{ name: M, type: manual, rules: [{ teams: [], count: 0 }] }', [
      expect.stringMatching(/^projects\[0\]\.process\[0\]\.rules\[0\]\.teams: /),
      expect.stringMatching(/^projects\[0\]\.process\[0\]\.rules\[0\]\.count: /),
    ]],
  ])('refuses %s', (step, expected) => {
    expect(problemsOf(config(step))).toEqual(expected);
  });
});
