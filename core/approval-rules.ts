/**
 * Approval rules (docs/manual-steps.md#approval-rules): an interruption that needs several rules
 * met, each "`count` approvals from these `teams`", all of them, optionally in order. Who may
 * approve which rule now, what an approval counts toward, the progress, whether every rule is met,
 * what is left and who may still approve. Pure: the state machine (`decide`), the API's check before
 * any update, the notifications and the views all ask these same functions.
 *
 * - An approval counts toward every open rule whose teams include the approver, or, with
 *   `distinctPeople`, toward the first of them only.
 * - With `ordered`, only the first unmet rule is open; otherwise every unmet rule is.
 * - Admins count as members of every rule's teams, and so, once it has escalated, do the
 *   `remind.escalateTo` teams. A rule with no teams (`requiredApprovals` on a step with no
 *   `responsibleTeams`) is any deployer's.
 * - Each person approves once. Whoever the interruption excludes (`preventSelfApproval`) approves
 *   nothing; `decide` refuses them first.
 */
import type { Actor, Approval, Person } from './interruptions.js';

/** As the config writes it: `count` approvals from members of any of `teams`. */
export interface ApprovalRule {
  teams: string[];
  count: number;
}

/** A rule with its approvals so far, oldest first, and whether it has enough. */
export interface RuleProgress extends ApprovalRule {
  approvals: Approval[];
  met: boolean;
}

/** A rule still to meet: its place in `rules`, its teams, and how many more approvals it needs. */
export interface RemainingRule {
  rule: number;
  teams: string[];
  needed: number;
}

/** What is left: the rules still to meet, and the people (usernames) of their teams who may approve now. */
export interface RemainingApprovals {
  rules: RemainingRule[];
  mayApprove: string[];
}

/** What an interruption knows of its rules. */
export interface RuleSet {
  rules?: RuleProgress[] | undefined;
  ordered?: boolean | undefined;
  distinctPeople?: boolean | undefined;
  /** Set when the one rule stands for `requiredApprovals: N`: progress and refusals read as they always have. */
  requiredApprovals?: number | undefined;
}

/** Who is asking, as far as rules care. */
type Who = Pick<Actor, 'id' | 'username' | 'teams' | 'roles'>;

/** Why someone may not approve now; `undefined` from `ruleRefusal` when they may. */
export type RuleRefusal = { refusal: 'ALREADY_APPROVED' | 'NOT_IN_TEAM' | 'NOT_YOUR_TURN' | 'RULE_ALREADY_MET'; detail: string };

/** The rules' progress at the start: nothing approved yet. */
export function startRules(rules: readonly ApprovalRule[]): RuleProgress[] {
  return rules.map(({ teams, count }) => ({ teams: [...teams], count, approvals: [], met: false }));
}

/** `requiredApprovals: N` as the one rule it is: N from the step's responsible teams (any deployer with none). */
export const requiredApprovalsRule = (responsibleTeams: readonly string[], count: number): ApprovalRule => ({ teams: [...responsibleTeams], count });

/** "2 from release-managers or sre", "1 from any deployer". */
export function describeRule(rule: ApprovalRule): string {
  return `${rule.count} from ${rule.teams.length > 0 ? rule.teams.join(' or ') : 'any deployer'}`;
}

export const allMet = (rules: readonly RuleProgress[]): boolean => rules.every((rule) => rule.met);

/** The rules that take approvals now: the unmet ones, or with `ordered` the first unmet one only. */
export function openRules(set: RuleSet): number[] {
  const unmet = (set.rules ?? []).flatMap((rule, i) => (rule.met ? [] : [i]));
  return set.ordered ? unmet.slice(0, 1) : unmet;
}

/** Whether `who` counts as one of the rule's people: a member of its teams (or of `extraTeams`), an admin, or any deployer for a rule with no teams. */
export function qualifies(rule: ApprovalRule, who: Pick<Actor, 'teams' | 'roles'>, extraTeams: readonly string[] = []): boolean {
  if (who.roles.includes('admin')) return true;
  if (who.teams.some((team) => extraTeams.includes(team))) return true;
  if (rule.teams.length === 0) return who.roles.includes('deployer');
  return who.teams.some((team) => rule.teams.includes(team));
}

/** Every approval given so far, across the rules, once each. */
export function approvalsOf(set: RuleSet): Approval[] {
  const seen = new Set<string>();
  return (set.rules ?? []).flatMap((rule) => rule.approvals).filter((approval) => !seen.has(approval.user.id) && seen.add(approval.user.id));
}

export const hasApproved = (set: RuleSet, who: Pick<Person, 'id'>): boolean => approvalsOf(set).some((approval) => approval.user.id === who.id);

/** The rules an approval by `who` would count toward now: the open ones they qualify for, or with `distinctPeople` the first of those. */
export function countsToward(set: RuleSet, who: Who, extraTeams: readonly string[] = []): number[] {
  const rules = set.rules ?? [];
  const counted = openRules(set).filter((i) => qualifies(rules[i]!, who, extraTeams));
  return set.distinctPeople ? counted.slice(0, 1) : counted;
}

/** How much more the rules need, in words: "1 more" for one rule, "1 more from release-managers and 2 more from sre" for several. */
export function stillNeeded(set: RuleSet): string {
  const rules = set.rules ?? [];
  const unmet = rules.filter((rule) => !rule.met);
  if (rules.length === 1) return `${unmet[0] ? unmet[0].count - unmet[0].approvals.length : 0} more`;
  return unmet.map((rule) => `${rule.count - rule.approvals.length} more from ${rule.teams.join(' or ') || 'any deployer'}`).join(' and ');
}

/**
 * Why `who` may not approve now, or `undefined` when they may (their approval would count toward
 * an open rule). The order is the one people hear: already approved, in none of the rules' teams,
 * not yet their rule's turn (`ordered`), every rule they could approve for already met.
 */
export function ruleRefusal(set: RuleSet, step: string, who: Who & Pick<Person, 'displayName'>, extraTeams: readonly string[] = []): RuleRefusal | undefined {
  const rules = set.rules ?? [];
  const name = `${who.displayName} (${who.username})`;
  if (hasApproved(set, who)) {
    return { refusal: 'ALREADY_APPROVED', detail: `${name} has already approved "${step}"; it needs ${stillNeeded(set)}, from someone else.` };
  }
  if (countsToward(set, who, extraTeams).length > 0) return undefined;
  const theirs = rules.flatMap((rule, i) => (qualifies(rule, who, extraTeams) ? [i] : []));
  if (theirs.length === 0) {
    const teams = [...new Set(rules.flatMap((rule) => rule.teams))];
    const whom = teams.length > 0 ? `members of ${teams.join(', ')}` : 'deployers';
    return { refusal: 'NOT_IN_TEAM', detail: `${name} may not act on "${step}": only ${whom} (or an admin) may.` };
  }
  const waiting = theirs.find((i) => !rules[i]!.met);
  if (waiting !== undefined) {
    const first = rules[openRules(set)[0]!]!;
    return {
      refusal: 'NOT_YOUR_TURN',
      detail: `"${step}" takes its approvals in order: ${describeRule(first)} first (${first.approvals.length} so far); ${name} may approve for ${describeRule(rules[waiting]!)} once the rules before it are met.`,
    };
  }
  return {
    refusal: 'RULE_ALREADY_MET',
    detail: `The rules ${name} may approve for are met (${theirs.map((i) => describeRule(rules[i]!)).join('; ')}); "${step}" still needs ${stillNeeded(set)}, from someone else.`,
  };
}

/** The rules after `approval` (by `who`) counted toward `countsToward`'s rules; met ones say so. */
export function recordApproval(set: RuleSet, who: Who, approval: Approval, extraTeams: readonly string[] = []): RuleProgress[] {
  const counted = countsToward(set, who, extraTeams);
  return (set.rules ?? []).map((rule, i) => {
    if (!counted.includes(i)) return rule;
    const approvals = [...rule.approvals, approval];
    return { ...rule, approvals, met: approvals.length >= rule.count };
  });
}

/**
 * Whether the rules address `person`: a member of an open rule's teams (or of `extraTeams`), or any
 * deployer or admin for an open rule with no teams; never someone who has approved already. Admins
 * outside the teams may approve, but nothing is addressed to them (as for any interruption).
 */
export function addresses(set: RuleSet, person: Pick<Actor, 'id' | 'teams' | 'roles'>, extraTeams: readonly string[] = []): boolean {
  if (hasApproved(set, person)) return false;
  const rules = set.rules ?? [];
  return openRules(set).some((i) => {
    const { teams } = rules[i]!;
    if (teams.length === 0) return person.roles.includes('deployer') || person.roles.includes('admin');
    return person.teams.some((team) => teams.includes(team) || extraTeams.includes(team));
  });
}

/** The teams of the rules open now (with `extraTeams`); empty when an open rule is any deployer's. */
export function openTeams(set: RuleSet, extraTeams: readonly string[] = []): string[] {
  const rules = set.rules ?? [];
  const open = openRules(set).map((i) => rules[i]!);
  if (open.length === 0 || open.some((rule) => rule.teams.length === 0)) return [...extraTeams];
  return [...new Set([...open.flatMap((rule) => rule.teams), ...extraTeams])];
}

/**
 * What is left: the unmet rules with how many more each needs, and the usernames of `people` (the
 * deployment's roster) the rules address now, without whoever `excluded` names.
 */
export function remainingOf(set: RuleSet, people: readonly Pick<Actor, 'id' | 'username' | 'teams' | 'roles'>[], excluded: readonly string[] = [], extraTeams: readonly string[] = []): RemainingApprovals {
  const rules = (set.rules ?? []).flatMap((rule, i) => (rule.met ? [] : [{ rule: i, teams: rule.teams, needed: rule.count - rule.approvals.length }]));
  const mayApprove = people.filter((person) => !excluded.includes(person.id) && addresses(set, person, extraTeams)).map((person) => person.username);
  return { rules, mayApprove };
}

/** "1 from release-managers: met (Jamie Jones)", "1 from sre: 0 of 1": each rule's progress in words. */
export function progressLines(set: RuleSet): string[] {
  return (set.rules ?? []).map((rule) => {
    const by = rule.approvals.length > 0 ? ` (${rule.approvals.map((approval) => approval.user.displayName).join(', ')})` : '';
    return `${describeRule(rule)}: ${rule.met ? 'met' : `${rule.approvals.length} of ${rule.count}`}${by}`;
  });
}
