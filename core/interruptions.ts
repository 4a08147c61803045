/**
 * The manual step's state machine: Pending → Assigned → Proceeded | Aborted | TimedOut, who may do
 * what, and what each refusal is called. Pure: no Temporal, no I/O, so every case is unit-tested.
 */

import { mayOverride, type Override } from './break-glass.js';
import {
  type DecisionType,
  type InterruptionActionName,
  type InterruptionKind,
  type InterruptionState,
  type OnTimeout,
  OPEN_INTERRUPTION_STATES,
  type Role,
} from './names.js';
import {
  addresses,
  allMet,
  countsToward,
  openTeams,
  describeRule,
  recordApproval,
  type RemainingApprovals,
  type RuleProgress,
  ruleRefusal,
  type RuleRefusal,
} from './approval-rules.js';
import { type ApproverInput, describeInputs, inputProblems, type InputValues } from './approver-inputs.js';
import type { DecisionContext } from './decision-context.js';

export type { DecisionType, InterruptionKind, InterruptionState, Role };
export type { ApproverInput, InputValues, RemainingApprovals, RuleProgress };

export interface Person {
  id: string;
  username: string;
  displayName: string;
  email?: string;
}

/** Whoever acts: the API fills it from the bearer token's user; a signal sender types it. */
export interface Actor extends Person {
  teams: string[];
  roles: Role[];
}

export interface Interruption {
  id: string;
  kind: InterruptionKind;
  step: string;
  state: InterruptionState;
  instructions: string;
  responsibleTeams: string[];
  assignee: Person | null;
  notes: string | null;
  createdAt: string;
  decidedAt: string | null;
  /** When the durable timer fires, if the step has a timeout. */
  timeoutAt: string | null;
  onTimeout: OnTimeout;
  /** How the decision arrived: an update (the API) or a signal (Temporal Web, the CLI's `temporal`). */
  decidedVia?: 'update' | 'signal';
  /** Who may not take it whatever their teams and roles: whoever triggered the deployment, with `preventSelfApproval` (guided failure's too). */
  excludedUserIds?: string[];
  /** How many distinct people must each take and proceed (docs/manual-steps.md); 1 when absent. */
  requiredApprovals?: number;
  /** The proceeds so far, oldest first, while more are required; the last one closes it. */
  approvals?: Approval[];
  /** With `remind.escalateAfter`: from then on these teams may act too (docs/manual-steps.md). */
  escalateTo?: string[];
  escalateAt?: string;
  /** Set once the escalation has happened (the workflow's timer fired). */
  escalated?: boolean;
  /** Reminders sent so far (`remind.every`). */
  reminders?: number;
  /** A `Window` interruption (docs/change-control.md): when its window opens (its durable timer), why it is closed, and the time zone to read `opensAt` in. */
  opensAt?: string;
  reason?: string;
  timezone?: string;
  /** A policy gate's window or approvals: the teams whose members may break glass. */
  overrideTeams?: string[];
  /** Set once someone broke glass on it (state `Overridden`): who, why and when. */
  override?: Override;
  /**
   * Approval rules (docs/manual-steps.md#approval-rules), each with its approvals so far: all must be
   * met. A step's `rules`, or its `requiredApprovals` as one rule (which keeps `requiredApprovals`).
   */
  rules?: RuleProgress[];
  /** Each rule only once the ones before it are met. */
  ordered?: boolean;
  /** One person's approval counts toward one rule only. */
  distinctPeople?: boolean;
  /** With rules, while open: the rules still to meet and who (of the deployment's roster) may approve now. */
  remaining?: RemainingApprovals;
  /** What whoever proceeds is asked (docs/manual-steps.md#approver-inputs). */
  inputs?: ApproverInput[];
  /** The inputs of the proceed that completed it: the step's outputs. */
  inputValues?: InputValues;
  /** Proceeded to go on later: when the deployment goes on (docs/change-control.md#deploy-later). */
  runAt?: string;
  /** What is being decided (core/decision-context.ts): release notes, the previous deployment, changed variables. Absent in deployments triggered before it was kept, and in lifecycle ones. */
  context?: DecisionContext;
}

export interface Approval {
  user: Person;
  at: string;
  notes: string | null;
  /** The inputs this approver gave, when the step asks for some. */
  inputValues?: InputValues;
}

export type InterruptionAction =
  | { type: 'takeResponsibility'; takeOver?: boolean }
  | { type: DecisionType; notes?: string | undefined; inputs?: InputValues | undefined; runAt?: string | undefined };

export type RefusalType =
  | 'NOT_IN_TEAM'
  | 'SELF_APPROVAL'
  | 'ALREADY_APPROVED'
  | 'HELD_BY_OTHER'
  | 'NOT_TAKEN'
  | 'NOT_ASSIGNEE'
  | 'ALREADY_DECIDED'
  | 'NOTES_TOO_LONG'
  | 'NOT_AN_OPTION'
  | 'NOT_YOUR_TURN'
  | 'RULE_ALREADY_MET'
  | 'INVALID_INPUTS'
  | 'INVALID_RUN_AT';

/** The decisions each kind of interruption offers, and the state each one leaves it in. */
export const DECISIONS: Record<InterruptionKind, Partial<Record<DecisionType, InterruptionState>>> = {
  Manual: { proceed: 'Proceeded', abort: 'Aborted' },
  Approval: { proceed: 'Proceeded', abort: 'Aborted' },
  GuidedFailure: { retry: 'Retried', ignore: 'Ignored', fail: 'Failed' },
  // Nobody decides a window: it opens by its timer, or is passed by an override (docs/change-control.md).
  Window: {},
};

const decisionsOf = (interruption: Pick<Interruption, 'kind'>) => Object.keys(DECISIONS[interruption.kind]) as DecisionType[];

export type Decision =
  | { accepted: true; interruption: Interruption; changed: boolean; tookOverFrom: Person | null }
  | { accepted: false; refusal: RefusalType; detail: string };

/** The most a decision's notes may hold, in characters (docs/manual-steps.md#notes). */
export const MAX_NOTES = 4000;

/**
 * The one rule for a decision's notes, which every front end asks (the API's schema, the dashboard's
 * forms, the CLI, the Keptn event API) and `decide` asks again: notes are optional on every decision
 * (proceed or approve, abort or decline, retry, ignore, fail) and hold at most `MAX_NOTES`
 * characters. Undefined when they are fine; otherwise why not, in the words each front end shows.
 */
export function notesProblem(notes: string | undefined): string | undefined {
  if (notes === undefined || notes.length <= MAX_NOTES) return undefined;
  return `Notes may be at most ${MAX_NOTES} characters; these are ${notes.length}.`;
}

export const isOpen = (interruption: Interruption): boolean =>
  (OPEN_INTERRUPTION_STATES as readonly InterruptionState[]).includes(interruption.state);

export const describePerson = (person: Person): string => `${person.displayName} (${person.username})`;

/**
 * Who may take an interruption: its teams, who it excludes, its escalation, and its rules with their
 * progress (the API keeps what it last read, and reads again before refusing anyone); a policy
 * gate's kind and override teams (break-glass, docs/change-control.md).
 */
export type Responsibility = Pick<Interruption, 'responsibleTeams' | 'excludedUserIds' | 'escalateTo' | 'escalateAt' | 'escalated'> &
  Partial<Pick<Interruption, 'rules' | 'ordered' | 'distinctPeople' | 'requiredApprovals' | 'kind' | 'overrideTeams'>>;

// Who may act: the one rule the workflow (`decide`), the service (its check before any update), the
// dashboard, the CLI and the notifications (whom an email is for, who gets a one-click link) all ask.

/**
 * The teams it has escalated to (`remind.escalateTo`), once it has: the workflow's timer has fired
 * (`escalated`), or, for a caller outside the workflow that passes `now`, the clock is past `escalateAt`.
 */
export function escalatedTeamsOf(interruption: Responsibility, now?: string): string[] {
  const escalated = interruption.escalated === true || (now !== undefined && interruption.escalateAt !== undefined && now >= interruption.escalateAt);
  return escalated && interruption.escalateTo ? interruption.escalateTo : [];
}

/**
 * The teams that may take it now: its responsible teams, and once escalated the `escalateTo` teams
 * too; with approval rules, the teams of the rules open now (core/approval-rules.ts).
 */
export function teamsOf(interruption: Responsibility, now?: string): string[] {
  const escalated = escalatedTeamsOf(interruption, now);
  if (interruption.rules) return openTeams(interruption, escalated);
  return escalated.length > 0 ? [...new Set([...interruption.responsibleTeams, ...escalated])] : interruption.responsibleTeams;
}

/** Why the actor may not approve now by its rules (already approved, not in a rule's teams, not their turn, their rules met); undefined when they may or it has no rules. */
export function rulesRefusal(interruption: Responsibility & { step?: string }, actor: Actor, now?: string): RuleRefusal | undefined {
  if (!interruption.rules) return undefined;
  return ruleRefusal(interruption, interruption.step ?? 'this step', actor, escalatedTeamsOf(interruption, now));
}

/** Whoever may not take it whatever their teams and roles: whoever triggered it, with `preventSelfApproval`. */
export const isExcluded = (interruption: Pick<Interruption, 'excludedUserIds'>, who: Pick<Person, 'id'>): boolean =>
  interruption.excludedUserIds?.includes(who.id) === true;

/** A member of a responsible team, an admin, or (when the step names no team) any deployer. */
export function mayTakeResponsibility(interruption: Responsibility, actor: Actor, now?: string): boolean {
  // A window is nobody's to take: it opens by itself, or is overridden.
  if (interruption.kind === 'Window') return false;
  // Separation of duties holds for admins too: nobody approves what they triggered.
  if (isExcluded(interruption, actor)) return false;
  // With rules: only someone whose approval would count toward a rule open now.
  if (interruption.rules) return rulesRefusal(interruption, actor, now) === undefined;
  if (actor.roles.includes('admin')) return true;
  const teams = teamsOf(interruption, now);
  if (teams.length === 0) return actor.roles.includes('deployer');
  return actor.teams.some((team) => teams.includes(team));
}

/**
 * Whether the actor may act on it at all: they hold it (the assignee may still decide even if their
 * teams changed since they took it), or they may take it.
 */
export function mayAct(interruption: Responsibility & { assignee?: Person | null }, actor: Actor, now?: string): boolean {
  const holds = interruption.assignee != null && interruption.assignee.id === actor.id;
  return holds || mayTakeResponsibility(interruption, actor, now);
}

/** The actor may take it (or take it over) or submit it while it is open: the basis of `actionable=true` and of a one-click link. */
export function isActionableBy(interruption: Interruption, actor: Actor): boolean {
  return isOpen(interruption) && (mayAct(interruption, actor) || (interruption.kind === 'Window' && mayOverride(interruption, actor)));
}

/**
 * Whom it is for, out of `people` (an email channel's `responsible`): the members of the teams that
 * may take it now (escalated ones too), or, when it names no team, the deployers and admins; never
 * whoever it excludes. An admin outside those teams may act on it, but it is not addressed to them.
 */
export function responsibleOf<P extends Actor>(interruption: Responsibility, people: readonly P[]): P[] {
  // A window waits for its time; the only people who can act on it are its override teams.
  if (interruption.kind === 'Window') return people.filter((person) => person.teams.some((team) => interruption.overrideTeams?.includes(team)));
  // With rules: the people of the rules open now who have not approved yet (core/approval-rules.ts).
  if (interruption.rules) {
    const escalated = escalatedTeamsOf(interruption);
    return people.filter((person) => !isExcluded(interruption, person) && addresses(interruption, person, escalated));
  }
  const teams = teamsOf(interruption);
  const named = teams.length === 0
    ? (person: Actor) => person.roles.includes('deployer') || person.roles.includes('admin')
    : (person: Actor) => person.teams.some((team) => teams.includes(team));
  return people.filter((person) => !isExcluded(interruption, person) && named(person));
}

/**
 * What the actor may do with an interruption now, the rule behind every button and the API's
 * `actions`. The assignee may decide even if their teams changed since they took it, as `decide` allows.
 */
export function actionsFor(interruption: Interruption, actor: Actor): InterruptionActionName[] {
  if (!isOpen(interruption)) return [];
  // Break-glass comes besides whatever else the actor may do (docs/change-control.md).
  const override: InterruptionActionName[] = mayOverride(interruption, actor) ? ['override'] : [];
  if (interruption.assignee?.id === actor.id) return [...decisionsOf(interruption), ...override];
  if (!mayTakeResponsibility(interruption, actor)) return override;
  return [interruption.assignee ? 'takeOver' : 'takeResponsibility', ...override];
}

export function decide(interruption: Interruption, actor: Actor, action: InterruptionAction, now: string): Decision {
  const refuse = (refusal: RefusalType, detail: string): Decision => ({ accepted: false, refusal, detail });
  const { assignee } = interruption;
  const isAssignee = assignee !== null && assignee.id === actor.id;

  if (!isOpen(interruption)) {
    const by = interruption.assignee ? ` by ${describePerson(interruption.assignee)}` : '';
    return refuse('ALREADY_DECIDED', `"${interruption.step}" was already decided (${interruption.state}${by}); nothing is left to do.`);
  }

  if (interruption.kind === 'Window') {
    const when = interruption.opensAt ? ` at ${interruption.opensAt}` : '';
    return refuse('NOT_AN_OPTION', `"${interruption.step}" waits for its deployment window, which opens by itself${when}; nobody takes or decides it. A member of its override teams may override it with a reason.`);
  }

  // Whoever triggered it hears why, whatever they asked for. Retrying or ignoring a failure lets the
  // deployment go on as much as approving does.
  if (isExcluded(interruption, actor) && !isAssignee) {
    const what = interruption.kind === 'GuidedFailure' ? 'to decide whether it is retried, ignored or failed' : 'to approve it';
    return refuse('SELF_APPROVAL', `${describePerson(actor)} triggered this deployment, and "${interruption.step}" needs someone else ${what}.`);
  }

  if (action.type === 'takeResponsibility') {
    // With rules: already approved, not in a rule's teams, not their turn, or their rules met.
    const byRules = rulesRefusal(interruption, actor);
    if (byRules) return refuse(byRules.refusal, byRules.detail);
    if (!mayTakeResponsibility(interruption, actor)) return refuse('NOT_IN_TEAM', notInTeam(interruption, actor));
    if (interruption.approvals?.some((approval) => approval.user.id === actor.id)) {
      const { approvals = [], requiredApprovals = 1 } = interruption;
      return refuse('ALREADY_APPROVED', `${describePerson(actor)} has already approved "${interruption.step}"; it needs ${requiredApprovals - approvals.length} more, from someone else.`);
    }
    if (isAssignee) return { accepted: true, interruption, changed: false, tookOverFrom: null };
    if (assignee && !action.takeOver) {
      return refuse('HELD_BY_OTHER', `${describePerson(assignee)} is responsible for this step; ask them, or take it over.`);
    }
    return {
      accepted: true,
      changed: true,
      tookOverFrom: assignee,
      interruption: { ...interruption, state: 'Assigned', assignee: personOf(actor) },
    };
  }

  // Whoever may neither take it nor holds it hears only that, whatever they asked for.
  if (!mayAct(interruption, actor)) {
    const byRules = rulesRefusal(interruption, actor);
    return byRules ? refuse(byRules.refusal, byRules.detail) : refuse('NOT_IN_TEAM', notInTeam(interruption, actor));
  }
  const closesAs = DECISIONS[interruption.kind][action.type];
  if (closesAs === undefined) {
    return refuse('NOT_AN_OPTION', `"${interruption.step}" asks for ${decisionsOf(interruption).join(' or ')}, not ${action.type}.`);
  }
  const notesRefused = notesProblem(action.notes);
  if (notesRefused !== undefined) return refuse('NOTES_TOO_LONG', notesRefused);
  if (!assignee) {
    return refuse('NOT_TAKEN', `Nobody is responsible for "${interruption.step}" yet; take responsibility first, then ${action.type}.`);
  }
  if (!isAssignee) {
    return refuse(
      'NOT_ASSIGNEE',
      `Only ${describePerson(assignee)}, who is responsible for this step, may ${action.type}; take it over first if you must.`,
    );
  }
  const inputsRefused = decisionInputsProblem(interruption, action);
  if (inputsRefused !== undefined) return refuse('INVALID_INPUTS', inputsRefused);
  const inputValues = action.type === 'proceed' && interruption.inputs && action.inputs ? action.inputs : undefined;
  const later = runAtProblem(action.type, action.runAt, now);
  if (later !== undefined) return refuse('INVALID_RUN_AT', later);
  const runAt = action.type === 'proceed' && action.runAt !== undefined ? { runAt: action.runAt } : {};
  if (action.type === 'proceed' && interruption.rules) return approveByRules(interruption, actor, assignee, closesAs, action.notes, inputValues, now, runAt);
  const approvals = [...(interruption.approvals ?? [])];
  if (action.type === 'proceed' && (interruption.requiredApprovals ?? 1) > 1) {
    approvals.push({ user: assignee, at: now, notes: action.notes ?? null });
    if (approvals.length < interruption.requiredApprovals!) {
      // Back to Pending for the next person: no take-over needed.
      return { accepted: true, changed: true, tookOverFrom: null, interruption: { ...interruption, state: 'Pending', assignee: null, approvals } };
    }
  }
  return {
    accepted: true,
    changed: true,
    tookOverFrom: null,
    interruption: {
      ...interruption,
      state: closesAs,
      notes: action.notes ?? null,
      decidedAt: now,
      ...(approvals.length > 0 ? { approvals } : {}),
      ...(inputValues ? { inputValues } : {}),
      ...runAt,
    },
  };
}

/** How far ahead a proceed may set the deployment to go on (docs/change-control.md#deploy-later). */
export const MAX_RUN_AT_DAYS = 30;

/**
 * The one rule for a proceed's `runAt`, which the API, the dashboard, the CLI and the workflow ask:
 * a date-time, with proceed only, at most `MAX_RUN_AT_DAYS` days after `now`. The front ends also
 * refuse one that is not in the future (`future: true`); the workflow lets a time that passed while
 * the request travelled go at once. Undefined when it is fine; otherwise why not.
 */
export function runAtProblem(type: DecisionType, runAt: string | undefined, now: string, { future = false } = {}): string | undefined {
  if (runAt === undefined) return undefined;
  if (type !== 'proceed') return `runAt goes with proceed only, not ${type}.`;
  const at = Date.parse(runAt);
  if (Number.isNaN(at)) return `runAt must be a date-time such as 2026-12-07T09:00:00Z; "${runAt.slice(0, 40)}" is not one.`;
  if (future && at <= Date.parse(now)) return `runAt must be in the future; ${runAt} has passed. Leave it out to go on now.`;
  if (at > Date.parse(now) + MAX_RUN_AT_DAYS * 86_400_000) return `runAt may be at most ${MAX_RUN_AT_DAYS} days ahead; ${runAt} is later.`;
  return undefined;
}

/** Why a decision's inputs are refused (docs/manual-steps.md#approver-inputs): they go with proceed only, and must be what the step asks. */
export function decisionInputsProblem(interruption: Pick<Interruption, 'inputs'>, action: Extract<InterruptionAction, { notes?: unknown }>): string | undefined {
  if (action.type !== 'proceed') {
    return action.inputs && Object.keys(action.inputs).length > 0 ? `Inputs go with proceed only, not ${action.type}.` : undefined;
  }
  if (!interruption.inputs && action.inputs === undefined) return undefined;
  const problems = inputProblems(interruption.inputs ?? [], action.inputs);
  return problems.length > 0 ? `Invalid inputs: ${problems.map(({ name, reason }) => (name ? `${name}: ${reason}` : reason)).join('; ')}.` : undefined;
}

/**
 * The assignee's approval under rules: it counts toward the rules `countsToward` names; until every
 * rule is met the interruption returns to Pending for the next person, and the approval that meets
 * the last rule closes it.
 */
function approveByRules(
  interruption: Interruption,
  actor: Actor,
  assignee: Person,
  closesAs: InterruptionState,
  notes: string | undefined,
  inputValues: InputValues | undefined,
  now: string,
  runAt: { runAt?: string },
): Decision {
  const extra = escalatedTeamsOf(interruption);
  if (countsToward(interruption, actor, extra).length === 0) {
    const refused = rulesRefusal(interruption, actor) ?? { refusal: 'NOT_IN_TEAM' as const, detail: notInTeam(interruption, actor) };
    return { accepted: false, refusal: refused.refusal, detail: refused.detail };
  }
  const approval: Approval = { user: assignee, at: now, notes: notes ?? null, ...(inputValues ? { inputValues } : {}) };
  const rules = recordApproval(interruption, actor, approval, extra);
  const approvals = [...(interruption.approvals ?? []), approval];
  if (!allMet(rules)) {
    return { accepted: true, changed: true, tookOverFrom: null, interruption: { ...interruption, state: 'Pending', assignee: null, rules, approvals } };
  }
  return {
    accepted: true,
    changed: true,
    tookOverFrom: null,
    interruption: { ...interruption, state: closesAs, notes: notes ?? null, decidedAt: now, rules, approvals, ...(inputValues ? { inputValues } : {}), ...runAt },
  };
}

/** `approval 1 of 2` (one rule, as `requiredApprovals` always said), or what it counted toward and what is left; with the inputs given. */
export function describeApproval(before: Interruption, after: Interruption): string | undefined {
  if (!after.rules) return undefined;
  const given = after.approvals?.at(-1);
  const inputs = given?.inputValues ? `; inputs: ${describeInputs(given.inputValues)}` : '';
  if (after.rules.length === 1) return `approval ${after.rules[0]!.approvals.length} of ${after.rules[0]!.count}${inputs}`;
  const counted = after.rules.flatMap((rule, i) => (rule.approvals.length > (before.rules?.[i]?.approvals.length ?? 0) ? [`${describeRule(rule)}${rule.met ? ' (now met)' : ''}`] : []));
  const left = after.rules.filter((rule) => !rule.met).map(describeRule);
  return `approval ${after.approvals?.length ?? 0}: counts toward ${counted.join(' and ')}; ${left.length > 0 ? `still to meet: ${left.join(' and ')}` : 'every rule is met'}${inputs}`;
}

/** The durable timer fired before anyone decided. */
export function timeOut(interruption: Interruption, now: string): Interruption {
  return isOpen(interruption) ? { ...interruption, state: 'TimedOut', decidedAt: now } : interruption;
}

function personOf({ id, username, displayName, email }: Actor): Person {
  return email === undefined ? { id, username, displayName } : { id, username, displayName, email };
}

function notInTeam(interruption: Interruption, actor: Actor): string {
  const teams = teamsOf(interruption);
  const who = teams.length > 0 ? `members of ${teams.join(', ')}` : 'deployers';
  return `${describePerson(actor)} may not act on "${interruption.step}": only ${who} (or an admin) may.`;
}
